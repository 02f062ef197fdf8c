package bss_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/wiring"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/bss"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

const tb = bss.UnitBytes

type env struct {
	t    *testing.T
	ctx  context.Context
	st   *sqlstore.Store
	ten  *tenancy.Service
	obj  *objstore.Service
	svc  *bss.Service
	dist tenancy.Org
	ct   tenancy.Contract
	inst bss.CreatedInstallation
	call bss.Call
}

// keys accepts "good-key" as a key of the distributor and "other-key" as
// one of an unrelated org.
type keys struct{ distPath string }

func (k keys) Authenticate(ctx context.Context, key, requestID string) (actor.Actor, error) {
	switch key {
	case "good-key":
		return actor.Actor{OrgPath: k.distPath, OrgKind: actor.Distributor, Role: actor.Admin}, nil
	case "other-key":
		return actor.Actor{OrgPath: "/elsewhere/", OrgKind: actor.Distributor, Role: actor.Admin}, nil
	}
	return actor.Actor{}, errs.New(errs.KindUnauthenticated, "invalid API key")
}

func setup(t *testing.T, d *db.DB, reserved int64) *env {
	t.Helper()
	ctx := t.Context()
	clk := clock.NewFake(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	st := sqlstore.New(d)
	e := &env{t: t, ctx: ctx, st: st}
	e.ten = tenancy.NewService(sqlstore.Tenancy{Store: st}, clk)
	e.obj = wiring.Must(objstore.NewService(sqlstore.Objstore{Store: st}, clk, nil, objstore.NoDataPlane{}))
	sys := actor.System("")
	root, err := e.ten.EnsureRoot(ctx, tenancy.CreateRootInput{Name: "Provider"})
	must(t, err)
	e.dist, err = e.ten.CreateOrg(ctx, sys, tenancy.CreateOrgInput{ParentID: root.ID, Name: "Dist"})
	must(t, err)
	e.svc = wiring.Must(bss.NewService(sqlstore.BSS{Store: st}, e.ten, e.obj, clk, keys{e.dist.Path}))
	e.ct, err = e.ten.CreateContract(ctx, sys, tenancy.CreateContractInput{OrgID: e.dist.ID, ReservedCapacity: reserved,
		Currency: "EUR", Details: "BSS contract"})
	must(t, err)
	e.inst, err = e.svc.CreateInstallation(ctx, sys, bss.InstallationInput{DistributorID: e.dist.ID, ContractID: e.ct.ID, Name: "BSS"})
	must(t, err)
	e.call = bss.Call{Inst: e.inst.Installation, TrackID: "track-1"}
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// res is a call's outcome and error, read as the BSS is answered: code 0
// (1 for an account that exists) or -1 for a refusal, the message, and the
// id the answer names.
type res struct {
	bss.Outcome
	err error
}

func do(out bss.Outcome, err error) res { return res{out, err} }

func (r res) code() int {
	switch {
	case r.err != nil:
		return -1
	case r.Exists:
		return 1
	}
	return 0
}

func (r res) msg() string {
	if r.err != nil {
		return errs.Public(r.err)
	}
	return r.Message
}

func (r res) id() string {
	if r.err != nil {
		return bss.ObjectOf(r.err)
	}
	return r.ID
}

// internal reports a failure of ours rather than a refusal.
func (r res) internal() bool {
	return r.err != nil && (errs.KindOf(r.err) == errs.KindInternal || errs.KindOf(r.err) == errs.KindUnavailable)
}

func wantCode(t *testing.T, what string, r res, code int) {
	t.Helper()
	if r.code() != code {
		t.Fatalf("%s: code %d (%q), want %d", what, r.code(), r.msg(), code)
	}
}

func (e *env) contract() tenancy.Contract {
	c, err := e.ten.GetContract(e.ctx, actor.System(""), e.ct.ID)
	must(e.t, err)
	return c
}

func (e *env) account(sub res, partnerID string) objstore.StorageAccount {
	sa, err := e.obj.GetStorageAccount(e.ctx, actor.System(""), partnerID, sub.Fields[bss.FieldStorageID])
	must(e.t, err)
	return sa
}

func (e *env) partnerOf(accountExt string) string {
	a, err := e.st.GetBSSAccountByExternalID(e.ctx, e.inst.AppID, accountExt)
	must(e.t, err)
	return a.PartnerID
}

func (e *env) audit() []audit.Entry {
	es, err := e.st.ListAudit(e.ctx, "/", "", 1000)
	must(e.t, err)
	return es
}

func reseller() bss.AccountInput {
	return bss.AccountInput{ID: "1021", Name: "Reseller GmbH", Email: "ops@reseller.example"}
}

func customer(resellerExt string) bss.AccountInput {
	return bss.AccountInput{ID: "1187", ResellerID: "1021", ResellerExternalID: resellerExt, Name: "Acme GmbH",
		Email: "billing@acme.example", Username: "admin@acme.example"}
}

func plan() map[string]string {
	return map[string]string{"ICPlan": bss.PlanStandard}
}

func subDef(id, subID, accountExt string, q int64) bss.SubscriptionInput {
	return bss.SubscriptionInput{ID: id, SubscriptionID: subID, Name: "Acme storage", ServiceType: bss.ServiceType,
		ProductID: "bss-product-77", Quantity: q,
		Account: bss.AccountInput{ID: "1187", ExternalID: accountExt}, Attributes: plan()}
}

func TestInstallations(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := setup(t, d, 100*tb)
		key := e.inst.APIKey
		b64 := base64.StdEncoding.EncodeToString([]byte(key))
		for _, tc := range []struct {
			app, key string
			ok       bool
		}{
			{e.inst.AppID, b64, true},
			{strings.ToUpper("{" + e.inst.AppID + "}"), key, true},
			{e.inst.AppID, base64.StdEncoding.EncodeToString([]byte(key + "x")), false},
			{e.inst.AppID, "", false},
			{"not-a-guid", b64, false},
			{"9a0fd2e4-b30c-4cc2-9471-aaebbe4b4971", b64, false},
		} {
			in, err := e.svc.Authenticate(e.ctx, tc.app, tc.key)
			if tc.ok && (err != nil || in.AppID != e.inst.AppID) {
				t.Fatalf("Authenticate(%q, %q): %v", tc.app, tc.key, err)
			}
			if !tc.ok && (!errs.Is(err, errs.KindUnauthenticated) || errs.Public(err) != bss.DeniedMessage) {
				t.Fatalf("Authenticate(%q, %q) = %v, want denied", tc.app, tc.key, err)
			}
		}
		// A distributor admin sees its installation; a partner key may not register one.
		da := actor.Actor{Type: actor.TypeAPIKey, OrgID: e.dist.ID, OrgPath: e.dist.Path, OrgKind: actor.Distributor, Role: actor.Admin}
		list, err := e.svc.ListInstallations(e.ctx, da)
		must(t, err)
		if len(list) != 1 || list[0].AppID != e.inst.AppID || list[0].KeyHash != bss.HashKey(key) {
			t.Fatalf("ListInstallations: %+v", list)
		}
		_, err = e.svc.CreateInstallation(e.ctx, actor.Actor{OrgPath: e.dist.Path + "x/", OrgKind: actor.Partner, Role: actor.Admin},
			bss.InstallationInput{DistributorID: e.dist.ID, ContractID: e.ct.ID})
		if !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("partner registering an installation: %v", err)
		}
		_, err = e.svc.CreateInstallation(e.ctx, da, bss.InstallationInput{DistributorID: e.dist.ID, ContractID: "nope"})
		if !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("unknown contract: %v", err)
		}
		_, err = e.svc.CreateInstallation(e.ctx, da, bss.InstallationInput{DistributorID: e.dist.ID, ContractID: e.ct.ID, AppID: e.inst.AppID})
		if !errs.Is(err, errs.KindConflict) {
			t.Fatalf("duplicate application id: %v", err)
		}
		// The demo's ensure is idempotent and refuses another key.
		appID := "9a0fd2e4-b30c-4cc2-9471-aaebbe4b4971"
		demoKey := "q7Vn2cXe9LtR4pW1sZ8mK0aHjD3uYbF6gN5oTiE2rC0="
		must(t, e.svc.EnsureInstallation(e.ctx, e.dist.ID, e.ct.ID, appID, demoKey))
		must(t, e.svc.EnsureInstallation(e.ctx, e.dist.ID, e.ct.ID, appID, demoKey))
		if err := e.svc.EnsureInstallation(e.ctx, e.dist.ID, e.ct.ID, appID, demoKey+"x"); !errs.Is(err, errs.KindConflict) {
			t.Fatalf("ensure with another key: %v", err)
		}
		if _, err := e.svc.Authenticate(e.ctx, appID, "cTdWbjJjWGU5THRSNHBXMXNaOG1LMGFIakQzdVliRjZnTjVvVGlFMnJDMD0="); err != nil {
			t.Fatalf("the reference's header example: %v", err)
		}
		must(t, e.svc.RevokeInstallation(e.ctx, da, appID))
		must(t, e.svc.RevokeInstallation(e.ctx, da, appID))
		if _, err := e.svc.Authenticate(e.ctx, appID, demoKey); !errs.Is(err, errs.KindUnauthenticated) {
			t.Fatalf("revoked installation: %v", err)
		}
	})
}

// TestWalkThrough is the acceptance scenario at service level.
func TestWalkThrough(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := setup(t, d, 100*tb)
		c := e.call
		sys := actor.System("")

		if f := e.svc.Settings(e.ctx, c); len(f) != 2 || f[0].ID != bss.FieldAPIKey || !f[0].Secret {
			t.Fatalf("settings: %+v", f)
		}
		if errs := e.svc.ValidateSettings(e.ctx, c, []bss.SettingValue{
			{ID: bss.FieldAPIKey, Value: "good-key"}, {ID: bss.FieldContractID, Value: e.ct.ID}}); errs == nil || len(errs) != 0 {
			t.Fatalf("valid settings: %#v", errs)
		}
		if errs := e.svc.ValidateSettings(e.ctx, c, []bss.SettingValue{
			{ID: bss.FieldAPIKey, Value: "other-key"}, {ID: bss.FieldContractID, Value: "606f031c-0f85-4444-8c7d-4a8f1ede7cd3"}}); len(errs) != 2 {
			t.Fatalf("invalid settings: %#v", errs)
		}
		if cat := e.svc.Catalog(e.ctx, c); cat.ServiceType != bss.ServiceType || cat.Products[0].Unit != "TB" || cat.Products[0].Plans[0] != bss.PlanStandard {
			t.Fatalf("catalog: %+v", cat)
		}
		if so := e.svc.AccountOptions(e.ctx, c); so[0].ID != "username" {
			t.Fatalf("account options: %+v", so)
		}

		// Accounts: the reseller is a partner with no allocation yet; the
		// customer hangs on it.
		if r := do(e.svc.AccountExists(e.ctx, c, reseller())); r.code() != 0 {
			t.Fatalf("exists before sync: %+v", r)
		}
		rr := do(e.svc.SynchronizeAccount(e.ctx, c, reseller()))
		wantCode(t, "sync reseller", rr, 0)
		if !strings.HasPrefix(rr.id(), "a-") {
			t.Fatalf("reseller external id %q", rr.id())
		}
		partnerID := e.partnerOf(rr.id())
		p, err := e.ten.GetPartner(e.ctx, sys, partnerID)
		must(t, err)
		if p.Name != "Reseller GmbH" || p.ContractID != e.ct.ID || p.AllocatedCapacity != 0 {
			t.Fatalf("reseller partner: %+v", p)
		}
		cr := do(e.svc.SynchronizeAccount(e.ctx, c, customer(rr.id())))
		wantCode(t, "sync customer", cr, 0)
		if e.partnerOf(cr.id()) != partnerID {
			t.Fatal("the customer is not on its reseller's partner")
		}
		if r := do(e.svc.AccountExists(e.ctx, c, bss.AccountInput{ID: "unknown", Email: "BILLING@acme.example"})); r.code() != 1 || r.id() != cr.id() {
			t.Fatalf("exists by e-mail: %+v", r)
		}

		// Pre-check, then create.
		def := subDef("", "8812", cr.id(), 5)
		if r := do(e.svc.Subscription(e.ctx, c, "create", def, true)); r.code() != 0 || r.msg() != "OK" || r.id() != "" {
			t.Fatalf("pre-check: %+v", r)
		}
		if e.contract().AllocatedCapacity != 0 {
			t.Fatal("the pre-check changed the contract")
		}
		if _, err := e.st.GetBSSSubscriptionByKey(e.ctx, e.inst.AppID, "sid:8812"); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("the pre-check stored a mapping: %v", err)
		}
		sub := do(e.svc.Subscription(e.ctx, c, "create", def, false))
		wantCode(t, "create", sub, 0)
		if !strings.HasPrefix(sub.id(), "s-") {
			t.Fatalf("subscription id %q", sub.id())
		}
		sa := e.account(sub, partnerID)
		if sa.AllocatedCapacity != 5*tb || sa.AllowOverdraft || sa.ContactEmail != "billing+"+sub.id()+"@acme.example" {
			t.Fatalf("storage account: %+v", sa)
		}
		if _, keys, err := e.obj.AccountKeys(e.ctx, sys, partnerID, sa.ID); err != nil || len(keys) != 1 {
			t.Fatalf("S3 keys: %v %v", keys, err)
		}
		if got := e.contract().AllocatedCapacity; got != 5*tb {
			t.Fatalf("contract allocated %d", got)
		}

		// Quantity update (pre-check and real), then an add-on.
		def.ID, def.Quantity = sub.id(), 8
		wantCode(t, "update pre-check", do(e.svc.Subscription(e.ctx, c, "update", def, true)), 0)
		if e.account(sub, partnerID).AllocatedCapacity != 5*tb {
			t.Fatal("the update pre-check changed the account")
		}
		wantCode(t, "update", do(e.svc.Subscription(e.ctx, c, "update", def, false)), 0)
		if got := e.account(sub, partnerID).AllocatedCapacity; got != 8*tb {
			t.Fatalf("after update: %d", got)
		}
		add := def
		add.Addons = []bss.AddonInput{{ProductID: bss.AddonExtraTB, Action: bss.AddonProvision, Quantity: 2}}
		ar := do(e.svc.Addon(e.ctx, c, "create", add, false))
		wantCode(t, "addon create", ar, 0)
		if !strings.HasPrefix(ar.id(), "ad-") {
			t.Fatalf("add-on id %q", ar.id())
		}
		if got := e.account(sub, partnerID).AllocatedCapacity; got != 10*tb || e.contract().AllocatedCapacity != 10*tb {
			t.Fatalf("after add-on: account %d contract %d", got, e.contract().AllocatedCapacity)
		}
		add.Addons[0].ID, add.Addons[0].Quantity = ar.id(), 3
		wantCode(t, "addon update", do(e.svc.Addon(e.ctx, c, "update", add, false)), 0)
		if got := e.account(sub, partnerID).AllocatedCapacity; got != 11*tb {
			t.Fatalf("after add-on update: %d", got)
		}

		// Suspend and activate.
		wantCode(t, "suspend", do(e.svc.Subscription(e.ctx, c, "suspend", def, false)), 0)
		if e.account(sub, partnerID).SuspendedAt == nil {
			t.Fatal("suspend did not suspend the storage account")
		}
		wantCode(t, "activate", do(e.svc.Subscription(e.ctx, c, "activate", def, false)), 0)
		if e.account(sub, partnerID).SuspendedAt != nil {
			t.Fatal("activate did not lift the suspension")
		}

		// The account cannot go while the subscription lives.
		if r := do(e.svc.DeleteAccount(e.ctx, c, bss.AccountInput{ID: "1187", ExternalID: cr.id()})); r.code() != -1 {
			t.Fatalf("delete with a live subscription: %+v", r)
		}
		if r := do(e.svc.DeleteAccount(e.ctx, c, bss.AccountInput{ID: "1021", ExternalID: rr.id()})); r.code() != -1 {
			t.Fatalf("delete of the reseller with a live customer subscription: %+v", r)
		}

		// Cancel: capacity back on the contract, deletion scheduled; terminal.
		wantCode(t, "cancel", do(e.svc.Subscription(e.ctx, c, "cancel", def, false)), 0)
		sa = e.account(sub, partnerID)
		if sa.AllocatedCapacity != 0 || sa.PendingDeletedAt == nil || e.contract().AllocatedCapacity != 0 {
			t.Fatalf("after cancel: %+v contract %d", sa, e.contract().AllocatedCapacity)
		}
		r := do(e.svc.Subscription(e.ctx, c, "activate", def, false))
		if r.code() != -1 || r.id() != sub.id() || !strings.Contains(r.msg(), "cancelled") {
			t.Fatalf("activate after cancel: %+v", r)
		}

		wantCode(t, "delete customer", do(e.svc.DeleteAccount(e.ctx, c, bss.AccountInput{ID: "1187", ExternalID: cr.id()})), 0)
		wantCode(t, "delete reseller", do(e.svc.DeleteAccount(e.ctx, c, bss.AccountInput{ID: "1021", ExternalID: rr.id()})), 0)
		if r := do(e.svc.AccountExists(e.ctx, c, customer(rr.id()))); r.code() != 0 {
			t.Fatalf("exists after delete: %+v", r)
		}

		// Every call left an audit row with the track id naming its action.
		seen := map[string]bool{}
		for _, en := range e.audit() {
			if strings.HasPrefix(en.Action, "bss.") && en.Action != "bss_installation.create" {
				if en.RequestID != "track-1" || en.PrincipalType != bss.ActorType || !strings.Contains(en.Detail, "action=") {
					t.Fatalf("audit row: %+v", en)
				}
				seen[en.Action] = true
			}
		}
		for _, a := range []string{"bss.accounts.synchronize", "bss.accounts.exists", "bss.accounts.delete", "bss.subscriptions.create",
			"bss.subscriptions.update", "bss.subscriptions.suspend", "bss.subscriptions.activate", "bss.subscriptions.cancel",
			"bss.addons.create", "bss.addons.update"} {
			if !seen[a] {
				t.Errorf("no audit row %s", a)
			}
		}
	})
}

// state is what the calls change, for comparing after a repeat.
func (e *env) state() string {
	var b strings.Builder
	c := e.contract()
	fmt.Fprintf(&b, "contract=%d\n", c.AllocatedCapacity)
	ps, err := e.ten.ListPartners(e.ctx, actor.System(""), e.ct.ID)
	must(e.t, err)
	for _, p := range ps {
		fmt.Fprintf(&b, "partner %s %s alloc=%d accounts=%d\n", p.ID, p.Name, p.AllocatedCapacity, p.AccountsAllocated)
		sas, err := e.obj.ListStorageAccounts(e.ctx, actor.System(""), p.ID)
		must(e.t, err)
		for _, sa := range sas {
			fmt.Fprintf(&b, "  sa %s cap=%d suspended=%t pending=%t\n", sa.ID, sa.AllocatedCapacity, sa.SuspendedAt != nil, sa.PendingDeletedAt != nil)
		}
	}
	return b.String()
}

// TestEveryCallTwice delivers each call of the lifecycle twice: the answers
// and the state after the repeat are those of the first delivery.
func TestEveryCallTwice(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := setup(t, d, 100*tb)
		c := e.call
		twice := func(what string, call func() res) res {
			t.Helper()
			r1 := call()
			s1 := e.state()
			r2 := call()
			s2 := e.state()
			if !reflect.DeepEqual(r1, r2) {
				t.Fatalf("%s: answers differ:\n%+v\n%+v", what, r1, r2)
			}
			if s1 != s2 {
				t.Fatalf("%s: state differs after the repeat:\n%s\n%s", what, s1, s2)
			}
			if r1.code() < 0 {
				t.Fatalf("%s: %+v", what, r1)
			}
			return r1
		}
		rr := twice("sync reseller", func() res { return do(e.svc.SynchronizeAccount(e.ctx, c, reseller())) })
		cr := twice("sync customer", func() res { return do(e.svc.SynchronizeAccount(e.ctx, c, customer(rr.id()))) })
		twice("exists", func() res { return do(e.svc.AccountExists(e.ctx, c, customer(rr.id()))) })
		def := subDef("", "9000", cr.id(), 3)
		twice("pre-check", func() res { return do(e.svc.Subscription(e.ctx, c, "create", def, true)) })
		sub := twice("create", func() res { return do(e.svc.Subscription(e.ctx, c, "create", def, false)) })
		def.ID, def.Quantity = sub.id(), 6
		twice("update", func() res { return do(e.svc.Subscription(e.ctx, c, "update", def, false)) })
		def.Quantity = 4
		twice("shrink", func() res { return do(e.svc.Subscription(e.ctx, c, "update", def, false)) })
		add := def
		add.Addons = []bss.AddonInput{{ProductID: bss.AddonExtraTB, Action: bss.AddonProvision, Quantity: 1}}
		ar := twice("addon create", func() res { return do(e.svc.Addon(e.ctx, c, "create", add, false)) })
		add.Addons[0].ID, add.Addons[0].Quantity = ar.id(), 2
		twice("addon update", func() res { return do(e.svc.Addon(e.ctx, c, "update", add, false)) })
		add.Addons[0].Action = bss.AddonCancel
		twice("addon cancel", func() res { return do(e.svc.Addon(e.ctx, c, "cancel", add, false)) })
		twice("suspend", func() res { return do(e.svc.Subscription(e.ctx, c, "suspend", def, false)) })
		twice("activate", func() res { return do(e.svc.Subscription(e.ctx, c, "activate", def, false)) })
		twice("cancel", func() res { return do(e.svc.Subscription(e.ctx, c, "cancel", def, false)) })
		twice("delete", func() res {
			return do(e.svc.DeleteAccount(e.ctx, c, bss.AccountInput{ID: "1187", ExternalID: cr.id()}))
		})
		if got := e.contract().AllocatedCapacity; got != 0 {
			t.Fatalf("contract allocated %d after the cancel", got)
		}
		// Out of order: a create retried after the cancel answers as the
		// first create did and provisions nothing.
		def.ID = ""
		if r := do(e.svc.Subscription(e.ctx, c, "create", def, false)); !reflect.DeepEqual(r, sub) || e.contract().AllocatedCapacity != 0 {
			t.Fatalf("create after cancel: %+v", r)
		}
	})
}

// TestConcurrentCreates: 40 creates at once against room for 25 TB.
func TestConcurrentCreates(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := setup(t, d, 25*tb)
		rr := do(e.svc.SynchronizeAccount(e.ctx, e.call, reseller()))
		wantCode(t, "sync", rr, 0)
		var wg sync.WaitGroup
		results := make([]res, 40)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				def := subDef("", fmt.Sprintf("sub-%d", i), rr.id(), 1)
				def.Account.ID = "1021"
				results[i] = do(e.svc.Subscription(e.ctx, e.call, "create", def, false))
			}()
		}
		wg.Wait()
		ok, refused := 0, 0
		for _, r := range results {
			switch {
			case r.code() == 0:
				ok++
			case r.code() == -1 && strings.HasPrefix(r.msg(), "contract capacity exhausted: ") && errs.Is(r.err, errs.KindCapacityExceeded):
				refused++
			default:
				t.Errorf("unexpected answer %+v", r)
			}
		}
		if ok != 25 || refused != 15 {
			t.Fatalf("%d provisioned, %d refused; want 25 and 15", ok, refused)
		}
		if got := e.contract().AllocatedCapacity; got != 25*tb {
			t.Fatalf("contract allocated %d", got)
		}
		sas, err := e.obj.ListStorageAccounts(e.ctx, actor.System(""), e.partnerOf(rr.id()))
		must(t, err)
		if len(sas) != 25 {
			t.Fatalf("%d storage accounts", len(sas))
		}
		// Refused calls are audited too.
		n := 0
		for _, en := range e.audit() {
			if en.Action == "bss.subscriptions.create" && strings.Contains(en.Detail, "code=-1") {
				n++
			}
		}
		if n != 15 {
			t.Fatalf("%d audit rows of refused creates", n)
		}
	})
}

// TestBadInput: refusals are Code -1 with a message and change nothing.
func TestBadInput(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := setup(t, d, 10*tb)
		c := e.call
		rr := do(e.svc.SynchronizeAccount(e.ctx, c, reseller()))
		wantCode(t, "sync", rr, 0)
		good := subDef("", "1", rr.id(), 2)
		sub := do(e.svc.Subscription(e.ctx, c, "create", good, false))
		wantCode(t, "create", sub, 0)
		before := e.state()
		mod := func(f func(*bss.SubscriptionInput)) bss.SubscriptionInput {
			d := subDef("", "2", rr.id(), 2)
			f(&d)
			return d
		}
		for _, tc := range []struct {
			name, action, msg string
			def               bss.SubscriptionInput
		}{
			{"unknown product", "create", "Unknown product", mod(func(d *bss.SubscriptionInput) { d.Attributes = nil; d.ProductID = "nope" })},
			{"unknown plan", "create", "Unknown plan", mod(func(d *bss.SubscriptionInput) { d.Attributes["ICPlan"] = "Gold" })},
			{"unknown service type", "create", "Unknown service type", mod(func(d *bss.SubscriptionInput) { d.ServiceType = "Other" })},
			{"zero quantity", "create", "at least 1", mod(func(d *bss.SubscriptionInput) { d.Quantity = 0 })},
			{"negative quantity", "create", "at least 1", mod(func(d *bss.SubscriptionInput) { d.Quantity = -3 })},
			{"unknown account", "create", "not synchronized", mod(func(d *bss.SubscriptionInput) { d.Account = bss.AccountInput{ID: "x", ExternalID: "a-000"} })},
			{"over capacity", "create", "contract capacity exhausted: 8000000000000 bytes free", mod(func(d *bss.SubscriptionInput) { d.Quantity = 9 })},
			{"unknown subscription", "update", "not found", mod(func(d *bss.SubscriptionInput) { d.ID = "s-nope" })},
			{"update to zero", "update", "at least 1", mod(func(d *bss.SubscriptionInput) { d.ID, d.Quantity = sub.id(), 0 })},
			{"update beyond the contract", "update", "contract capacity exhausted", mod(func(d *bss.SubscriptionInput) { d.ID, d.Quantity = sub.id(), 11 })},
			{"unknown action", "upgrade", "Unknown subscription action", mod(func(d *bss.SubscriptionInput) {})},
			// Issue 14: ids of 10,000 characters were accepted.
			{"10,000-character SubscriptionID", "create", "SubscriptionID: must be at most 128 characters", mod(func(d *bss.SubscriptionInput) { d.SubscriptionID = strings.Repeat("s", 10_000) })},
			{"over-long account ExternalID", "create", "Account.ExternalID: must be at most 128 characters", mod(func(d *bss.SubscriptionInput) { d.Account.ExternalID += strings.Repeat("x", 128) })},
			{"over-long name", "create", "Name: must be at most 255 characters", mod(func(d *bss.SubscriptionInput) { d.Name = strings.Repeat("n", 256) })},
			{"control character in an id", "update", "ID: must not contain control characters", mod(func(d *bss.SubscriptionInput) { d.ID = sub.id() + "\x01" })},
			{"the dialect's refusal", "create", "RequestedBy.Email: must be at most 255 characters", mod(func(d *bss.SubscriptionInput) {
				d.Invalid = errs.Invalid("RequestedBy.Email", "must be at most 255 characters")
			})},
		} {
			for _, check := range []bool{true, false} {
				r := do(e.svc.Subscription(e.ctx, c, tc.action, tc.def, check))
				if r.code() != -1 || !strings.Contains(r.msg(), tc.msg) || r.internal() {
					t.Errorf("%s (checkOnly %t): %+v, want Code -1 with %q", tc.name, check, r, tc.msg)
				}
			}
		}
		add := good
		add.ID = sub.id()
		for _, tc := range []struct {
			name, action, msg string
			addon             bss.AddonInput
		}{
			{"unknown add-on product", "create", "Unknown add-on product", bss.AddonInput{ProductID: "x", Action: bss.AddonProvision, Quantity: 1}},
			{"zero add-on", "create", "at least 1", bss.AddonInput{ProductID: bss.AddonExtraTB, Action: bss.AddonProvision, Quantity: 0}},
			{"add-on beyond the contract", "create", "contract capacity exhausted", bss.AddonInput{ProductID: bss.AddonExtraTB, Action: bss.AddonProvision, Quantity: 9}},
			{"no add-on flagged", "create", "No add-on", bss.AddonInput{ProductID: bss.AddonExtraTB, Action: bss.AddonNone, Quantity: 1}},
			{"unknown add-on", "update", "not found", bss.AddonInput{ID: "ad-nope", Action: bss.AddonProvision, Quantity: 1}},
		} {
			add.Addons = []bss.AddonInput{tc.addon}
			r := do(e.svc.Addon(e.ctx, c, tc.action, add, false))
			if r.code() != -1 || !strings.Contains(r.msg(), tc.msg) {
				t.Errorf("%s: %+v, want Code -1 with %q", tc.name, r, tc.msg)
			}
		}
		for _, tc := range []struct {
			name, msg string
			in        bss.AccountInput
		}{
			{"no account id", "Account ID is required", bss.AccountInput{Name: "X"}},
			{"unknown reseller", "not synchronized", bss.AccountInput{ID: "5", ResellerExternalID: "a-nope", Name: "X"}},
			{"kind change", "cannot change", bss.AccountInput{ID: "1021", ResellerID: "77", ResellerExternalID: rr.id(), Name: "X"}},
			{"10,000-character ID", "ID: must be at most 128 characters", bss.AccountInput{ID: strings.Repeat("7", 10_000), Name: "X"}},
			{"the dialect's refusal", "Description: must be at most 1000 characters", bss.AccountInput{ID: "8", Name: "X",
				Invalid: errs.Invalid("Description", "must be at most 1000 characters")}},
		} {
			if r := do(e.svc.SynchronizeAccount(e.ctx, c, tc.in)); r.code() != -1 || !strings.Contains(r.msg(), tc.msg) {
				t.Errorf("%s: %+v, want Code -1 with %q", tc.name, r, tc.msg)
			}
		}
		c2 := c
		c2.Settings = map[string]string{"ICContractId": "nope"}
		if r := do(e.svc.SynchronizeAccount(e.ctx, c2, bss.AccountInput{ID: "6", Name: "Y"})); r.code() != -1 || !strings.Contains(r.msg(), "Unknown contract") {
			t.Errorf("unknown contract setting: %+v", r)
		}
		if after := e.state(); after != before {
			t.Fatalf("bad input changed the state:\n%s\n%s", before, after)
		}
		if _, err := e.st.GetBSSSubscriptionByKey(e.ctx, e.inst.AppID, "sid:2"); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("a refused create left a mapping: %v", err)
		}
		if _, err := e.st.GetBSSAccount(e.ctx, e.inst.AppID, "5"); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("a refused synchronize left an account: %v", err)
		}
		// The longest id kept is accepted.
		long := strings.Repeat("9", 128)
		if r := do(e.svc.SynchronizeAccount(e.ctx, c, bss.AccountInput{ID: long, Name: "Z"})); r.code() != 0 {
			t.Errorf("a 128-character account id: %+v", r)
		}
	})
}
