package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// Bootstrapped reports what Bootstrap did.
type Bootstrapped struct {
	Root tenancy.Org
	// NewAdminKey is the provider admin key generated on first start; it is
	// shown once and never again.
	NewAdminKey string
}

// Bootstrap makes sure the provider org exists. On the first start it
// creates a provider admin key (or registers adminKey when given, for
// automation); later starts with adminKey make sure that key exists.
func (a *App) Bootstrap(ctx context.Context, adminKey string) (Bootstrapped, error) {
	var out Bootstrapped
	keys, err := a.Store.ListAPIKeys(ctx, "/", "", 1)
	if err != nil {
		return out, err
	}
	first := len(keys) == 0
	root, err := a.Tenancy.EnsureRoot(ctx, tenancy.CreateRootInput{Name: "Provider"})
	if err != nil {
		return out, err
	}
	out.Root = root
	if adminKey != "" {
		if _, err := a.Access.EnsureKey(ctx, root.ID, "bootstrap admin key", actor.Admin, adminKey); err != nil {
			return out, fmt.Errorf("admin key: %w", err)
		}
		return out, nil
	}
	if first {
		k, err := a.Access.CreateKey(ctx, actor.System(""), accessKey(root.ID, "provider admin key", actor.Admin))
		if err != nil {
			return out, err
		}
		out.NewAdminKey = k.Secret
	}
	return out, nil
}

// DemoCredentialsFile is the sandbox's key file, in the data dir.
const DemoCredentialsFile = "demo-credentials.json"

// The objects of the Impossible Cloud "Get started" walkthrough, with the
// documents' ids, names and capacities.
const (
	DemoDistributorID    = "7e1fe78d-3f61-4215-8c48-eda9e1b08f13"
	DemoContractID       = "606f031c-0f85-4444-8c7d-4a8f1ede7cd3"
	DemoOtherContractID  = "bb0a102d-ad4b-4738-b405-561add97abbb"
	DemoPartnerID        = "e37e6c0f-688e-4da4-8717-a52b48bcee3d"
	DemoOtherPartnerID   = "e4985686-c089-46fd-ae82-0af7ce2888bf"
	DemoReservedHolderID = "00000000-0000-4000-8000-000000000053"
)

// LoadDemo loads the sandbox (idempotently: a second run adds nothing) and
// writes the demo principals' keys to <data dir>/demo-credentials.json.
// adminKey, when known (just generated or given), is recorded as the admin
// key; otherwise the file's previous admin key is kept if it still works, or
// a new one is made.
func (a *App) LoadDemo(ctx context.Context, root tenancy.Org, adminKey string) (map[string]string, error) {
	sys := actor.System("demo")
	const tb = 1_000_000_000_000
	if _, err := a.Tenancy.CreateOrg(ctx, sys, tenancy.CreateOrgInput{ID: DemoDistributorID, ParentID: root.ID,
		Name: "Demo Distributor", TimeZone: "Europe/Berlin"}); err != nil && !errs.Is(err, errs.KindConflict) {
		return nil, fmt.Errorf("demo distributor: %w", err)
	}
	for _, c := range []tenancy.CreateContractInput{
		{ID: DemoContractID, OrgID: DemoDistributorID, ReservedCapacity: 100 * tb, CostStorageGBCents: 100,
			Currency: "EUR", Details: "Impossible Cloud Test Contract"},
		{ID: DemoOtherContractID, OrgID: DemoDistributorID, ReservedCapacity: 10 * tb, CostStorageGBCents: 100,
			Currency: "EUR", Details: "Another test contract"},
	} {
		if _, err := a.Tenancy.CreateContract(ctx, sys, c); err != nil && !errs.Is(err, errs.KindConflict) {
			return nil, fmt.Errorf("demo contract %s: %w", c.ID, err)
		}
	}
	// The walkthrough shows 53 TB allocated on the first contract but lists
	// partners holding only 5 TB; a third partner holds the other 48 TB so
	// that the contract list reads exactly as documented.
	for _, p := range []tenancy.CreatePartnerInput{
		{ID: DemoPartnerID, ContractID: DemoContractID, Name: "Test partner", AllocatedCapacity: 5 * tb},
		{ID: DemoOtherPartnerID, ContractID: DemoContractID, Name: "Another test partner", AllocatedCapacity: 0},
		{ID: DemoReservedHolderID, ContractID: DemoContractID, Name: "Demo reserved capacity", AllocatedCapacity: 48 * tb,
			Details: "holds the rest of the 53 TB the walkthrough shows as allocated"},
	} {
		// Checked first: a second run must not even try to allocate again.
		if _, err := a.Tenancy.GetOrg(ctx, sys, p.ID); err == nil {
			continue
		}
		if _, err := a.Tenancy.CreatePartner(ctx, sys, p); err != nil {
			return nil, fmt.Errorf("demo partner %s: %w", p.ID, err)
		}
	}
	if _, err := a.Objstore.PutRegion(ctx, sys, objstore.PutRegionInput{Name: "eu-central-2",
		S3URL: "http://127.0.0.1:9000", IAMURL: "http://127.0.0.1:9000", STSURL: "http://127.0.0.1:9000"}); err != nil {
		return nil, fmt.Errorf("demo region: %w", err)
	}

	path := filepath.Join(a.cfg.DataDir, DemoCredentialsFile)
	creds := map[string]string{}
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &creds); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if adminKey != "" {
		creds["admin_key"] = adminKey
	}
	for _, k := range []struct {
		name, orgID string
	}{
		{"admin_key", root.ID},
		{"distributor_key", DemoDistributorID},
		{"partner_key", DemoPartnerID},
	} {
		if key := creds[k.name]; key != "" {
			if got, err := a.Access.Authenticate(ctx, key, ""); err == nil && got.OrgID == k.orgID {
				continue
			}
		}
		created, err := a.Access.CreateKey(ctx, sys, accessKey(k.orgID, "demo "+k.name, actor.Admin))
		if err != nil {
			return nil, fmt.Errorf("demo %s: %w", k.name, err)
		}
		creds[k.name] = created.Secret
	}
	key, err := a.loadIDCloudHostDemo(ctx)
	if err != nil {
		return nil, err
	}
	creds["idcloudhost_key"] = key
	s3creds, err := a.loadObjectStorageDemo(ctx)
	if err != nil {
		return nil, err
	}
	maps.Copy(creds, s3creds)
	rcreds, err := a.loadResellerDemo(ctx, creds)
	if err != nil {
		return nil, err
	}
	maps.Copy(creds, rcreds)
	bcreds, err := a.loadBSSDemo(ctx, creds)
	if err != nil {
		return nil, err
	}
	maps.Copy(creds, bcreds)
	b, err := json.MarshalIndent(creds, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(a.cfg.DataDir, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return nil, err
	}
	return creds, nil
}

func accessKey(orgID, name string, role actor.Role) access.CreateKeyInput {
	return access.CreateKeyInput{OrgID: orgID, Name: name, Role: role}
}
