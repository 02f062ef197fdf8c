package access_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

func TestKeys(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		ctx := t.Context()
		clk := clock.NewFake(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
		st := sqlstore.New(d)
		ten := tenancy.NewService(sqlstore.Tenancy{Store: st}, clk)
		acc := access.NewService(sqlstore.Access{Store: st}, clk)
		root, err := ten.EnsureRoot(ctx, tenancy.CreateRootInput{Name: "P"})
		if err != nil {
			t.Fatal(err)
		}
		sys := actor.System("t")
		dist, err := ten.CreateOrg(ctx, sys, tenancy.CreateOrgInput{ParentID: root.ID, Name: "D"})
		if err != nil {
			t.Fatal(err)
		}
		k, err := acc.CreateKey(ctx, sys, access.CreateKeyInput{OrgID: dist.ID, Name: "d", Role: actor.Staff})
		if err != nil {
			t.Fatal(err)
		}
		// 256 random bits, base64url, behind the prefix; only the hash is stored.
		if !strings.HasPrefix(k.Secret, access.KeyPrefix) || len(k.Secret) != len(access.KeyPrefix)+43 {
			t.Fatalf("key format %q", k.Secret)
		}
		if k.Hash != access.HashKey(k.Secret) || strings.Contains(k.Hash, k.Secret) || k.Prefix != k.Secret[:12] {
			t.Fatalf("stored form: %+v", k.APIKey)
		}

		a, err := acc.Authenticate(ctx, k.Secret, "req-1")
		if err != nil {
			t.Fatal(err)
		}
		if a.OrgID != dist.ID || a.OrgPath != dist.Path || a.OrgKind != actor.Distributor || a.Role != actor.Staff || a.RequestID != "req-1" {
			t.Fatalf("actor %+v", a)
		}
		got, _ := acc.GetKey(ctx, sys, k.ID)
		if got.LastUsedAt == nil || !got.LastUsedAt.Equal(clk.Now()) {
			t.Fatalf("last used %v", got.LastUsedAt)
		}
		// Within a minute the last-used time is not rewritten.
		clk.Advance(30 * time.Second)
		_, _ = acc.Authenticate(ctx, k.Secret, "")
		got, _ = acc.GetKey(ctx, sys, k.ID)
		if !got.LastUsedAt.Equal(clk.Now().Add(-30 * time.Second)) {
			t.Fatalf("last used rewritten within a minute: %v", got.LastUsedAt)
		}
		clk.Advance(31 * time.Second)
		_, _ = acc.Authenticate(ctx, k.Secret, "")
		got, _ = acc.GetKey(ctx, sys, k.ID)
		if !got.LastUsedAt.Equal(clk.Now()) {
			t.Fatalf("last used not updated after a minute: %v", got.LastUsedAt)
		}

		for _, bad := range []string{"", "   ", "trl_nope", k.Secret + "x", strings.Repeat("a", 600)} {
			if _, err := acc.Authenticate(ctx, bad, ""); !errs.Is(err, errs.KindUnauthenticated) {
				t.Errorf("Authenticate(%.20q) = %v", bad, err)
			}
		}

		// A staff key cannot create keys; an admin of the distributor can,
		// for its subtree only.
		if _, err := acc.CreateKey(ctx, a, access.CreateKeyInput{OrgID: dist.ID, Name: "x", Role: actor.Viewer}); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("staff created a key: %v", err)
		}
		admin, _ := acc.CreateKey(ctx, sys, access.CreateKeyInput{OrgID: dist.ID, Name: "a", Role: actor.Admin})
		da, _ := acc.Authenticate(ctx, admin.Secret, "")
		if _, err := acc.CreateKey(ctx, da, access.CreateKeyInput{OrgID: root.ID, Name: "up", Role: actor.Admin}); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("distributor created a key for the provider: %v", err)
		}
		if _, err := acc.CreateKey(ctx, da, access.CreateKeyInput{OrgID: dist.ID, Name: "x", Role: "owner"}); errs.FieldOf(err) != "role" {
			t.Fatalf("bad role: %v", err)
		}

		revoked, err := acc.RevokeKey(ctx, da, k.ID)
		if err != nil || revoked.RevokedAt == nil {
			t.Fatalf("revoke: %v", err)
		}
		if _, err := acc.Authenticate(ctx, k.Secret, ""); !errs.Is(err, errs.KindUnauthenticated) || !strings.Contains(err.Error(), "revoked") {
			t.Fatalf("revoked key: %v", err)
		}

		// EnsureKey registers a given secret once and refuses it for another org.
		const given = "given-admin-key-0123456789"
		created, err := acc.EnsureKey(ctx, root.ID, "boot", actor.Admin, given)
		if err != nil || !created {
			t.Fatalf("EnsureKey: %v %v", created, err)
		}
		created, err = acc.EnsureKey(ctx, root.ID, "boot", actor.Admin, given)
		if err != nil || created {
			t.Fatalf("EnsureKey again: %v %v", created, err)
		}
		if _, err := acc.EnsureKey(ctx, dist.ID, "boot", actor.Admin, given); err == nil {
			t.Fatal("EnsureKey reused a secret for another org")
		}
		if _, err := acc.EnsureKey(ctx, root.ID, "boot", actor.Admin, "short"); errs.FieldOf(err) != "secret" {
			t.Fatalf("short secret: %v", err)
		}
	})
}
