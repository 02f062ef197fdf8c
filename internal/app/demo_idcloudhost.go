package app

import (
	"context"
	"fmt"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/compute"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/network"
	"github.com/trellis-cloud/trellis/internal/payment"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// DemoIDCHCustomerID is the customer org of the idcloudhost demo user, under
// the demo partner.
const DemoIDCHCustomerID = "0bc1a0d0-0008-4000-8000-000000000008"

// The demo's resources: the seed's example network and VM uuids (the VM
// create body names network 50341410-…, the VM samples VM f80b1d62-…),
// and documentation address ranges (RFC 5737) as public pools.
const (
	DemoNetworkUUID = "50341410-9e88-4af2-a21e-b8c898e33e52"
	DemoVMUUID      = "f80b1d62-ffe4-43ef-9210-60f05445456a"
	DemoVMDiskUUID  = "5aea1842-895f-4bd3-8bd6-e37b2282fb46"
)

var demoPools = []network.AddPoolRange{{Location: "cyc01", CIDR: "203.0.113.0/24"}, {Location: "bus02", CIDR: "198.51.100.0/24"}}

// loadIDCloudHostResources loads the resource side of the demo: the
// catalog (host pools, images, VM parameter rules), a public pool per
// location, user 8's default network in each location (the seed's network
// uuid in cyc01) and a running VM. Idempotent.
func (a *App) loadIDCloudHostResources(ctx context.Context, customer actor.Actor) error {
	sys := actor.System("demo")
	if err := a.Catalog.LoadDemoResources(ctx, sys); err != nil {
		return fmt.Errorf("demo catalog: %w", err)
	}
	for _, p := range demoPools {
		have, err := a.Network.ListPoolRanges(ctx, sys, p.Location)
		if err != nil {
			return fmt.Errorf("demo pools: %w", err)
		}
		if len(have) == 0 {
			if _, err := a.Network.AddPoolRange(ctx, sys, p); err != nil {
				return fmt.Errorf("demo pool %s: %w", p.CIDR, err)
			}
		}
	}
	if _, err := a.Network.LoadDemoNetwork(ctx, customer, "cyc01", DemoNetworkUUID, network.DefaultNetworkName); err != nil {
		return fmt.Errorf("demo network: %w", err)
	}
	if _, err := a.Network.CreateNetwork(ctx, customer, "bus02", nil); err != nil {
		return fmt.Errorf("demo network bus02: %w", err)
	}
	if _, err := a.Compute.GetVM(ctx, customer, "cyc01", DemoVMUUID); errs.Is(err, errs.KindNotFound) {
		_, err = a.Compute.CreateVM(ctx, customer, compute.CreateVMInput{Location: "cyc01",
			BillingAccountID: access.DemoIDCHBillingAccountID, Name: "Ubuntu-16-04", OSName: "ubuntu", OSVersion: "16.04",
			Username: "example", HasUsername: true, Password: "Password123", DiskGB: 20, VCPU: 2, RAMMB: 2048,
			NetworkUUID: DemoNetworkUUID, ReservePublicIP: true, NewUUID: DemoVMUUID, NewDiskUUID: DemoVMDiskUUID})
		if err != nil {
			return fmt.Errorf("demo VM: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("demo VM: %w", err)
	}
	return nil
}

// loadIDCloudHostDemo loads the idcloudhost seed's examples: the locations,
// user 8 with its profile, billing account 6 (the Get billing account
// sample's data), a tok_visa card as its primary payment method, and the
// tokens 2 (unrestricted) and 7 (restricted to account 6). It returns the
// unrestricted token. Idempotent.
func (a *App) loadIDCloudHostDemo(ctx context.Context) (string, error) {
	sys := actor.System("demo")
	if err := a.Catalog.LoadDemo(ctx, sys); err != nil {
		return "", fmt.Errorf("demo locations: %w", err)
	}
	if _, err := a.Tenancy.CreateOrg(ctx, sys, tenancy.CreateOrgInput{ID: DemoIDCHCustomerID, ParentID: DemoPartnerID,
		Name: "Cloudia Iaas", Details: "the idcloudhost seed's example user"}); err != nil && !errs.Is(err, errs.KindConflict) {
		return "", fmt.Errorf("demo idcloudhost customer: %w", err)
	}
	user, err := a.Identity.LoadDemoUser(ctx, DemoIDCHCustomerID)
	if err != nil {
		return "", fmt.Errorf("demo idcloudhost user: %w", err)
	}
	acct, err := a.Billing.AccountByID(ctx, access.DemoIDCHBillingAccountID)
	if errs.Is(err, errs.KindNotFound) {
		acct, err = a.Billing.CreateAccount(ctx, sys, billing.CreateAccountInput{ID: access.DemoIDCHBillingAccountID,
			OrgID: DemoIDCHCustomerID, UserID: user.ID, Currency: "EUR",
			Data: billing.AccountData{Title: "konto", Email: "user@example.com", CompanyName: "Firma", CompanyRegCode: "232",
				CompanyVATNumber: "235235", AddressLine1: "Puiestee", City: "Küla", County: "Moldaavia", Country: "EE",
				PostIndex: "314243123", SendInvoiceEmail: true},
			VATPercentage: 20, AdditionalData: `{"link_methods": ["duitku::FT", "duitku::M1"]}`,
			ReferralShareCode: "yfsx0q", Reseller: "Warren", Site: "warren",
			WelcomeCredit: money.NewAmount(200, money.EUR).Minor()})
	}
	if err != nil {
		return "", fmt.Errorf("demo billing account: %w", err)
	}
	// The customer acts for itself when it adds its card.
	customer := actor.Actor{Type: actor.TypeSystem, ID: "demo", OrgID: acct.OrgID, OrgPath: acct.OrgPath,
		OrgKind: actor.Customer, Role: actor.Admin, RequestID: "demo"}
	methods, err := a.Payment.ListMethods(ctx, customer, acct.ID)
	if err != nil {
		return "", fmt.Errorf("demo payment methods: %w", err)
	}
	if len(methods) == 0 {
		if _, err := a.Payment.AddCard(ctx, customer, payment.AddCardInput{AccountID: acct.ID, Token: "tok_visa"}); err != nil {
			return "", fmt.Errorf("demo card: %w", err)
		}
	}
	if err := a.loadIDCloudHostResources(ctx, customer); err != nil {
		return "", err
	}
	tokens, err := a.Identity.LoadDemoTokens(ctx)
	if err != nil {
		return "", fmt.Errorf("demo tokens: %w", err)
	}
	for _, t := range tokens {
		if !t.Restricted {
			return t.Secret, nil
		}
	}
	return "", fmt.Errorf("demo tokens: no unrestricted token among %d", len(tokens))
}
