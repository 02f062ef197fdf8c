package impossiblecloud_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// The vendor walkthrough's sample responses, verbatim.
const (
	sampleContractList = `[{"id":"606f031c-0f85-4444-8c7d-4a8f1ede7cd3","distributorId":"7e1fe78d-3f61-4215-8c48-eda9e1b08f13","reservedCapacity":100000000000000,"allocatedCapacity":53000000000000,"costStorageGBCents":"100","costEgressGBCents":"0","currency":"EUR","details":"Impossible Cloud Test Contract"},
 {"id":"bb0a102d-ad4b-4738-b405-561add97abbb","distributorId":"7e1fe78d-3f61-4215-8c48-eda9e1b08f13","reservedCapacity":10000000000000,"allocatedCapacity":0,"costStorageGBCents":"100","costEgressGBCents":"0","currency":"EUR","details":"Another test contract"}]`

	samplePartners = `[{"id":"e37e6c0f-688e-4da4-8717-a52b48bcee3d","distributorContractId":"606f031c-0f85-4444-8c7d-4a8f1ede7cd3","name":"Test partner","allocatedCapacity":5000000000000},
 {"id":"e4985686-c089-46fd-ae82-0af7ce2888bf","distributorContractId":"606f031c-0f85-4444-8c7d-4a8f1ede7cd3","name":"Another test partner","allocatedCapacity":0}]`

	sampleCreatePartner = `{"allocatedCapacity": 5000000000000, "distributorContractId": "606f031c-0f85-4444-8c7d-4a8f1ede7cd3", "name": "New partner company"}`
)

// TestWalkthrough replays the vendor walkthrough with distributor A's key
// and compares the answers with the documented ones, JSON types included
// (capacities are integers, prices strings of cents).
func TestWalkthrough(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		key := f.key.distAdmin

		// GET /contract/list: exactly the sample.
		resp := f.do(t, key, "GET", "/contract/list", nil)
		if wantStatus(t, resp, 200) {
			if diff := cmp.Diff(decodeAny(t, []byte(sampleContractList)), decodeAny(t, resp.Body)); diff != "" {
				t.Errorf("GET /contract/list (-sample +got):\n%s", diff)
			}
		}

		// GET /contract/{id}/partners: contains the sample partners with
		// the documented fields (we also send allowOverdraft, and the
		// fixture's third partner makes up the 53 TB allocated).
		resp = f.do(t, key, "GET", "/contract/"+contractA1+"/partners", nil)
		if wantStatus(t, resp, 200) {
			got := map[string]map[string]any{}
			for _, p := range decodeAny(t, resp.Body).([]any) {
				m := p.(map[string]any)
				got[m["id"].(string)] = m
			}
			for _, s := range decodeAny(t, []byte(samplePartners)).([]any) {
				want := s.(map[string]any)
				g, ok := got[want["id"].(string)]
				if !ok {
					t.Errorf("partner %v missing from %s", want["id"], resp.Body)
					continue
				}
				for field, v := range want {
					if diff := cmp.Diff(v, g[field]); diff != "" {
						t.Errorf("partner %v field %s (-sample +got):\n%s", want["id"], field, diff)
					}
				}
				if g["allowOverdraft"] != false {
					t.Errorf("partner %v: allowOverdraft = %v, want false", want["id"], g["allowOverdraft"])
				}
			}
		}

		// POST /partner with the documented body.
		resp = f.do(t, key, "POST", "/partner", sampleCreatePartner)
		if !wantStatus(t, resp, 201) {
			t.FailNow()
		}
		created := decode[partnerJSON](t, resp)
		if !ids.Valid(created.ID) {
			t.Errorf("created partner id %q is not a UUID", created.ID)
		}
		want := partnerJSON{ID: created.ID, DistributorContractID: contractA1, Name: "New partner company", AllocatedCapacity: 5 * TB}
		if diff := cmp.Diff(want, created); diff != "" {
			t.Errorf("POST /partner (-want +got):\n%s", diff)
		}
		if alloc, _ := f.allocation(t, contractA1); alloc != 58*TB {
			t.Errorf("contract allocation after POST = %d, want %d", alloc, 58*TB)
		}

		// PUT /partner/{id}: the three documented bodies, in order. PUT
		// merges: a field left out keeps its value.
		for _, step := range []struct {
			name, body string
			wantName   string
			wantCap    int64
		}{
			{"rename keeps capacity", `{"name": "Renamed partner"}`, "Renamed partner", 5 * TB},
			{"resize keeps name", `{"allocatedCapacity": 250000000}`, "Renamed partner", 250000000},
			{"both", `{"allocatedCapacity": 250000000, "name": "Renamed partner"}`, "Renamed partner", 250000000},
		} {
			t.Run(step.name, func(t *testing.T) {
				resp := f.do(t, key, "PUT", "/partner/"+created.ID, step.body)
				if !wantStatus(t, resp, 200) {
					return
				}
				want := partnerJSON{ID: created.ID, DistributorContractID: contractA1, Name: step.wantName, AllocatedCapacity: step.wantCap}
				if diff := cmp.Diff(want, decode[partnerJSON](t, resp)); diff != "" {
					t.Errorf("PUT response (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(want, decode[partnerJSON](t, f.do(t, key, "GET", "/partner/"+created.ID, nil))); diff != "" {
					t.Errorf("GET after PUT (-want +got):\n%s", diff)
				}
				if alloc, sum := f.allocation(t, contractA1); alloc != 53*TB+step.wantCap || alloc != sum {
					t.Errorf("contract allocated %d, partners sum %d, want both %d", alloc, sum, 53*TB+step.wantCap)
				}
			})
		}
	})
}
