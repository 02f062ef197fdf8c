package idempotency_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/authn"
	"github.com/trellis-cloud/trellis/internal/httpapi/idempotency"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func writeError(w http.ResponseWriter, _ *http.Request, err error) {
	status := http.StatusInternalServerError
	if e, ok := err.(*errs.Error); ok && e.Kind == errs.KindConflict {
		status = http.StatusConflict
	} else if ok && e.Kind == errs.KindInvalid {
		status = http.StatusBadRequest
	}
	http.Error(w, err.Error(), status)
}

// node is one server process: the middleware over a handler that counts
// executions (a charge) and may block (a process that hangs or died).
type node struct {
	h     http.Handler
	runs  *atomic.Int64
	block chan struct{} // nil: answer at once
	in    chan struct{} // signalled when the handler starts
}

func newNode(st idempotency.Store, c clock.Clock, runs *atomic.Int64, block chan struct{}) *node {
	n := &node{runs: runs, block: block, in: make(chan struct{}, 8)}
	n.h = idempotency.Middleware(st, c, writeError)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.in <- struct{}{}
		if n.block != nil {
			<-n.block
		}
		k := n.runs.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = fmt.Fprintf(w, `{"charge":%d}`, k)
	}))
	return n
}

func call(h http.Handler, a actor.Actor, key, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/charges", strings.NewReader(body))
	r.Header.Set(idempotency.Header, key)
	r = r.WithContext(authn.WithActor(r.Context(), a))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func user(id string, role actor.Role) actor.Actor {
	return actor.Actor{Type: actor.TypeAPIKey, ID: id, OrgID: "org-1", OrgPath: "/p/org-1/", OrgKind: actor.Customer, Role: role}
}

// A process that took a key and then stopped answering (killed, hung) must
// not lock the key until the purge: once its lease ran out, a retry on
// another node takes the key over and runs the request once; the first
// process, should it come back, cannot overwrite the result.
func TestIdempotencyLeaseTakeover(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		st := sqlstore.New(d)
		c := clock.NewFake(t0)
		var runs atomic.Int64
		hung := make(chan struct{})
		n1 := newNode(st, c, &runs, hung)
		n2 := newNode(st, c, &runs, nil)
		a := user("key-a", actor.Admin)

		first := make(chan *httptest.ResponseRecorder, 1)
		go func() { first <- call(n1.h, a, "k1", `{"amount":100}`) }()
		<-n1.in // node 1 holds the key and is stuck

		// While the lease is live, a retry is refused.
		c.Advance(time.Minute)
		if w := call(n2.h, a, "k1", `{"amount":100}`); w.Code != http.StatusConflict {
			t.Fatalf("retry during the lease: %d %s, want 409", w.Code, w.Body)
		}
		// After the lease, the retry takes the key over and runs once.
		c.Advance(idempotency.Lease)
		w := call(n2.h, a, "k1", `{"amount":100}`)
		if w.Code != http.StatusCreated || w.Body.String() != `{"charge":1}` {
			t.Fatalf("retry after the lease: %d %s, want 201 charge 1", w.Code, w.Body)
		}
		// A replay now returns the taken-over result.
		if w := call(n2.h, a, "k1", `{"amount":100}`); w.Code != http.StatusCreated || w.Body.String() != `{"charge":1}` ||
			w.Header().Get(idempotency.ReplayedHeader) != "true" {
			t.Fatalf("replay: %d %s %v", w.Code, w.Body, w.Header())
		}
		// The stuck process comes back: its result is not stored.
		close(hung)
		<-first
		if w := call(n2.h, a, "k1", `{"amount":100}`); w.Body.String() != `{"charge":1}` {
			t.Fatalf("the stale owner overwrote the result: %s", w.Body)
		}
		if got := runs.Load(); got != 2 {
			t.Fatalf("runs = %d, want 2 (the stuck one and the takeover)", got)
		}
	})
}

// Two retries that find the same expired lease: exactly one takes it.
func TestIdempotencyTakeoverOnce(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		st := sqlstore.New(d)
		c := clock.NewFake(t0)
		var runs atomic.Int64
		hung := make(chan struct{})
		defer close(hung)
		n1 := newNode(st, c, &runs, hung)
		a := user("key-a", actor.Admin)
		go call(n1.h, a, "k1", `{}`)
		<-n1.in
		c.Advance(idempotency.Lease + time.Second)

		// Both retries block inside the handler once they own the key, so
		// they overlap for certain.
		gate := make(chan struct{})
		n2 := newNode(st, c, &runs, gate)
		n3 := newNode(st, c, &runs, gate)
		res := make(chan int, 2)
		go func() { res <- call(n2.h, a, "k1", `{}`).Code }()
		go func() { res <- call(n3.h, a, "k1", `{}`).Code }()
		// One of them enters the handler; the other is refused.
		var codes []int
		for entered := false; !entered && len(codes) < 2; {
			select {
			case <-n2.in:
				entered = true
			case <-n3.in:
				entered = true
			case code := <-res:
				codes = append(codes, code)
			}
		}
		close(gate)
		for len(codes) < 2 {
			codes = append(codes, <-res)
		}
		// The loser either was refused (409, the winner still running) or
		// came after the winner finished (its replay): either way the
		// request ran exactly once.
		if got := runs.Load(); got != 1 {
			t.Fatalf("codes %v, the request ran %d times, want once", codes, got)
		}
		for _, code := range codes {
			if code != http.StatusCreated && code != http.StatusConflict {
				t.Fatalf("codes %v", codes)
			}
		}
	})
}

// A key protects the org's money, not one credential: the same user (org)
// with another key or token of the same rights replays; one with other
// rights is refused, never executed twice and never shown the response.
func TestIdempotencyScopedToOrg(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		st := sqlstore.New(d)
		c := clock.NewFake(t0)
		var runs atomic.Int64
		n := newNode(st, c, &runs, nil)
		if w := call(n.h, user("key-a", actor.Admin), "k1", `{"amount":100}`); w.Code != http.StatusCreated {
			t.Fatalf("first: %d %s", w.Code, w.Body)
		}
		w := call(n.h, user("key-b", actor.Admin), "k1", `{"amount":100}`)
		if w.Code != http.StatusCreated || w.Body.String() != `{"charge":1}` || w.Header().Get(idempotency.ReplayedHeader) != "true" {
			t.Fatalf("second key of the same org: %d %s, want the replay of charge 1", w.Code, w.Body)
		}
		w = call(n.h, user("key-c", actor.Staff), "k1", `{"amount":100}`)
		if w.Code != http.StatusConflict {
			t.Fatalf("a key of the same org with other rights: %d %s, want 409", w.Code, w.Body)
		}
		restricted := user("token-r", actor.Admin)
		restricted.BillingAccount = 7
		if w := call(n.h, restricted, "k1", `{"amount":100}`); w.Code != http.StatusConflict {
			t.Fatalf("a restricted token of the same user: %d %s, want 409", w.Code, w.Body)
		}
		other := user("key-x", actor.Admin)
		other.OrgID, other.OrgPath = "org-2", "/p/org-2/"
		if w := call(n.h, other, "k1", `{"amount":100}`); w.Code != http.StatusCreated || w.Body.String() != `{"charge":2}` {
			t.Fatalf("another org: %d %s, want its own charge", w.Code, w.Body)
		}
		if got := runs.Load(); got != 2 {
			t.Fatalf("runs = %d, want 2", got)
		}
	})
}
