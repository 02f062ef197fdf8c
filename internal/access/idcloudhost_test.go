package access_test

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

var idchT0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

type idchFixture struct {
	ctx          context.Context
	st           *sqlstore.Store
	clk          *clock.Fake
	s            *access.Identity
	partner      tenancy.Org
	custA, custB tenancy.Org
	operator     actor.Actor // partner admin
	acctA, acctB int64
	deletedA     int64
}

func newIDCHFixture(t *testing.T, d *db.DB) *idchFixture {
	t.Helper()
	st := sqlstore.New(d)
	clk := clock.NewFake(idchT0)
	f := &idchFixture{ctx: t.Context(), st: st, clk: clk, s: access.NewIdentity(sqlstore.Identity{Store: st}, clk)}
	now := db.Micro(idchT0)
	org := func(kind actor.OrgKind, parent *tenancy.Org) tenancy.Org {
		id := ids.New()
		o := tenancy.Org{ID: id, Kind: kind, Path: "/" + id + "/", Name: string(kind), TimeZone: "UTC", CreatedAt: now, UpdatedAt: now}
		if parent != nil {
			o.ParentID, o.Path = parent.ID, parent.Path+id+"/"
		}
		if err := st.InsertOrg(f.ctx, o); err != nil {
			t.Fatal(err)
		}
		return o
	}
	root := org(actor.Provider, nil)
	dist := org(actor.Distributor, &root)
	f.partner = org(actor.Partner, &dist)
	f.custA, f.custB = org(actor.Customer, &f.partner), org(actor.Customer, &f.partner)
	f.operator = actor.Actor{Type: actor.TypeAPIKey, ID: "op", OrgID: f.partner.ID, OrgPath: f.partner.Path, OrgKind: actor.Partner, Role: actor.Admin}
	acct := func(o tenancy.Org, deleted bool) int64 {
		id, err := st.NextNumber(f.ctx, "billing_account")
		if err != nil {
			t.Fatal(err)
		}
		var del any
		if deleted {
			del = now
		}
		if _, err := st.DB().Write().ExecContext(f.ctx, `INSERT INTO billing_accounts (id, org_id, org_path, created_at, updated_at, deleted_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, id, o.ID, o.Path, now, now, del); err != nil {
			t.Fatal(err)
		}
		return id
	}
	f.acctA, f.acctB, f.deletedA = acct(f.custA, false), acct(f.custB, false), acct(f.custA, true)
	return f
}

func TestIDCHUsersAndTokens(t *testing.T) {
	t.Parallel()
	secretRE := regexp.MustCompile(`^[A-Za-z0-9]{32}$`)
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newIDCHFixture(t, d)
		ctx := f.ctx

		// Users: operators create them for customer orgs in their subtree.
		if _, err := f.s.CreateUser(ctx, f.operator, access.CreateIDCHUserInput{OrgID: f.partner.ID, Email: "a@example.com"}); !errs.Is(err, errs.KindInvalid) {
			t.Fatalf("user for a partner org: %v", err)
		}
		viewer := f.operator
		viewer.Role = actor.Viewer
		if _, err := f.s.CreateUser(ctx, viewer, access.CreateIDCHUserInput{OrgID: f.custA.ID, Email: "a@example.com"}); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("viewer created a user: %v", err)
		}
		outsider := actor.Actor{OrgID: "x", OrgPath: "/elsewhere/", OrgKind: actor.Partner, Role: actor.Admin}
		if _, err := f.s.CreateUser(ctx, outsider, access.CreateIDCHUserInput{OrgID: f.custA.ID, Email: "a@example.com"}); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("outsider created a user: %v", err)
		}
		if _, err := f.s.CreateUser(ctx, f.operator, access.CreateIDCHUserInput{OrgID: f.custA.ID, Email: "not an e-mail"}); !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != "email" {
			t.Fatalf("bad e-mail: %v", err)
		}
		ua, err := f.s.CreateUser(ctx, f.operator, access.CreateIDCHUserInput{OrgID: f.custA.ID, Email: " A@Example.com ",
			FirstName: " Ann ", LastName: "A", PhoneNumber: "+1", PersonalIDNumber: "7"})
		if err != nil {
			t.Fatal(err)
		}
		if ua.ID != 1 || ua.Profile.ID != 1 || ua.Email != "a@example.com" || ua.Profile.FirstName != "Ann" ||
			len(ua.CookieID) != 32 || !ids.Valid(ua.ConsumerID) || !strings.HasPrefix(ua.Profile.Avatar, "https://s.gravatar.com/avatar/") {
			t.Fatalf("user: %+v", ua)
		}
		if _, err := f.s.CreateUser(ctx, f.operator, access.CreateIDCHUserInput{OrgID: f.custA.ID, Email: "b@example.com"}); !errs.Is(err, errs.KindConflict) {
			t.Fatalf("second user of an org: %v", err)
		}
		if _, err := f.s.CreateUser(ctx, f.operator, access.CreateIDCHUserInput{OrgID: f.custB.ID, Email: "a@example.com"}); !errs.Is(err, errs.KindConflict) {
			t.Fatalf("e-mail reused: %v", err)
		}
		ub, err := f.s.CreateUser(ctx, f.operator, access.CreateIDCHUserInput{OrgID: f.custB.ID, Email: "b@example.com"})
		if err != nil || ub.ID != 2 { // the failed attempts used no number
			t.Fatalf("user b: %+v %v", ub, err)
		}
		us, err := f.s.ListUsers(ctx, f.operator, 0, 10)
		if err != nil || len(us) != 2 {
			t.Fatalf("ListUsers: %v %v", us, err)
		}

		// Tokens: the operator's first token; its secret authenticates.
		if _, err := f.s.CreateTokenFor(ctx, f.operator, ua.ID, access.CreateIDCHTokenInput{Restricted: true}); !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != "billing_account_id" {
			t.Fatalf("restricted without an account: %v", err)
		}
		for _, acct := range []int64{f.acctB, f.deletedA, 999} {
			if _, err := f.s.CreateTokenFor(ctx, f.operator, ua.ID, access.CreateIDCHTokenInput{Restricted: true, BillingAccountID: acct}); !errs.Is(err, errs.KindNotFound) {
				t.Fatalf("token bound to account %d: %v", acct, err)
			}
		}
		first, err := f.s.CreateTokenFor(ctx, f.operator, ua.ID, access.CreateIDCHTokenInput{Description: "first"})
		if err != nil || !secretRE.MatchString(first.Secret) || first.ID != 1 || first.Prefix != first.Secret[:4] ||
			access.MaskedIDCHToken(first.IDCHToken) != first.Secret[:4]+strings.Repeat("*", 28) {
			t.Fatalf("first token: %+v %v", first, err)
		}
		a, err := f.s.Authenticate(ctx, first.Secret, "req")
		if err != nil || a.OrgID != f.custA.ID || a.OrgKind != actor.Customer || a.BillingAccount != 0 || a.ID != "idcloudhost-token-1" || a.RequestID != "req" {
			t.Fatalf("actor: %+v %v", a, err)
		}
		for _, bad := range []string{"", "  ", "short", strings.Repeat("A", 32), first.Secret + "x", strings.ToLower(first.Secret[:1]) + first.Secret[1:] + "!"} {
			if _, err := f.s.Authenticate(ctx, bad, ""); !errs.Is(err, errs.KindUnauthenticated) {
				t.Fatalf("Authenticate(%q): %v", bad, err)
			}
		}
		// The user makes a restricted token; it authenticates restricted
		// and cannot manage tokens.
		rt, err := f.s.CreateToken(ctx, a, access.CreateIDCHTokenInput{Description: "r", Restricted: true, BillingAccountID: f.acctA})
		if err != nil || rt.UserID != ua.ID || rt.ConsumerID != ua.ConsumerID {
			t.Fatalf("restricted token: %+v %v", rt, err)
		}
		ra, err := f.s.Authenticate(ctx, rt.Secret, "")
		if err != nil || ra.BillingAccount != f.acctA {
			t.Fatalf("restricted actor: %+v %v", ra, err)
		}
		if _, err := f.s.CreateToken(ctx, ra, access.CreateIDCHTokenInput{}); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("restricted token created a token: %v", err)
		}
		if err := f.s.DeleteToken(ctx, ra, first.ID); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("restricted token deleted a token: %v", err)
		}
		// Update: restricted without an account is refused; lifting the
		// restriction keeps the account binding.
		zero := int64(0)
		if _, err := f.s.UpdateToken(ctx, a, access.UpdateIDCHTokenInput{ID: rt.ID, BillingAccountID: &zero}); !errs.Is(err, errs.KindInvalid) {
			t.Fatalf("unbind a restricted token: %v", err)
		}
		no := false
		f.clk.Advance(time.Hour)
		upd, err := f.s.UpdateToken(ctx, a, access.UpdateIDCHTokenInput{ID: rt.ID, Restricted: &no})
		if err != nil || upd.Restricted || upd.BillingAccountID != f.acctA || upd.UpdatedAt == nil || !upd.UpdatedAt.Equal(idchT0.Add(time.Hour)) {
			t.Fatalf("update: %+v %v", upd, err)
		}
		if ra, _ = f.s.Authenticate(ctx, rt.Secret, ""); ra.BillingAccount != 0 {
			t.Fatalf("unrestricted token still restricted: %+v", ra)
		}
		// The other user cannot see or touch user a's tokens.
		bt, err := f.s.CreateTokenFor(ctx, f.operator, ub.ID, access.CreateIDCHTokenInput{})
		if err != nil {
			t.Fatal(err)
		}
		ba, _ := f.s.Authenticate(ctx, bt.Secret, "")
		if err := f.s.DeleteToken(ctx, ba, first.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("cross-user delete: %v", err)
		}
		if ts, _ := f.s.ListTokens(ctx, ba); len(ts) != 1 || ts[0].ID != bt.ID {
			t.Fatalf("user b's tokens: %+v", ts)
		}
		// Profile.
		last := "Iaas"
		p, err := f.s.UpdateProfile(ctx, a, access.ProfileInput{LastName: &last})
		if err != nil || p.Profile.LastName != "Iaas" || p.Profile.FirstName != "Ann" || !p.Profile.UpdatedAt.Equal(idchT0.Add(time.Hour)) {
			t.Fatalf("profile: %+v %v", p, err)
		}
		if _, err := f.s.Me(ctx, f.operator); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("an operator has no idcloudhost user: %v", err)
		}
		// Delete: the secret stops working.
		if err := f.s.DeleteToken(ctx, a, rt.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Authenticate(ctx, rt.Secret, ""); !errs.Is(err, errs.KindUnauthenticated) {
			t.Fatalf("deleted token: %v", err)
		}
	})
}

// TestIDCHTokenNumbersUnderConcurrency: tokens created in parallel get
// distinct, gapless numbers.
func TestIDCHTokenNumbersUnderConcurrency(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newIDCHFixture(t, d)
		u, err := f.s.CreateUser(f.ctx, f.operator, access.CreateIDCHUserInput{OrgID: f.custA.ID, Email: "a@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		const n = 30
		var wg sync.WaitGroup
		var mu sync.Mutex
		seen := map[int64]bool{}
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tok, err := f.s.CreateTokenFor(f.ctx, f.operator, u.ID, access.CreateIDCHTokenInput{})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seen[tok.ID] = true
				mu.Unlock()
			}()
		}
		wg.Wait()
		for i := int64(1); i <= n; i++ {
			if !seen[i] {
				t.Fatalf("token numbers %v: %d missing", seen, i)
			}
		}
	})
}

func TestIDCHSecretAlphabet(t *testing.T) {
	t.Parallel()
	counts := map[rune]int{}
	for i := 0; i < 2000; i++ {
		s := access.NewIDCHTokenSecret()
		if len(s) != 32 {
			t.Fatalf("secret %q", s)
		}
		for _, r := range s {
			counts[r]++
		}
	}
	// 64,000 draws over 62 symbols: about 1032 each; a biased draw (e.g.
	// modulo of a byte) would push the first symbols far above.
	if len(counts) != 62 {
		t.Fatalf("%d symbols used", len(counts))
	}
	for r, c := range counts {
		if c < 850 || c > 1220 {
			t.Errorf("symbol %q drawn %d times", r, c)
		}
	}
}

func TestIDCHDemo(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newIDCHFixture(t, d)
		if _, err := f.s.LoadDemoTokens(f.ctx); err == nil {
			t.Fatal("demo tokens without the demo user")
		}
		for i := 0; i < 2; i++ { // idempotent
			u, err := f.s.LoadDemoUser(f.ctx, f.custA.ID)
			if err != nil || u.ID != 8 || u.Profile.ID != 22 || u.Email != access.DemoIDCHEmail {
				t.Fatalf("demo user: %+v %v", u, err)
			}
		}
		// Token 7 needs billing account 6 of the user's org.
		if _, err := f.s.LoadDemoTokens(f.ctx); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("demo tokens without account 6: %v", err)
		}
		now := db.Micro(idchT0)
		if _, err := f.st.DB().Write().ExecContext(f.ctx, `INSERT INTO billing_accounts (id, org_id, org_path, created_at, updated_at)
			VALUES (6, $1, $2, $3, $3)`, f.custA.ID, f.custA.Path, now); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			toks, err := f.s.LoadDemoTokens(f.ctx)
			if err != nil || len(toks) != 2 || toks[0].ID != 2 || toks[1].ID != 7 || toks[1].BillingAccountID != 6 {
				t.Fatalf("demo tokens: %+v %v", toks, err)
			}
		}
		a, err := f.s.Authenticate(f.ctx, access.DemoIDCHRestrictedKey, "")
		if err != nil || a.BillingAccount != 6 {
			t.Fatalf("demo restricted token: %+v %v", a, err)
		}
		// Numbers continue after the demo's.
		u, err := f.s.CreateUser(f.ctx, f.operator, access.CreateIDCHUserInput{OrgID: f.custB.ID, Email: "b@example.com"})
		if err != nil || u.ID != 9 || u.Profile.ID != 23 {
			t.Fatalf("user after the demo: %+v %v", u, err)
		}
		tok, err := f.s.CreateTokenFor(f.ctx, f.operator, u.ID, access.CreateIDCHTokenInput{})
		if err != nil || tok.ID != 8 {
			t.Fatalf("token after the demo: %+v %v", tok, err)
		}
	})
}
