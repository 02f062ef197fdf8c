package app_test

import (
	"fmt"
	"testing"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/app"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// Bootstrap prints a key only the first time; the sandbox loads the seed
// objects once, however often it runs, and keeps its keys working.
func TestBootstrapAndDemoAreIdempotent(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		a, err := app.New(ctx, d, app.Config{DataDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		first, err := a.Bootstrap(ctx, "")
		if err != nil || first.NewAdminKey == "" {
			t.Fatalf("first bootstrap: %+v %v", first, err)
		}
		again, err := a.Bootstrap(ctx, "")
		if err != nil || again.NewAdminKey != "" || again.Root.ID != first.Root.ID {
			t.Fatalf("second bootstrap: %+v %v", again, err)
		}
		creds, err := a.LoadDemo(ctx, first.Root, first.NewAdminKey)
		if err != nil {
			t.Fatal(err)
		}
		creds2, err := a.LoadDemo(ctx, first.Root, "")
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range creds {
			if creds2[k] != v {
				t.Errorf("%s changed on the second load", k)
			}
		}
		sys := actor.System("")
		orgs, err := a.Tenancy.ListOrgs(ctx, sys, tenancy.OrgFilter{Limit: 100})
		if err != nil || len(orgs) != 7 { // provider, distributor, three partners, the idcloudhost customer, the reseller
			t.Fatalf("%d orgs after two loads: %v", len(orgs), err)
		}
		c, err := a.Tenancy.GetContract(ctx, sys, app.DemoContractID)
		if err != nil || c.ReservedCapacity != 100e12 || c.AllocatedCapacity != 53e12 {
			t.Fatalf("demo contract: %+v %v", c, err)
		}
		// The idcloudhost demo: billing account 6 of user 8, with a primary card and 2.00 of credit.
		acct, err := a.Billing.AccountByID(ctx, 6)
		if err != nil || acct.UserID != 8 || acct.OrgID != app.DemoIDCHCustomerID || !acct.IsDefault || acct.VATPercentage != 20 {
			t.Fatalf("demo billing account: %+v %v", acct, err)
		}
		if credit, err := a.Billing.CreditBalance(ctx, 6); err != nil || credit != 200 {
			t.Errorf("demo credit = %d, %v; want 200 cents once, after two loads", credit, err)
		}
		if pm, ok, err := a.Payment.PrimaryMethod(ctx, 6); err != nil || !ok || !pm.IsVerified {
			t.Errorf("demo primary card: %+v %v %v", pm, ok, err)
		}
		who, err := a.Identity.Authenticate(ctx, creds["idcloudhost_key"], "")
		if err != nil || who.OrgID != app.DemoIDCHCustomerID || who.BillingAccount != 0 {
			t.Errorf("idcloudhost_key: %+v %v", who, err)
		}
		// The reseller demo: one account with a project holding the
		// 1234.00 of its paid invoice, once, and the two Partner API keys.
		for name, role := range map[string]string{"itglobal_user_key": "User", "itglobal_finance_key": "Finance"} {
			who, err := a.Reseller.Authenticate(ctx, creds[name], "")
			if err != nil || who.OrgID != app.DemoResellerID || who.ResellerRole != role {
				t.Errorf("%s: %+v %v", name, who, err)
			}
		}
		if in, err := a.BSS.Authenticate(ctx, creds["bss_application_id"], creds["bss_api_key"]); err != nil ||
			in.ContractID != app.DemoContractID || in.DistributorID != app.DemoDistributorID {
			t.Errorf("demo BSS installation: %+v %v", in, err)
		}
		var pid int64
		if _, err := fmt.Sscan(creds["itglobal_project_id"], &pid); err != nil {
			t.Fatalf("itglobal_project_id %q: %v", creds["itglobal_project_id"], err)
		}
		if money, bonus, err := a.Reseller.Balance(ctx, pid); err != nil || money != 123400 || bonus != 0 {
			t.Errorf("demo project balance = %d (bonus %d), %v; want 123400 once, after two loads", money, bonus, err)
		}
		for name, org := range map[string]string{"admin_key": first.Root.ID, "distributor_key": app.DemoDistributorID, "partner_key": app.DemoPartnerID} {
			who, err := a.Access.Authenticate(ctx, creds[name], "")
			if err != nil || who.OrgID != org || who.Role != actor.Admin {
				t.Errorf("%s: %+v %v", name, who, err)
			}
		}
	})
}

// newDemo builds an App on d with cfg, bootstraps it and loads the demo
// objects; it returns the app and the demo credentials.
func newDemo(t *testing.T, d *db.DB, cfg app.Config) (*app.App, map[string]string) {
	ctx := t.Context()
	t.Helper()
	a, err := app.New(ctx, d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	boot, err := a.Bootstrap(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	creds, err := a.LoadDemo(ctx, boot.Root, boot.NewAdminKey)
	if err != nil {
		t.Fatal(err)
	}
	return a, creds
}
