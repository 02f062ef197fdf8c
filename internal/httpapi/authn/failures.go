package authn

import (
	"net"
	"net/http"
	"strconv"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/ratelimit"
)

// Failures limits failed authentications per client address: once a
// client has spent its budget of failures, its requests are refused with
// 429 before any key is looked up, so guessing keys costs the database
// nothing and proceeds at the refill rate at most. Successful requests
// spend nothing. A nil *Failures limits nothing.
//
// The address is the connection's peer (RemoteAddr): forwarding headers
// are not trusted, since any client can set them.
type Failures struct{ lim *ratelimit.Limiter }

// NewFailures returns a guard over lim (one bucket per client address; a
// token per failed authentication). A nil lim limits nothing.
func NewFailures(lim *ratelimit.Limiter) *Failures {
	if lim == nil {
		return nil
	}
	return &Failures{lim: lim}
}

// Check returns a KindRateLimited error, and sets Retry-After on w, when
// r's client has no failures left; call it before looking the key up.
func (f *Failures) Check(w http.ResponseWriter, r *http.Request) error {
	if f == nil {
		return nil
	}
	blocked, wait := f.lim.Blocked(ClientAddr(r))
	if !blocked {
		return nil
	}
	w.Header().Set("Retry-After", strconv.Itoa(ratelimit.RetryAfterSeconds(wait)))
	return errs.New(errs.KindRateLimited, "too many failed authentications from this address; retry later")
}

// Record counts err against r's client when it is a failed authentication.
func (f *Failures) Record(r *http.Request, err error) {
	if f == nil || !errs.Is(err, errs.KindUnauthenticated) {
		return
	}
	f.lim.Allow(ClientAddr(r))
}

// ClientAddr is the host part of r.RemoteAddr (the whole of it when it has
// no port).
func ClientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
