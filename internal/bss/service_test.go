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
	ctx := context.Background()
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

func wantCode(t *testing.T, what string, r bss.Result, code int) {
	t.Helper()
	if r.Code != code {
		t.Fatalf("%s: code %d (%q), want %d", what, r.Code, r.Message, code)
	}
}

func (e *env) contract() tenancy.Contract {
	c, err := e.ten.GetContract(e.ctx, actor.System(""), e.ct.ID)
	must(e.t, err)
	return c
}

func (e *env) account(sub bss.Result, partnerID string) objstore.StorageAccount {
	sa, err := e.obj.GetStorageAccount(e.ctx, actor.System(""), partnerID, sub.CustomFieldValues[bss.FieldStorageID])
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

func reseller() bss.AccountDefinition {
	return bss.AccountDefinition{ID: "1021", Name: "Reseller GmbH", Email: "ops@reseller.example"}
}

func customer(resellerExt string) bss.AccountDefinition {
	return bss.AccountDefinition{ID: "1187", ResellerID: "1021", ResellerExternalID: resellerExt, Name: "Acme GmbH",
		Email: "billing@acme.example", SyncOptions: map[string]string{"username": "admin@acme.example"}}
}

func plan() map[string]bss.Attribute {
	return map[string]bss.Attribute{"ICPlan": {ID: "ICPlan", Name: "Plan", Value: "Standard", Code: bss.PlanStandard}}
}

func subDef(id, subID, accountExt string, q int64) bss.ServiceDefinition {
	return bss.ServiceDefinition{ID: id, SubscriptionID: subID, Name: "Acme storage", ServiceType: bss.ServiceType,
		ProductID: "bss-product-77", ActionType: bss.ActionProvision, Quantity: q,
		Account: bss.AccountDefinition{ID: "1187", ExternalID: accountExt}, AttributeList: plan()}
}

func TestInstallations(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
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
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, 100*tb)
		c := e.call
		sys := actor.System("")

		if f := e.svc.Fields(e.ctx, c); len(f.Fields) != 2 || f.Fields[0].ID != bss.FieldAPIKey {
			t.Fatalf("fields: %+v", f)
		}
		field := func(id, v string) bss.Field { return bss.Field{ID: id, Value: []byte(fmt.Sprintf("%q", v))} }
		if errs := e.svc.ValidateFields(e.ctx, c, bss.FieldCollection{Fields: []bss.Field{
			field(bss.FieldAPIKey, "good-key"), field(bss.FieldContractID, e.ct.ID)}}); errs == nil || len(errs) != 0 {
			t.Fatalf("valid settings: %#v", errs)
		}
		if errs := e.svc.ValidateFields(e.ctx, c, bss.FieldCollection{Fields: []bss.Field{
			field(bss.FieldAPIKey, "other-key"), field(bss.FieldContractID, "606f031c-0f85-4444-8c7d-4a8f1ede7cd3")}}); len(errs) != 2 {
			t.Fatalf("invalid settings: %#v", errs)
		}
		if sd := e.svc.ServiceDefinitions(e.ctx, c); sd.ProductTypes[0].ProductsCollection.Products[0].UnitType != "TB" {
			t.Fatalf("service definition: %+v", sd)
		}
		if so := e.svc.SyncOptions(e.ctx, c); so.Fields[0].ID != "username" {
			t.Fatalf("sync options: %+v", so)
		}

		// Accounts: the reseller is a partner with no allocation yet; the
		// customer hangs on it.
		if r := e.svc.AccountExists(e.ctx, c, reseller()); r.Code != 0 {
			t.Fatalf("exists before sync: %+v", r)
		}
		rr := e.svc.SynchronizeAccount(e.ctx, c, reseller())
		wantCode(t, "sync reseller", rr, 0)
		if !strings.HasPrefix(rr.Result, "a-") {
			t.Fatalf("reseller external id %q", rr.Result)
		}
		partnerID := e.partnerOf(rr.Result)
		p, err := e.ten.GetPartner(e.ctx, sys, partnerID)
		must(t, err)
		if p.Name != "Reseller GmbH" || p.ContractID != e.ct.ID || p.AllocatedCapacity != 0 {
			t.Fatalf("reseller partner: %+v", p)
		}
		cr := e.svc.SynchronizeAccount(e.ctx, c, customer(rr.Result))
		wantCode(t, "sync customer", cr, 0)
		if e.partnerOf(cr.Result) != partnerID {
			t.Fatal("the customer is not on its reseller's partner")
		}
		if r := e.svc.AccountExists(e.ctx, c, bss.AccountDefinition{ID: "unknown", Email: "BILLING@acme.example"}); r.Code != 1 || r.Result != cr.Result {
			t.Fatalf("exists by e-mail: %+v", r)
		}

		// Pre-check, then create.
		def := subDef("", "8812", cr.Result, 5)
		if r := e.svc.Subscription(e.ctx, c, "create", def, true); r.Code != 0 || r.Message != "OK" || r.Result != "" {
			t.Fatalf("pre-check: %+v", r)
		}
		if e.contract().AllocatedCapacity != 0 {
			t.Fatal("the pre-check changed the contract")
		}
		if _, err := e.st.GetBSSSubscriptionByKey(e.ctx, e.inst.AppID, "sid:8812"); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("the pre-check stored a mapping: %v", err)
		}
		sub := e.svc.Subscription(e.ctx, c, "create", def, false)
		wantCode(t, "create", sub, 0)
		if !strings.HasPrefix(sub.Result, "s-") {
			t.Fatalf("subscription id %q", sub.Result)
		}
		sa := e.account(sub, partnerID)
		if sa.AllocatedCapacity != 5*tb || sa.AllowOverdraft || sa.ContactEmail != "billing+"+sub.Result+"@acme.example" {
			t.Fatalf("storage account: %+v", sa)
		}
		if _, keys, err := e.obj.AccountKeys(e.ctx, sys, partnerID, sa.ID); err != nil || len(keys) != 1 {
			t.Fatalf("S3 keys: %v %v", keys, err)
		}
		if got := e.contract().AllocatedCapacity; got != 5*tb {
			t.Fatalf("contract allocated %d", got)
		}

		// Quantity update (pre-check and real), then an add-on.
		def.ID, def.Quantity = sub.Result, 8
		wantCode(t, "update pre-check", e.svc.Subscription(e.ctx, c, "update", def, true), 0)
		if e.account(sub, partnerID).AllocatedCapacity != 5*tb {
			t.Fatal("the update pre-check changed the account")
		}
		wantCode(t, "update", e.svc.Subscription(e.ctx, c, "update", def, false), 0)
		if got := e.account(sub, partnerID).AllocatedCapacity; got != 8*tb {
			t.Fatalf("after update: %d", got)
		}
		add := def
		add.ActionType = bss.ActionNone
		add.Addons = []bss.AddonDefinition{{ParentID: sub.Result, ProductID: bss.AddonExtraTB, ActionType: bss.ActionProvision, Quantity: 2}}
		ar := e.svc.Addon(e.ctx, c, "create", add, false)
		wantCode(t, "addon create", ar, 0)
		if !strings.HasPrefix(ar.Result, "ad-") {
			t.Fatalf("add-on id %q", ar.Result)
		}
		if got := e.account(sub, partnerID).AllocatedCapacity; got != 10*tb || e.contract().AllocatedCapacity != 10*tb {
			t.Fatalf("after add-on: account %d contract %d", got, e.contract().AllocatedCapacity)
		}
		add.Addons[0].ID, add.Addons[0].Quantity = ar.Result, 3
		wantCode(t, "addon update", e.svc.Addon(e.ctx, c, "update", add, false), 0)
		if got := e.account(sub, partnerID).AllocatedCapacity; got != 11*tb {
			t.Fatalf("after add-on update: %d", got)
		}

		// Suspend and activate.
		def.ActionType = bss.ActionSuspend
		wantCode(t, "suspend", e.svc.Subscription(e.ctx, c, "suspend", def, false), 0)
		if e.account(sub, partnerID).SuspendedAt == nil {
			t.Fatal("suspend did not suspend the storage account")
		}
		def.ActionType = bss.ActionActivate
		wantCode(t, "activate", e.svc.Subscription(e.ctx, c, "activate", def, false), 0)
		if e.account(sub, partnerID).SuspendedAt != nil {
			t.Fatal("activate did not lift the suspension")
		}

		// The account cannot go while the subscription lives.
		if r := e.svc.DeleteAccount(e.ctx, c, bss.AccountDefinition{ID: "1187", ExternalID: cr.Result}); r.Code != -1 {
			t.Fatalf("delete with a live subscription: %+v", r)
		}
		if r := e.svc.DeleteAccount(e.ctx, c, bss.AccountDefinition{ID: "1021", ExternalID: rr.Result}); r.Code != -1 {
			t.Fatalf("delete of the reseller with a live customer subscription: %+v", r)
		}

		// Cancel: capacity back on the contract, deletion scheduled; terminal.
		def.ActionType = bss.ActionCancel
		wantCode(t, "cancel", e.svc.Subscription(e.ctx, c, "cancel", def, false), 0)
		sa = e.account(sub, partnerID)
		if sa.AllocatedCapacity != 0 || sa.PendingDeletedAt == nil || e.contract().AllocatedCapacity != 0 {
			t.Fatalf("after cancel: %+v contract %d", sa, e.contract().AllocatedCapacity)
		}
		r := e.svc.Subscription(e.ctx, c, "activate", def, false)
		if r.Code != -1 || r.Result != sub.Result || !strings.Contains(r.Message, "cancelled") {
			t.Fatalf("activate after cancel: %+v", r)
		}

		wantCode(t, "delete customer", e.svc.DeleteAccount(e.ctx, c, bss.AccountDefinition{ID: "1187", ExternalID: cr.Result}), 0)
		wantCode(t, "delete reseller", e.svc.DeleteAccount(e.ctx, c, bss.AccountDefinition{ID: "1021", ExternalID: rr.Result}), 0)
		if r := e.svc.AccountExists(e.ctx, c, customer(rr.Result)); r.Code != 0 {
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
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, 100*tb)
		c := e.call
		twice := func(what string, call func() bss.Result) bss.Result {
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
			if r1.Code < 0 {
				t.Fatalf("%s: %+v", what, r1)
			}
			return r1
		}
		rr := twice("sync reseller", func() bss.Result { return e.svc.SynchronizeAccount(e.ctx, c, reseller()) })
		cr := twice("sync customer", func() bss.Result { return e.svc.SynchronizeAccount(e.ctx, c, customer(rr.Result)) })
		twice("exists", func() bss.Result { return e.svc.AccountExists(e.ctx, c, customer(rr.Result)) })
		def := subDef("", "9000", cr.Result, 3)
		twice("pre-check", func() bss.Result { return e.svc.Subscription(e.ctx, c, "create", def, true) })
		sub := twice("create", func() bss.Result { return e.svc.Subscription(e.ctx, c, "create", def, false) })
		def.ID, def.Quantity = sub.Result, 6
		twice("update", func() bss.Result { return e.svc.Subscription(e.ctx, c, "update", def, false) })
		def.Quantity = 4
		twice("shrink", func() bss.Result { return e.svc.Subscription(e.ctx, c, "update", def, false) })
		add := def
		add.Addons = []bss.AddonDefinition{{ProductID: bss.AddonExtraTB, ActionType: bss.ActionProvision, Quantity: 1}}
		ar := twice("addon create", func() bss.Result { return e.svc.Addon(e.ctx, c, "create", add, false) })
		add.Addons[0].ID, add.Addons[0].Quantity = ar.Result, 2
		twice("addon update", func() bss.Result { return e.svc.Addon(e.ctx, c, "update", add, false) })
		add.Addons[0].ActionType = bss.ActionCancel
		twice("addon cancel", func() bss.Result { return e.svc.Addon(e.ctx, c, "cancel", add, false) })
		twice("suspend", func() bss.Result { return e.svc.Subscription(e.ctx, c, "suspend", def, false) })
		twice("activate", func() bss.Result { return e.svc.Subscription(e.ctx, c, "activate", def, false) })
		twice("cancel", func() bss.Result { return e.svc.Subscription(e.ctx, c, "cancel", def, false) })
		twice("delete", func() bss.Result {
			return e.svc.DeleteAccount(e.ctx, c, bss.AccountDefinition{ID: "1187", ExternalID: cr.Result})
		})
		if got := e.contract().AllocatedCapacity; got != 0 {
			t.Fatalf("contract allocated %d after the cancel", got)
		}
		// Out of order: a create retried after the cancel answers as the
		// first create did and provisions nothing.
		def.ID = ""
		if r := e.svc.Subscription(e.ctx, c, "create", def, false); !reflect.DeepEqual(r, sub) || e.contract().AllocatedCapacity != 0 {
			t.Fatalf("create after cancel: %+v", r)
		}
	})
}

// TestConcurrentCreates: 40 creates at once against room for 25 TB.
func TestConcurrentCreates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, 25*tb)
		rr := e.svc.SynchronizeAccount(e.ctx, e.call, reseller())
		wantCode(t, "sync", rr, 0)
		var wg sync.WaitGroup
		results := make([]bss.Result, 40)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				def := subDef("", fmt.Sprintf("sub-%d", i), rr.Result, 1)
				def.Account.ID = "1021"
				results[i] = e.svc.Subscription(e.ctx, e.call, "create", def, false)
			}()
		}
		wg.Wait()
		ok, refused := 0, 0
		for _, r := range results {
			switch {
			case r.Code == 0:
				ok++
			case r.Code == -1 && strings.HasPrefix(r.Message, "contract capacity exhausted: ") && !r.Internal:
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
		sas, err := e.obj.ListStorageAccounts(e.ctx, actor.System(""), e.partnerOf(rr.Result))
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
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, 10*tb)
		c := e.call
		rr := e.svc.SynchronizeAccount(e.ctx, c, reseller())
		wantCode(t, "sync", rr, 0)
		good := subDef("", "1", rr.Result, 2)
		sub := e.svc.Subscription(e.ctx, c, "create", good, false)
		wantCode(t, "create", sub, 0)
		before := e.state()
		mod := func(f func(*bss.ServiceDefinition)) bss.ServiceDefinition {
			d := subDef("", "2", rr.Result, 2)
			f(&d)
			return d
		}
		for _, tc := range []struct {
			name, action, msg string
			def               bss.ServiceDefinition
		}{
			{"unknown product", "create", "Unknown product", mod(func(d *bss.ServiceDefinition) { d.AttributeList = nil; d.ProductID = "nope" })},
			{"unknown plan", "create", "Unknown plan", mod(func(d *bss.ServiceDefinition) { d.AttributeList["ICPlan"] = bss.Attribute{Code: "Gold"} })},
			{"unknown service type", "create", "Unknown service type", mod(func(d *bss.ServiceDefinition) { d.ServiceType = "Other" })},
			{"zero quantity", "create", "at least 1", mod(func(d *bss.ServiceDefinition) { d.Quantity = 0 })},
			{"negative quantity", "create", "at least 1", mod(func(d *bss.ServiceDefinition) { d.Quantity = -3 })},
			{"unknown account", "create", "not synchronized", mod(func(d *bss.ServiceDefinition) { d.Account = bss.AccountDefinition{ID: "x", ExternalID: "a-000"} })},
			{"over capacity", "create", "contract capacity exhausted: 8000000000000 bytes free", mod(func(d *bss.ServiceDefinition) { d.Quantity = 9 })},
			{"unknown subscription", "update", "not found", mod(func(d *bss.ServiceDefinition) { d.ID = "s-nope" })},
			{"update to zero", "update", "at least 1", mod(func(d *bss.ServiceDefinition) { d.ID, d.Quantity = sub.Result, 0 })},
			{"update beyond the contract", "update", "contract capacity exhausted", mod(func(d *bss.ServiceDefinition) { d.ID, d.Quantity = sub.Result, 11 })},
			{"unknown action", "upgrade", "Unknown subscription action", mod(func(d *bss.ServiceDefinition) {})},
			// Issue 14: ids of 10,000 characters were accepted.
			{"10,000-character SubscriptionID", "create", "SubscriptionID: must be at most 128 characters", mod(func(d *bss.ServiceDefinition) { d.SubscriptionID = strings.Repeat("s", 10_000) })},
			{"over-long account ExternalID", "create", "Account.ExternalID: must be at most 128 characters", mod(func(d *bss.ServiceDefinition) { d.Account.ExternalID += strings.Repeat("x", 128) })},
			{"over-long name", "create", "Name: must be at most 255 characters", mod(func(d *bss.ServiceDefinition) { d.Name = strings.Repeat("n", 256) })},
			{"control character in an id", "update", "ID: must not contain control characters", mod(func(d *bss.ServiceDefinition) { d.ID = sub.Result + "\x01" })},
		} {
			for _, check := range []bool{true, false} {
				r := e.svc.Subscription(e.ctx, c, tc.action, tc.def, check)
				if r.Code != -1 || !strings.Contains(r.Message, tc.msg) || r.Internal {
					t.Errorf("%s (checkOnly %t): %+v, want Code -1 with %q", tc.name, check, r, tc.msg)
				}
			}
		}
		add := good
		add.ID = sub.Result
		for _, tc := range []struct {
			name, action, msg string
			addon             bss.AddonDefinition
		}{
			{"unknown add-on product", "create", "Unknown add-on product", bss.AddonDefinition{ProductID: "x", ActionType: bss.ActionProvision, Quantity: 1}},
			{"zero add-on", "create", "at least 1", bss.AddonDefinition{ProductID: bss.AddonExtraTB, ActionType: bss.ActionProvision, Quantity: 0}},
			{"add-on beyond the contract", "create", "contract capacity exhausted", bss.AddonDefinition{ProductID: bss.AddonExtraTB, ActionType: bss.ActionProvision, Quantity: 9}},
			{"no add-on flagged", "create", "No add-on", bss.AddonDefinition{ProductID: bss.AddonExtraTB, ActionType: bss.ActionNone, Quantity: 1}},
			{"unknown add-on", "update", "not found", bss.AddonDefinition{ID: "ad-nope", ActionType: bss.ActionProvision, Quantity: 1}},
		} {
			add.Addons = []bss.AddonDefinition{tc.addon}
			r := e.svc.Addon(e.ctx, c, tc.action, add, false)
			if r.Code != -1 || !strings.Contains(r.Message, tc.msg) {
				t.Errorf("%s: %+v, want Code -1 with %q", tc.name, r, tc.msg)
			}
		}
		for _, tc := range []struct {
			name, msg string
			in        bss.AccountDefinition
		}{
			{"no account id", "Account ID is required", bss.AccountDefinition{Name: "X"}},
			{"unknown reseller", "not synchronized", bss.AccountDefinition{ID: "5", ResellerExternalID: "a-nope", Name: "X"}},
			{"kind change", "cannot change", bss.AccountDefinition{ID: "1021", ResellerID: "77", ResellerExternalID: rr.Result, Name: "X"}},
			{"10,000-character ID", "ID: must be at most 128 characters", bss.AccountDefinition{ID: strings.Repeat("7", 10_000), Name: "X"}},
			{"over-long description", "Description: must be at most 1000 characters", bss.AccountDefinition{ID: "8", Name: "X", Description: strings.Repeat("d", 1001)}},
		} {
			if r := e.svc.SynchronizeAccount(e.ctx, c, tc.in); r.Code != -1 || !strings.Contains(r.Message, tc.msg) {
				t.Errorf("%s: %+v, want Code -1 with %q", tc.name, r, tc.msg)
			}
		}
		c2 := c
		c2.Settings = map[string]string{"ICContractId": "nope"}
		if r := e.svc.SynchronizeAccount(e.ctx, c2, bss.AccountDefinition{ID: "6", Name: "Y"}); r.Code != -1 || !strings.Contains(r.Message, "Unknown contract") {
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
		if r := e.svc.SynchronizeAccount(e.ctx, c, bss.AccountDefinition{ID: long, Name: "Z"}); r.Code != 0 {
			t.Errorf("a 128-character account id: %+v", r)
		}
	})
}
