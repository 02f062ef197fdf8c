// Package idempotency makes every mutating request safe to retry: a request
// carrying an Idempotency-Key is executed once per key and scope; a replay
// returns the stored response, and the same key with a different request is
// refused.
//
// Scope. A key protects the money and objects of an org, so it is scoped by
// the org of the caller (actor.OrgID), not by the credential: an
// idcloudhost user with two tokens, an ITGLOBAL partner with two keys, an
// Impossible Cloud distributor or a native operator with two keys all share
// one key space, and a retry through the other credential cannot charge
// twice. Inside the scope, the stored response is replayed only to a caller
// with the same rights as the one that ran it (same role, same billing
// account restriction, same reseller role — the "grant"), or to the same
// credential; any other caller of the org gets 409, so a key never runs
// twice and a response (an API key's secret, say) is never shown to a
// principal with fewer rights.
//
// Lease. A running request holds its key under a lease (Lease), renewed
// every RenewEvery while it runs. A retry while the lease is live gets 409
// at once (no waiting: the client decides when to retry). A process that
// died (kill -9, power loss) stops renewing; a retry of the same request
// after the lease ran out takes the key over by a conditional update on the
// row's owner, so of two concurrent retries exactly one runs, and the dead
// owner, should it come back, can neither complete nor abandon the key.
package idempotency

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/authn"
	"github.com/trellis-cloud/trellis/internal/httpapi/problem"
	"github.com/trellis-cloud/trellis/internal/idem"
)

// Header is the request header carrying the key.
const Header = "Idempotency-Key"

// ReplayedHeader marks a replayed response.
const ReplayedHeader = "Idempotent-Replayed"

// TTL is how long keys are remembered.
const TTL = 24 * time.Hour

// Lease is how long a running request holds its key without renewing it:
// twice the servers' 60 s write timeout, so a request that is alive renews
// it long before it runs out.
const Lease = 2 * time.Minute

// RenewEvery is how often a running request renews its lease.
const RenewEvery = 30 * time.Second

// Record, Claim and Store are the idempotency model the store implements
// (internal/idem, so the store does not import the HTTP layer).
type (
	Record = idem.Record
	Claim  = idem.Claim
	Store  = idem.Store
)

// Scope is the key space of a: its org (the credential when it has none).
func Scope(a actor.Actor) string {
	if a.OrgID != "" {
		return a.OrgID
	}
	return a.ID
}

// Grant is what a may do inside its scope, as far as a stored response is
// concerned: its role, its billing-account restriction and its reseller role.
func Grant(a actor.Actor) string {
	return string(a.Role) + "|" + strconv.FormatInt(a.BillingAccount, 10) + "|" + a.ResellerRole
}

// Middleware applies idempotency to POST, PUT, PATCH and DELETE requests
// that carry the header. It must run after authentication.
func Middleware(st Store, c clock.Clock, writeError func(http.ResponseWriter, *http.Request, error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key := r.Header.Get(Header)
			if key == "" || !mutating(r.Method) {
				next.ServeHTTP(w, r)
				return
			}
			a, ok := authn.ActorFrom(r.Context())
			if !ok {
				next.ServeHTTP(w, r)
				return
			}
			if len(key) > 255 {
				writeError(w, r, errs.Invalid(Header, "must be at most 255 characters"))
				return
			}
			body, err := io.ReadAll(r.Body)
			if err != nil {
				writeError(w, r, problem.FromDecode(err))
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			h := sha256.New()
			_, _ = io.WriteString(h, r.Method+" "+r.URL.RequestURI()+"\n")
			_, _ = h.Write(body)
			hash := hex.EncodeToString(h.Sum(nil))

			now := c.Now().Truncate(time.Microsecond) // what both databases keep
			claim := Claim{Scope: Scope(a), Key: key, PrincipalID: a.ID, Grant: Grant(a), RequestHash: hash,
				Owner: newOwner(), Now: now, LockedUntil: now.Add(Lease)}
			rec, existing, err := st.BeginIdempotency(r.Context(), claim)
			if err != nil {
				writeError(w, r, err)
				return
			}
			if existing {
				switch {
				case rec.RequestHash != hash:
					writeError(w, r, &errs.Error{Kind: errs.KindConflict, Field: Header, Msg: "was already used with a different request"})
				case rec.Status == 0:
					if wait := rec.LockedUntil.Sub(now); wait > 0 {
						w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
					}
					writeError(w, r, &errs.Error{Kind: errs.KindConflict, Field: Header, Msg: "a request with this key is still in progress"})
				case rec.PrincipalID != a.ID && rec.Grant != claim.Grant:
					writeError(w, r, &errs.Error{Kind: errs.KindConflict, Field: Header,
						Msg: "was already used by another credential of this account with other rights"})
				default:
					if rec.ContentType != "" {
						w.Header().Set("Content-Type", rec.ContentType)
					}
					w.Header().Set(ReplayedHeader, "true")
					w.WriteHeader(rec.Status)
					_, _ = w.Write(rec.Body)
				}
				return
			}
			stop := renew(st, c, claim)
			rw := &recorder{ResponseWriter: w, status: http.StatusOK}
			done := false
			defer func() {
				stop()
				// Abandon on a panic or a server error, so a retry runs again.
				if !done {
					_ = st.AbandonIdempotency(context.WithoutCancel(r.Context()), claim.Scope, key, claim.Owner)
				}
			}()
			next.ServeHTTP(rw, r)
			if rw.status >= 500 {
				return
			}
			if err := st.CompleteIdempotency(context.WithoutCancel(r.Context()), claim.Scope, key, claim.Owner, rw.status,
				rw.Header().Get("Content-Type"), rw.body.Bytes()); err == nil {
				done = true
			}
		})
	}
}

// renew keeps the lease of a running request alive until stop is called.
// It ticks on real time (a lease is about this process being alive) and
// sets the lease from the app clock, which is what retries compare with.
func renew(st Store, c clock.Clock, claim Claim) (stop func()) {
	quit := make(chan struct{})
	go func() {
		t := time.NewTicker(RenewEvery)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				_ = st.RenewIdempotency(context.Background(), claim.Scope, claim.Key, claim.Owner, c.Now().Add(Lease))
			}
		}
	}()
	return func() { close(quit) }
}

func newOwner() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func mutating(m string) bool {
	switch m {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	r.wrote = true
	r.body.Write(p)
	return r.ResponseWriter.Write(p)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
