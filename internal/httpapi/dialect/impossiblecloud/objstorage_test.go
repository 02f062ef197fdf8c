package impossiblecloud_test

import (
	"crypto/rand"
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/sealed"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// newBox seals S3 secrets with a fresh key, as the server does.
func newBox(t *testing.T) objstore.Sealer {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	box, err := sealed.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// Creating a storage account, on the partner's and on the distributor's
// route, creates its S3 principal with one key, in the same transaction;
// the vendor's response stays as it is (no credentials), and the key's
// secret is stored sealed and opens.
func TestCreateAccountCreatesPrincipal(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		for _, c := range []struct {
			name, key, path string
		}{
			{"partner route", f.key.partnerAdmin, "/storage-account"},
			{"distributor route", f.key.distStaff, "/partner/" + partnerP + "/storage-accounts"},
		} {
			t.Run(c.name, func(t *testing.T) {
				email := f.email("s3")
				resp := f.do(t, c.key, "POST", c.path, accountBody("S3 tenant", email, 1*TB, false))
				if !wantStatus(t, resp, 201) {
					return
				}
				// decode refuses unknown fields: no credentials were added.
				a := decode[accountJSON](t, resp)
				p, keys, err := f.obj.AccountKeys(f.ctx, sys, partnerP, a.ClientAccountID)
				if err != nil {
					t.Fatal(err)
				}
				if p.ID != a.ClientAccountID || p.Kind != objstore.KindStorageAccount || p.StorageAccountID != a.ClientAccountID ||
					p.OrgID != partnerP || p.Email != email || p.DisplayName != "S3 tenant" || !p.CreatedAt.Equal(t0) {
					t.Errorf("principal: %+v", p)
				}
				if len(keys) != 1 || len(keys[0].AccessKey) != 20 || !strings.HasPrefix(keys[0].AccessKey, "TR") || len(keys[0].Secret) != 40 {
					t.Fatalf("keys: %+v", keys)
				}
				got, err := f.obj.ResolveKey(f.ctx, keys[0].AccessKey)
				if err != nil || got.Secret != keys[0].Secret || got.PrincipalID != p.ID {
					t.Errorf("the key resolves to %+v, %v", got, err)
				}
				stored, err := f.st.GetKey(f.ctx, keys[0].AccessKey)
				if err != nil || !strings.HasPrefix(stored.SealedSecret, "gcm:") || strings.Contains(stored.SealedSecret, keys[0].Secret) {
					t.Errorf("stored secret %q, %v", stored.SealedSecret, err)
				}
				// Reading the keys again creates nothing.
				if _, again, err := f.obj.AccountKeys(f.ctx, sys, partnerP, a.ClientAccountID); err != nil || len(again) != 1 || again[0] != keys[0] {
					t.Errorf("keys read again: %+v, %v", again, err)
				}
			})
		}
		// A refused creation leaves neither an account nor a principal.
		before := f.snapshot(t)
		principals := countPrincipals(t, d)
		wantError(t, f.do(t, f.key.partnerAdmin, "POST", "/storage-account", accountBody("Too big", f.email("big"), 10*TB, false)),
			400, "allocatedCapacity")
		if diff := diffSnapshots(before, f.snapshot(t)); diff != "" || countPrincipals(t, d) != principals {
			t.Errorf("a refused creation changed something: %s", diff)
		}
	})
}

func countPrincipals(t *testing.T, d *db.DB) int {
	t.Helper()
	var n int
	if err := d.Reader().QueryRow(`SELECT count(*) FROM s3_principals`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The regions list gives this server's S3 URL once the app has set it, as
// its s3, IAM and STS URL alike (the one endpoint the node serves, --s3);
// without one, the URLs stay as defined.
func TestRegionsS3URL(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		in := objstore.PutRegionInput{Name: "eu-central-2", S3URL: "https://stale.example.net",
			IAMURL: "https://iam.example.net", STSURL: "https://sts.example.net"}
		if _, err := f.obj.PutRegion(f.ctx, sys, in); err != nil {
			t.Fatal(err)
		}
		urls := func() [3]string {
			t.Helper()
			resp := f.do(t, "", "GET", "/integration/regions/list", nil)
			wantStatus(t, resp, 200)
			got := decode[regionsJSON](t, resp)
			if len(got.Regions) != 1 {
				t.Fatalf("regions: %+v", got)
			}
			r := got.Regions[0]
			return [3]string{r.S3URL, r.IAMURL, r.STSURL}
		}
		defined := [3]string{in.S3URL, in.IAMURL, in.STSURL}
		if got := urls(); got != defined {
			t.Errorf("without a server URL: %q", got)
		}
		url := "http://127.0.0.1:49152"
		f.s3.setURL(url)
		if got := urls(); got != [3]string{url, url, url} {
			t.Errorf("with the server's URL: %q", got)
		}
	})
}

// A storage account's principal goes with the account: once the scheduled
// deletion is purged, its keys no longer authenticate.
func TestPurgedAccountKeysStopResolving(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		f.seedAccounts(t)
		_, keys, err := f.obj.AccountKeys(f.ctx, sys, partnerP, f.accountP)
		if err != nil || len(keys) != 1 {
			t.Fatalf("keys: %+v, %v", keys, err)
		}
		wantStatus(t, f.do(t, f.key.partnerAdmin, "DELETE", "/storage-account/"+f.accountP, nil), 204)
		f.clk.Advance(objstore.DeletionGrace)
		if n, err := f.obj.PurgeDue(f.ctx, noObjects{}); err != nil || n != 1 {
			t.Fatalf("purge: %d, %v", n, err)
		}
		if _, err := f.obj.ResolveKey(f.ctx, keys[0].AccessKey); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("a purged account's key resolves: %v", err)
		}
	})
}
