package itglobal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/authn"
	"github.com/trellis-cloud/trellis/internal/httpapi/idempotency"
	"github.com/trellis-cloud/trellis/internal/httpapi/middleware"
	"github.com/trellis-cloud/trellis/internal/httpapi/problem"
	"github.com/trellis-cloud/trellis/internal/httpapi/ratelimit"
)

// Roles of the partner keys (the seed's two keys).
const (
	RoleUser    = "User"
	RoleFinance = "Finance"
)

// FeatureSimpleOneSupport gates the SimpleOne Users operations.
const FeatureSimpleOneSupport = "SimpleOneSupport"

// Deps are the services the dialect calls, each through an interface this
// package owns (deps.go).
type Deps struct {
	Auth         Authenticator // reseller keys (*reseller.Service)
	Reseller     Reseller      // accounts, projects, companies, invoices, payments, operations
	Orders       Orders        // catalogs and orders
	Support      Support       // tickets and reviews
	Idem         idempotency.Store
	Clock        clock.Clock
	Limiter      *ratelimit.Limiter // nil: no rate limit
	AuthFailures *authn.Failures    // failed authentications per client address; nil: no limit
	Logger       *slog.Logger       // where the causes of 5xx answers go; nil discards
}

// RouteInfo describes one operation for docs and tests.
type RouteInfo struct {
	ID       string   // the seed inventory's id, "IT-1" … "IT-54"
	Method   string   // GET, POST, PUT or DELETE
	Path     string   // below Prefix, e.g. "/projects/{id}/companies"
	Roles    []string // the key roles that may call it
	Feature  string   // a partner feature it needs, or ""
	Inferred bool     // the seed does not show this method and path
	Summary  string
}

// Routes lists every operation of the dialect, in the seed's order.
func Routes() []RouteInfo {
	rs := (&server{}).routes()
	out := make([]RouteInfo, len(rs))
	for i, r := range rs {
		out[i] = RouteInfo{ID: r.id, Method: r.method, Path: r.path, Roles: slices.Clone(r.roles),
			Feature: r.feature, Inferred: r.inferred, Summary: r.summary}
	}
	return out
}

type server struct {
	d   Deps
	log *slog.Logger
}

// call is one request as a handler sees it.
type call struct {
	w http.ResponseWriter
	r *http.Request
	a actor.Actor
}

// route is one row of the route table.
type route struct {
	id, method, path string
	roles            []string
	feature          string
	inferred         bool
	summary          string
	h                func(ctx context.Context, c *call) (any, error)
}

func newMux(s *server) *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.HandleFunc(rt.method+" "+Prefix+rt.path, s.serve(rt))
	}
	return mux
}

// Handler serves every path under Prefix.
func Handler(d Deps) http.Handler {
	s := &server{d: d, log: d.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	mux := newMux(s)
	return middleware.Chain(s.unknownRoutes(mux),
		authn.Middleware(authn.Config{
			Auth:       d.Auth,
			Limiter:    d.Limiter,
			Failures:   d.AuthFailures,
			Credential: authn.Bearer,
			WriteError: s.writeError,
		}),
		idempotency.Middleware(d.Idem, d.Clock, s.writeError),
	)
}

// RouteOf returns a function naming the route pattern of a request under
// Prefix (for metrics and logs), or "" for none. It needs no services.
func RouteOf() func(*http.Request) string {
	mux := newMux(&server{})
	return func(r *http.Request) string {
		_, pattern := mux.Handler(r)
		return pattern
	}
}

// serve runs one operation: role, feature, handler, JSON answer.
func (s *server) serve(rt route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, ok := authn.ActorFrom(r.Context())
		if !ok {
			s.writeError(w, r, errs.New(errs.KindUnauthenticated, "missing API key"))
			return
		}
		if !slices.Contains(rt.roles, a.ResellerRole) {
			s.writeError(w, r, errs.Newf(errs.KindForbidden, "this operation needs a key with the %s role", strings.Join(rt.roles, " or ")))
			return
		}
		if rt.feature != "" {
			if err := s.d.Reseller.RequireFeature(r.Context(), a, rt.feature); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		v, err := rt.h(r.Context(), &call{w: w, r: r, a: a})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, v)
	}
}

// unknownRoutes answers requests no route matches in the dialect's shape:
// 405 with Allow when the path exists with other methods, else 404.
func (s *server) unknownRoutes(mux *http.ServeMux) http.Handler {
	return middleware.UnknownRoutes(mux, func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errs.New(errs.KindNotFound, "no such route: "+r.Method+" "+r.URL.Path))
	}, func(w http.ResponseWriter, r *http.Request, allowed []string) {
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: errorDetail{Code: "MethodNotAllowed",
			Message: "method not allowed; use " + strings.Join(allowed, ", ")}})
	})
}

// ---- answers ----

// result is the seed's envelope.
type result struct {
	Result any `json:"Result"`
}

func ok(v any) (any, error) { return result{Result: v}, nil }

type errorBody struct {
	Error errorDetail `json:"Error"`
}

type errorDetail struct {
	Code    string `json:"Code"`
	Message string `json:"Message"`
	Field   string `json:"Field,omitempty"`
}

// codes name the error kinds in the dialect's PascalCase.
var codes = map[errs.Kind]string{
	errs.KindInternal: "Internal", errs.KindInvalid: "Invalid", errs.KindNotFound: "NotFound",
	errs.KindConflict: "Conflict", errs.KindPrecondition: "Precondition", errs.KindForbidden: "Forbidden",
	errs.KindUnauthenticated: "Unauthenticated", errs.KindCapacityExceeded: "CapacityExceeded",
	errs.KindQuotaExceeded: "QuotaExceeded", errs.KindInsufficientFunds: "InsufficientFunds",
	errs.KindTooLarge: "TooLarge", errs.KindRateLimited: "RateLimited", errs.KindUnavailable: "Unavailable",
	errs.KindPaymentDeclined: "PaymentDeclined",
}

// writeError writes {"Error": {"Code", "Message", "Field"}} with the status
// of problem's kind table. The cause of a 5xx answer is logged, never sent.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	kind := errs.KindOf(err)
	status := problem.Status(kind)
	reqID := middleware.RequestIDFrom(r.Context())
	if status >= 500 && s.log != nil {
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "request_id", reqID, "err", err)
	}
	d := errorDetail{Code: codes[kind], Message: problem.Message(err, reqID)}
	if d.Code == "" {
		d.Code = "Internal"
	}
	var e *errs.Error
	if status < 500 && errors.As(err, &e) {
		d.Field = e.Field
	}
	writeJSON(w, status, errorBody{Error: d})
}

// WriteError writes err in the dialect's shape outside its handler (the
// main server's panic recovery and unknown routes).
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	(&server{}).writeError(w, r, err)
}

// writeJSON writes v as JSON without HTML escaping.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		_ = json.NewEncoder(&buf).Encode(errorBody{Error: errorDetail{Code: "Internal", Message: "internal error"}})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
