package idcloudhost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/catalog"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/authn"
	"github.com/trellis-cloud/trellis/internal/httpapi/decode"
	"github.com/trellis-cloud/trellis/internal/httpapi/idempotency"
	"github.com/trellis-cloud/trellis/internal/httpapi/middleware"
	"github.com/trellis-cloud/trellis/internal/httpapi/problem"
	"github.com/trellis-cloud/trellis/internal/httpapi/ratelimit"
)

// Prefix is where the dialect is mounted on the main listener.
const Prefix = "/idcloudhost/v1"

// DedicatedPrefix is where a dedicated listener serves the dialect: the
// vendor's own layout (https://api.idcloudhost.com/v1/...), so a client
// only changes the host.
const DedicatedPrefix = "/v1"

// SpecPath is where the OpenAPI document is served.
const SpecPath = "/idcloudhost/openapi.json"

// Deps are the services the dialect calls, each through an interface this
// package owns.
type Deps struct {
	Identity     Identity
	Locations    Locations
	Billing      Billing
	Payments     Payments
	Pricing      Pricing
	Catalog      Catalog  // host pools, images, VM parameters (catalog.go)
	Compute      Compute  // VMs, VM storage, replicas, block disks (compute.go)
	Network      Network  // networks, floating IPs, load balancers (network.go)
	Services     Services // managed service packages (services.go)
	Idem         idempotency.Store
	Clock        clock.Clock
	Limiter      *ratelimit.Limiter // nil: no rate limit
	AuthFailures *authn.Failures    // failed authentications per client address; nil: no limit
	Logger       *slog.Logger       // where the causes of 5xx answers go; nil discards

	Buckets       Buckets       // object-storage buckets and the S3 URL (storage.go)
	ObjectStorage ObjectStorage // S3 users and keys (storage.go)
}

// server holds the dependencies of the handlers.
type server struct {
	d   Deps
	log *slog.Logger
}

// call is one request as a handler sees it: the caller, the parameter bag
// and, on location-scoped routes, the location (the default one when the
// URL has no slug).
type call struct {
	r        *http.Request
	a        actor.Actor
	p        decode.Values
	location catalog.Location
}

// op is one operation of the dialect.
type op struct {
	method, path string
	// located routes act in a location: the URL's /{location}/ slug or
	// the default location (ID-amb-1). Every route accepts the slug (the
	// vendor's clients put it on every path); the others ignore it once it
	// is known to exist.
	located bool
	// pathParams are the route's path parameter names.
	pathParams []string
	h          func(ctx context.Context, c *call) (any, error)
}

// ops lists every route. Handlers only translate: read the bag, call one
// service method, shape the result.
func (s *server) ops() []op {
	var out []op
	out = append(out, s.identityOps()...)
	out = append(out, s.billingOps()...)
	out = append(out, s.paymentOps()...)
	out = append(out, s.chargingOps()...)
	out = append(out, s.catalogOps()...)
	out = append(out, s.computeOps()...)
	out = append(out, s.networkOps()...)
	out = append(out, s.servicesOps()...)
	out = append(out, s.storageOps()...)
	return out
}

// newMux registers every operation under base.
func newMux(s *server, base string) *http.ServeMux {
	mux := http.NewServeMux()
	for _, o := range s.ops() {
		mux.HandleFunc(o.method+" "+base+o.path, s.serve(o))
	}
	return mux
}

// topSegments are the first path segments of the dialect's routes; any
// other first segment is a location slug.
var topSegments = map[string]bool{"user-resource": true, "network": true, "storage": true, "payment": true,
	"config": true, "api": true, "pricing": true, "charging": true, "credit": true, "ip_addresses": true}

type slugKey struct{}

// stripLocation serves /{slug}/rest as /rest with the slug in the request
// context, so every route accepts a location (ID-amb-1; clients of the
// vendor's API put it on every path) without a second set of patterns.
// Only a syntactically valid slug is stripped; whether it exists is
// checked by the route (404 for an unknown one), after authentication.
func stripLocation(base string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r2, ok := withoutSlug(base, r); ok {
			r = r2
		}
		next.ServeHTTP(w, r)
	})
}

// withoutSlug returns r with its location slug moved from the path to the
// context, or false when the path has none.
func withoutSlug(base string, r *http.Request) (*http.Request, bool) {
	rest, ok := strings.CutPrefix(r.URL.Path, base+"/")
	if !ok {
		return nil, false
	}
	slug, tail, ok := strings.Cut(rest, "/")
	if !ok || topSegments[slug] || !catalog.ValidSlug(slug) {
		return nil, false
	}
	r2 := r.Clone(context.WithValue(r.Context(), slugKey{}, slug))
	r2.URL.Path, r2.URL.RawPath = base+"/"+tail, ""
	return r2, true
}

// LocationPattern names the location slug of a path under Prefix that
// carries one, valid or not ("/idcloudhost/v1/{location}/…", the rest of
// the path as sent), so a bad slug can be named "location"; "" otherwise.
func LocationPattern(r *http.Request) string {
	rest, ok := strings.CutPrefix(r.URL.Path, Prefix+"/")
	if !ok {
		return ""
	}
	slug, tail, ok := strings.Cut(rest, "/")
	if !ok || topSegments[slug] {
		return ""
	}
	return Prefix + "/{location}/" + tail
}

// Handler serves every path under Prefix.
func Handler(d Deps) http.Handler {
	s := &server{d: d, log: d.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	mux := newMux(s, Prefix)
	return middleware.Chain(stripLocation(Prefix, s.unknownRoutes(mux)),
		authn.Middleware(authn.Config{
			Auth:       d.Identity,
			Limiter:    d.Limiter,
			Failures:   d.AuthFailures,
			Credential: Credential,
			WriteError: s.writeError,
		}),
		idempotency.Middleware(d.Idem, d.Clock, s.writeError),
	)
}

// Credential is the token of a request: the "apikey" header (header names
// are case-insensitive).
func Credential(r *http.Request) string { return r.Header.Get("apikey") }

// Dedicated adapts root (the main handler, httpapi.New) to a dedicated
// listener: /v1/... is served as /idcloudhost/v1/... with the same
// middleware, metrics labels and error shapes; the spec is at
// /openapi.json; every other path is a 404 in the dialect's error shape.
func Dedicated(root http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		switch {
		case path == DedicatedPrefix || strings.HasPrefix(path, DedicatedPrefix+"/"):
			path = Prefix + strings.TrimPrefix(path, DedicatedPrefix)
		case path == "/openapi.json":
			path = SpecPath
		default:
			writeErrorBody(w, http.StatusNotFound, "no such route: "+r.Method+" "+r.URL.Path)
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawPath = path, ""
		r2.RequestURI = r2.URL.RequestURI()
		root.ServeHTTP(w, r2)
	})
}

// RouteOf returns a function naming the route pattern of a request under
// Prefix (for metrics and logs), or "" for none. It builds its own router,
// so it needs no services.
func RouteOf() func(*http.Request) string {
	mux := newMux(&server{}, Prefix)
	return func(r *http.Request) string {
		if r2, ok := withoutSlug(Prefix, r); ok {
			r = r2
		}
		_, pattern := mux.Handler(r)
		return pattern
	}
}

// serve runs one operation: parameters, location, handler, JSON answer.
func (s *server) serve(o op) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, ok := authn.ActorFrom(r.Context())
		if !ok {
			// authn.Middleware puts an actor on every route; never fall
			// through to a zero actor.
			s.writeError(w, r, errs.New(errs.KindUnauthenticated, "missing apikey header"))
			return
		}
		c := &call{r: r, a: a}
		var err error
		if c.p, err = readParams(r, o.pathParams...); err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := s.checkAccount(r.Context(), c); err != nil {
			s.writeError(w, r, err)
			return
		}
		// Every route checks a slug it was given; located routes also
		// resolve the default location when there is none.
		if slug, _ := r.Context().Value(slugKey{}).(string); o.located || slug != "" {
			if c.location, err = s.locationOf(r); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		v, err := o.h(r.Context(), c)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		switch v.(type) {
		case noContent:
			w.WriteHeader(http.StatusNoContent)
		case emptyOK:
			w.WriteHeader(http.StatusOK)
		default:
			writeJSON(w, http.StatusOK, v)
		}
	}
}

// checkAccount resolves a billing_account_id the request names, on every
// route, before the handler runs: another user's account is 404 and, for a
// token restricted to one account, any other account is 403 — also on
// routes that would otherwise ignore the parameter (has_active_campaigns)
// or read the account under another name (billing_resources' id). A
// malformed id is left to the handler, which names the field it expects.
func (s *server) checkAccount(ctx context.Context, c *call) error {
	var p accountParam
	if err := c.decode(&p); err != nil || p.BillingAccountID == 0 || s.d.Billing == nil {
		return nil
	}
	_, err := s.d.Billing.ResolveAccount(ctx, c.a, p.BillingAccountID)
	return err
}

// noContent is a handler result answered 204 with no body (disk and
// bucket deletes, ID-amb-21).
type noContent struct{}

// emptyOK is a handler result answered 200 with an empty body (network,
// floating IP, load balancer, target and rule deletes, ID-amb-21).
type emptyOK struct{}

// locationOf resolves the {location} slug of a URL (the default location
// when absent). An unknown slug is a 404.
func (s *server) locationOf(r *http.Request) (catalog.Location, error) {
	slug, _ := r.Context().Value(slugKey{}).(string)
	var (
		l   catalog.Location
		err error
	)
	if slug == "" {
		l, err = s.d.Locations.DefaultLocation(r.Context())
	} else {
		l, err = s.d.Locations.Location(r.Context(), slug)
	}
	if errs.Is(err, errs.KindNotFound) {
		if slug == "" {
			return l, errs.New(errs.KindNotFound, "no default location is configured")
		}
		return l, errs.Newf(errs.KindNotFound, "no such location: %s", slug)
	}
	return l, err
}

// unknownRoutes answers requests no route matches in the dialect's shape:
// 405 with Allow when the path exists with other methods, else 404.
func (s *server) unknownRoutes(mux *http.ServeMux) http.Handler {
	return middleware.UnknownRoutes(mux, func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errs.New(errs.KindNotFound, "no such route: "+r.Method+" "+r.URL.Path))
	}, func(w http.ResponseWriter, _ *http.Request, allowed []string) {
		writeErrorBody(w, http.StatusMethodNotAllowed, "method not allowed; use "+strings.Join(allowed, ", "))
	})
}

// ---- errors ----

// writeError writes the seed's error shape, {"errors": {"Error": "…"}},
// with the status of problem's kind table; a 403 has the gateway's
// consumer::resource_forbidden shape (ID-amb-20). The cause of a 5xx answer
// is logged, never sent.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := problem.Status(errs.KindOf(err))
	reqID := middleware.RequestIDFrom(r.Context())
	if status >= 500 && s.log != nil {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "request_id", reqID, "err", err)
	}
	msg := problem.Message(err, reqID)
	if status == http.StatusForbidden {
		writeJSON(w, status, map[string]any{"errors": map[string]any{"consumer::resource_forbidden": map[string]string{
			"msg": msg, "subtype": "resource_forbidden", "type": "consumer"}}})
		return
	}
	writeErrorBody(w, status, msg)
}

// WriteError writes err in the dialect's shape outside its handler (the
// main server's panic recovery and unknown routes).
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	(&server{}).writeError(w, r, err)
}

func writeErrorBody(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"errors": map[string]string{"Error": msg}})
}

// writeJSON writes v as JSON, without HTML escaping (URLs keep their "&").
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		_ = json.NewEncoder(&buf).Encode(map[string]any{"errors": map[string]string{"Error": "internal error"}})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func asErr(err error, target **errs.Error) bool { return errors.As(err, target) }
