package native

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/idempotency"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// TestIdempotency replays POST /orgs: the same key and body give the first
// response and one org; the same key with another body is refused.
func TestIdempotency(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d, apitest.NewValidator(t, Spec30()))
		count := func() int { return len(items(e.ok(t, http.StatusOK, "GET", "/orgs?kind=distributor", provAdmin, ""))) }
		before := count()
		post := func(key, body string) apitest.Response {
			r := e.req("POST", "/orgs", provAdmin, body)
			r.Header.Set(idempotency.Header, key)
			return e.do(t, r)
		}
		body := `{"parentId":"` + e.root + `","name":"Distributor C"}`

		first := post("k1", body)
		if first.Status != http.StatusCreated || first.Header.Get(idempotency.ReplayedHeader) != "" {
			t.Fatalf("first = %d %v %s", first.Status, first.Header, first.Body)
		}
		replay := post("k1", body)
		if replay.Status != http.StatusCreated || replay.Header.Get(idempotency.ReplayedHeader) != "true" ||
			!bytes.Equal(replay.Body, first.Body) || replay.Header.Get("Content-Type") != first.Header.Get("Content-Type") {
			t.Errorf("replay = %d %v %s, first %s", replay.Status, replay.Header, replay.Body, first.Body)
		}
		if got := count(); got != before+1 {
			t.Errorf("%d distributors after a replay, want %d", got, before+1)
		}

		wantProblem(t, post("k1", `{"parentId":"`+e.root+`","name":"Distributor D"}`), http.StatusConflict, idempotency.Header)
		if got := count(); got != before+1 {
			t.Errorf("%d distributors after a conflicting reuse, want %d", got, before+1)
		}

		// Another key is another request; an error is replayed as such.
		if r := post("k2", body); r.Status != http.StatusCreated || r.Header.Get(idempotency.ReplayedHeader) != "" {
			t.Errorf("new key = %d %v", r.Status, r.Header)
		}
		bad := `{"parentId":"` + unknownID + `","name":"x"}`
		if a, b := post("k3", bad), post("k3", bad); a.Status != http.StatusNotFound || b.Status != http.StatusNotFound ||
			b.Header.Get(idempotency.ReplayedHeader) != "true" {
			t.Errorf("4xx replay = %d, then %d %v", a.Status, b.Status, b.Header)
		}
	})
}
