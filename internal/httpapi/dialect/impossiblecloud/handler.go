package impossiblecloud

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/authn"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/impossiblecloud/icapi"
	"github.com/trellis-cloud/trellis/internal/httpapi/idempotency"
	"github.com/trellis-cloud/trellis/internal/httpapi/middleware"
	"github.com/trellis-cloud/trellis/internal/httpapi/problem"
	"github.com/trellis-cloud/trellis/internal/httpapi/ratelimit"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// Prefix is where the dialect is mounted.
const Prefix = "/impossiblecloud/v1"

// Deps are the services the dialect calls.
type Deps struct {
	Tenancy      *tenancy.Service
	Objstore     *objstore.Service
	Access       *access.Service
	Metering     *metering.Service
	Idem         idempotency.Store
	Clock        clock.Clock
	Limiter      *ratelimit.Limiter // nil: no rate limit
	AuthFailures *authn.Failures    // failed authentications per client address; nil: no limit
	Logger       *slog.Logger       // where the causes of 5xx answers go; nil discards
}

// Handler serves every path under Prefix.
func Handler(d Deps) http.Handler {
	s := &server{d: d, log: d.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	icapi.HandlerWithOptions(s, icapi.StdHTTPServerOptions{
		BaseURL:          Prefix,
		BaseRouter:       mux,
		ErrorHandlerFunc: s.paramError,
		Middlewares:      []icapi.MiddlewareFunc{s.canonicalUUIDs(uuidParams())},
	})
	mux.HandleFunc(Prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errs.New(errs.KindNotFound, "no such route: "+r.Method+" "+r.URL.Path))
	})
	public := map[string]bool{"GET " + Prefix + "/integration/regions/list": true}
	return middleware.Chain(mux,
		authn.Middleware(authn.Config{
			Auth:       d.Access,
			Limiter:    d.Limiter,
			Failures:   d.AuthFailures,
			Credential: authn.Bearer,
			Public: func(r *http.Request) bool {
				_, pattern := mux.Handler(r)
				return public[pattern]
			},
			WriteError: s.writeError,
		}),
		idempotency.Middleware(d.Idem, d.Clock, s.writeError),
	)
}

type server struct {
	d   Deps
	log *slog.Logger
}

var _ icapi.ServerInterface = (*server)(nil)

// who returns the authenticated actor (the middleware guarantees one on
// every non-public route).
func who(r *http.Request) actor.Actor {
	a, _ := authn.ActorFrom(r.Context())
	return a
}

// fieldNames maps the core's field names to this dialect's where they
// differ.
var fieldNames = map[string]string{
	"contractId": "distributorContractId",
}

// writeError writes the vendor's error shape: {"message": "…"}. The cause
// of a 5xx answer is logged, never sent.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *errs.Error
	if errors.As(err, &e) {
		if n, ok := fieldNames[e.Field]; ok {
			c := *e
			c.Field = n
			err = &c
		}
	}
	status := problem.Status(errs.KindOf(err))
	if status >= 500 {
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path,
			"request_id", middleware.RequestIDFrom(r.Context()), "err", err)
	}
	writeJSON(w, status, icapi.ErrorResponse{Message: problem.Message(err, middleware.RequestIDFrom(r.Context()))})
}

// paramError reports path and query parameters the generated router could
// not parse, naming the parameter.
func (s *server) paramError(w http.ResponseWriter, r *http.Request, err error) {
	var (
		format   *icapi.InvalidParamFormatError
		required *icapi.RequiredParamError
	)
	switch {
	case errors.As(err, &format):
		s.writeError(w, r, errs.Invalid(format.ParamName, "must be a UUID"))
	case errors.As(err, &required):
		s.writeError(w, r, errs.Invalid(required.ParamName, "is required"))
	default:
		s.writeError(w, r, errs.Wrap(errs.KindInvalid, err, "bad request parameters"))
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// reply writes v with status, or the error.
func (s *server) reply(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, v)
}

// RouteOf returns a function naming the route pattern of a request under
// Prefix (for metrics and logs), or "" for none. It builds its own router,
// so it needs no services.
func RouteOf() func(*http.Request) string {
	mux := http.NewServeMux()
	icapi.HandlerWithOptions(&server{}, icapi.StdHTTPServerOptions{BaseURL: Prefix, BaseRouter: mux})
	return func(r *http.Request) string {
		_, pattern := mux.Handler(r)
		return pattern
	}
}

// uuidParams lists, per route pattern, the path parameters the spec
// declares as UUIDs.
func uuidParams() map[string][]string {
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name   string `json:"name"`
				In     string `json:"in"`
				Schema struct {
					Format string `json:"format"`
				} `json:"schema"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(openapiJSON, &doc); err != nil {
		panic("impossiblecloud: embedded spec: " + err.Error()) // the spec is compiled in; a test loads it too
	}
	out := map[string][]string{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			for _, p := range op.Parameters {
				if p.In == "path" && p.Schema.Format == "uuid" {
					pattern := strings.ToUpper(method) + " " + Prefix + path
					out[pattern] = append(out[pattern], p.Name)
				}
			}
		}
	}
	return out
}

// canonicalUUIDs refuses UUID parameters in any but the canonical 8-4-4-4-12
// form. The generated router's parser also takes "{…}", "urn:uuid:…" and
// unhyphenated forms, which would reach the same object under another
// spelling than the spec allows.
func (s *server) canonicalUUIDs(params map[string][]string) icapi.MiddlewareFunc {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for _, name := range params[r.Pattern] {
				if !ids.Valid(r.PathValue(name)) {
					s.writeError(w, r, errs.Invalid(name, "must be a UUID"))
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}
