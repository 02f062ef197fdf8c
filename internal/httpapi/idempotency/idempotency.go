// Package idempotency makes every mutating request safe to retry: a request
// carrying an Idempotency-Key is executed once per key and principal; a
// replay returns the stored response, and the same key with a different
// request is refused.
package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"time"

	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/authn"
	"github.com/trellis-cloud/trellis/internal/httpapi/problem"
)

// Header is the request header carrying the key.
const Header = "Idempotency-Key"

// ReplayedHeader marks a replayed response.
const ReplayedHeader = "Idempotent-Replayed"

// TTL is how long keys are remembered.
const TTL = 24 * time.Hour

// Record is a stored request and, once done, its response.
type Record struct {
	RequestHash string
	Status      int // 0 while the first request is still running
	ContentType string
	Body        []byte
	CreatedAt   time.Time
}

// Store keeps records.
type Store interface {
	// BeginIdempotency claims the key, or returns the existing record
	// (existing == true).
	BeginIdempotency(ctx context.Context, principalID, key, requestHash string, now time.Time) (rec Record, existing bool, err error)
	CompleteIdempotency(ctx context.Context, principalID, key string, status int, contentType string, body []byte) error
	AbandonIdempotency(ctx context.Context, principalID, key string) error
	PurgeIdempotency(ctx context.Context, before time.Time) (int, error)
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

			rec, existing, err := st.BeginIdempotency(r.Context(), a.ID, key, hash, c.Now())
			if err != nil {
				writeError(w, r, err)
				return
			}
			if existing {
				switch {
				case rec.RequestHash != hash:
					writeError(w, r, &errs.Error{Kind: errs.KindConflict, Field: Header, Msg: "was already used with a different request"})
				case rec.Status == 0:
					writeError(w, r, &errs.Error{Kind: errs.KindConflict, Field: Header, Msg: "a request with this key is still in progress"})
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
			rw := &recorder{ResponseWriter: w, status: http.StatusOK}
			done := false
			defer func() {
				// Abandon on a panic or a server error, so a retry runs again.
				if !done {
					_ = st.AbandonIdempotency(context.WithoutCancel(r.Context()), a.ID, key)
				}
			}()
			next.ServeHTTP(rw, r)
			if rw.status >= 500 {
				return
			}
			if err := st.CompleteIdempotency(context.WithoutCancel(r.Context()), a.ID, key, rw.status,
				rw.Header().Get("Content-Type"), rw.body.Bytes()); err == nil {
				done = true
			}
		})
	}
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
