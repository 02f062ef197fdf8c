package impossiblecloud_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// TestIdempotency: a retried POST /partner with the same Idempotency-Key
// and body replays the first answer and creates (and allocates) once; the
// same key with another body is refused.
func TestIdempotency(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		body := map[string]any{"allocatedCapacity": 1 * TB, "distributorContractId": contractA2, "name": "Idempotent partner"}
		withKey := func(k string) http.Header { return http.Header{"Idempotency-Key": {k}} }
		partners := func(t *testing.T) []partnerJSON {
			t.Helper()
			return decode[[]partnerJSON](t, f.do(t, f.key.distViewer, "GET", "/contract/"+contractA2+"/partners", nil))
		}

		first := f.send(t, req{key: f.key.distStaff, method: "POST", path: "/partner", body: body, header: withKey("create-1")})
		if !wantStatus(t, first, 201) {
			t.FailNow()
		}
		for _, c := range []struct {
			name     string
			idemKey  string
			body     any
			status   int
			replayed bool
		}{
			{"same key and body", "create-1", body, 201, true},
			{"same key and body again", "create-1", body, 201, true},
			{"same key, other body", "create-1", map[string]any{"allocatedCapacity": 2 * TB, "distributorContractId": contractA2, "name": "Other"}, 409, false},
		} {
			t.Run(c.name, func(t *testing.T) {
				resp := f.send(t, req{key: f.key.distStaff, method: "POST", path: "/partner", body: c.body, header: withKey(c.idemKey)})
				if c.status == 201 {
					wantStatus(t, resp, 201)
					if !bytes.Equal(resp.Body, first.Body) {
						t.Errorf("replay body %s, want the first answer %s", resp.Body, first.Body)
					}
				} else {
					wantError(t, resp, c.status, "Idempotency-Key")
				}
				if got := resp.Header.Get("Idempotent-Replayed") == "true"; got != c.replayed {
					t.Errorf("Idempotent-Replayed = %q, want replayed %t", resp.Header.Get("Idempotent-Replayed"), c.replayed)
				}
				if ps := partners(t); len(ps) != 1 || ps[0].Name != "Idempotent partner" {
					t.Errorf("partners of the contract: %+v, want just the first", ps)
				}
				if alloc, sum := f.allocation(t, contractA2); alloc != 1*TB || sum != 1*TB {
					t.Errorf("contract allocated %d (partners %d), want %d once", alloc, sum, 1*TB)
				}
			})
		}

		// The same key on another route is another request, refused too.
		p := decode[partnerJSON](t, first)
		wantError(t, f.send(t, req{key: f.key.distStaff, method: "PUT", path: "/partner/" + p.ID,
			body: map[string]any{"name": "Renamed"}, header: withKey("create-1")}), 409, "Idempotency-Key")
		// A new key is a new request.
		resp := f.send(t, req{key: f.key.distStaff, method: "POST", path: "/partner", body: body, header: withKey("create-2")})
		if wantStatus(t, resp, 201) && bytes.Equal(resp.Body, first.Body) {
			t.Errorf("a new key replayed the first answer")
		}
		if alloc, _ := f.allocation(t, contractA2); alloc != 2*TB {
			t.Errorf("contract allocated %d after a second key, want %d", alloc, 2*TB)
		}
	})
}
