// Package authn turns a request's credential into an actor.Actor in the
// request context, and applies the per-key rate limit. Each dialect says
// where its credential is and how its errors look.
package authn

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/middleware"
	"github.com/trellis-cloud/trellis/internal/httpapi/ratelimit"
)

// Authenticator checks a key (implemented by access.Service).
type Authenticator interface {
	Authenticate(ctx context.Context, key, requestID string) (actor.Actor, error)
}

type ctxKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a actor.Actor) context.Context {
	return context.WithValue(ctx, ctxKey{}, a)
}

// ActorFrom returns the actor of an authenticated request.
func ActorFrom(ctx context.Context) (actor.Actor, bool) {
	a, ok := ctx.Value(ctxKey{}).(actor.Actor)
	return a, ok
}

// Bearer extracts the key from "Authorization: Bearer <key>". A bare key
// without the scheme is accepted too, since some clients of the vendor APIs
// send it that way.
func Bearer(r *http.Request) string {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return h
}

// Config configures Middleware.
type Config struct {
	Auth    Authenticator
	Limiter *ratelimit.Limiter // nil: no limit
	// Failures limits failed authentications per client address, before
	// the key is looked up (nil: no limit).
	Failures *Failures
	// Credential extracts the key from a request.
	Credential func(*http.Request) string
	// Public reports requests that need no key (e.g. a public listing).
	Public func(*http.Request) bool
	// WriteError writes an error in the dialect's shape.
	WriteError func(w http.ResponseWriter, r *http.Request, err error)
}

// Middleware authenticates every request (except public ones), refuses
// clients with too many failed authentications before the lookup,
// rate-limits per key, and stores the actor in the context.
func Middleware(cfg Config) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if cfg.Public != nil && cfg.Public(r) {
				next.ServeHTTP(w, r)
				return
			}
			if err := cfg.Failures.Check(w, r); err != nil {
				cfg.WriteError(w, r, err)
				return
			}
			reqID := middleware.RequestIDFrom(r.Context())
			a, err := cfg.Auth.Authenticate(r.Context(), cfg.Credential(r), reqID)
			if err != nil {
				cfg.Failures.Record(r, err)
				if errs.Is(err, errs.KindUnauthenticated) {
					w.Header().Set("WWW-Authenticate", `Bearer realm="trellis"`)
				}
				cfg.WriteError(w, r, err)
				return
			}
			if cfg.Limiter != nil {
				if ok, wait := cfg.Limiter.Allow(a.ID); !ok {
					w.Header().Set("Retry-After", strconv.Itoa(ratelimit.RetryAfterSeconds(wait)))
					cfg.WriteError(w, r, errs.New(errs.KindRateLimited, "too many requests for this API key; retry later"))
					return
				}
			}
			next.ServeHTTP(w, r.WithContext(WithActor(r.Context(), a)))
		})
	}
}
