package bss

import (
	"context"
	"fmt"
	"strings"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/tenancy"
	"github.com/trellis-cloud/trellis/internal/validate"
)

// accountEmail is the account's e-mail: Email, else the primary contact's,
// else the username account option; "" when none is an address.
func accountEmail(in AccountInput) string {
	for _, c := range []string{in.Email, in.ContactEmail, in.Username} {
		if e, err := validate.Email("email", c); err == nil {
			return e
		}
	}
	return ""
}

func accountName(in AccountInput) (string, error) {
	name := strings.TrimSpace(in.Name)
	if name == "" {
		name = "BSS account " + strings.TrimSpace(in.ID)
	}
	if r := []rune(name); len(r) > validate.MaxName {
		name = string(r[:validate.MaxName])
	}
	n, err := validate.Name("Name", name)
	if err != nil {
		return "", refuse(errs.KindInvalid, "Invalid account name: %s", errs.Public(err))
	}
	return n, nil
}

// findAccount resolves a request's account: by our ExternalID, then by the
// BSS ID. Deleted accounts are returned too (callers decide).
func findAccount(ctx context.Context, tx Queries, appID string, in AccountInput) (Account, error) {
	if ext := strings.TrimSpace(in.ExternalID); ext != "" {
		a, err := tx.GetBSSAccountByExternalID(ctx, appID, ext)
		if !errs.Is(err, errs.KindNotFound) {
			return a, err
		}
	}
	if id := strings.TrimSpace(in.ID); id != "" {
		return tx.GetBSSAccount(ctx, appID, id)
	}
	return Account{}, errs.NotFound("account")
}

// liveAccount is findAccount refusing unknown and deleted accounts.
func liveAccount(ctx context.Context, tx Queries, appID string, in AccountInput) (Account, error) {
	a, err := findAccount(ctx, tx, appID, in)
	name := in.ExternalID
	if name == "" {
		name = in.ID
	}
	if errs.Is(err, errs.KindNotFound) || (err == nil && a.DeletedAt != nil) {
		return Account{}, refuse(errs.KindNotFound, "Account %q is not synchronized", name)
	}
	return a, err
}

// contractFor is the contract a new partner draws from: the ICContractId
// setting when the call carries one (it must be a contract of the
// installation's distributor), else the installation's.
func (s *Service) contractFor(ctx context.Context, tx Store, c Call) (tenancy.Contract, error) {
	id := c.Inst.ContractID
	if v := strings.TrimSpace(c.setting(FieldContractID)); v != "" {
		id = v
	}
	ct, err := tx.Tenancy().GetContract(ctx, c.Inst.DistributorPath, id)
	if errs.Is(err, errs.KindNotFound) || (err == nil && ct.OrgID != c.Inst.DistributorID) {
		return tenancy.Contract{}, refuse(errs.KindNotFound, "Unknown contract %q", id)
	}
	return ct, err
}

func (c Call) setting(id string) string {
	for k, v := range c.Settings {
		if strings.EqualFold(k, id) {
			return v
		}
	}
	return ""
}

// SynchronizeAccount creates or updates the vendor-side account
// (accounts/synchronize), keyed by the BSS account ID: an account without
// a reseller becomes a partner under the installation's contract (its
// allocation grows with its subscriptions); one with a reseller is an end
// customer of that reseller's partner.
func (s *Service) SynchronizeAccount(ctx context.Context, c Call, in AccountInput) (Outcome, error) {
	return s.run(ctx, c, op{"accounts/synchronize", "bss_account", in.ID}, false, checked(in.Validate(), func(tx Store) (Outcome, error) {
		bssID := strings.TrimSpace(in.ID)
		if bssID == "" {
			return Outcome{}, refuse(errs.KindInvalid, "Account ID is required")
		}
		name, err := accountName(in)
		if err != nil {
			return Outcome{}, err
		}
		email := accountEmail(in)
		kind := KindPartner
		if strings.TrimSpace(in.ResellerID) != "" || strings.TrimSpace(in.ResellerExternalID) != "" {
			kind = KindCustomer
		}
		ok := func(a Account) (Outcome, error) {
			return Outcome{Message: "Account synchronized", ID: a.ExternalID}, nil
		}
		existing, err := tx.GetBSSAccount(ctx, c.Inst.AppID, bssID)
		if err == nil {
			return s.updateAccount(ctx, tx, c, existing, kind, name, email, ok)
		}
		if !errs.Is(err, errs.KindNotFound) {
			return Outcome{}, err
		}
		now := s.now()
		acc := Account{AppID: c.Inst.AppID, BSSID: bssID, ExternalID: "a-" + shortID(), Kind: kind, Name: name,
			Email: email, CreatedAt: now, UpdatedAt: now}
		var org tenancy.Org
		if kind == KindPartner {
			ct, err := s.contractFor(ctx, tx, c)
			if err != nil {
				return Outcome{}, err
			}
			dist, err := tx.Tenancy().GetOrg(ctx, "/", c.Inst.DistributorID)
			if err != nil {
				return Outcome{}, err
			}
			id := ids.New()
			org = tenancy.Org{ID: id, Kind: actor.Partner, ParentID: dist.ID, Path: dist.Path + id + "/", Name: name,
				Details: "BSS account " + bssID, TimeZone: dist.TimeZone, CreatedAt: now, UpdatedAt: now, ContractID: ct.ID}
			acc.PartnerID, acc.PartnerPath = org.ID, org.Path
		} else {
			res, err := findAccount(ctx, tx, c.Inst.AppID, AccountInput{ID: in.ResellerID, ExternalID: in.ResellerExternalID})
			if errs.Is(err, errs.KindNotFound) || (err == nil && (res.DeletedAt != nil || res.Kind != KindPartner)) {
				r := in.ResellerExternalID
				if r == "" {
					r = in.ResellerID
				}
				return Outcome{}, refuse(errs.KindNotFound, "Reseller account %q is not synchronized", r)
			}
			if err != nil {
				return Outcome{}, err
			}
			acc.PartnerID, acc.PartnerPath, acc.ResellerID = res.PartnerID, res.PartnerPath, res.ExternalID
		}
		inserted, err := tx.InsertBSSAccount(ctx, acc)
		if err != nil {
			return Outcome{}, err
		}
		if !inserted {
			// A concurrent delivery of the same call won: answer as it did.
			existing, err := tx.GetBSSAccount(ctx, c.Inst.AppID, bssID)
			if err != nil {
				return Outcome{}, err
			}
			return ok(existing)
		}
		if kind == KindPartner {
			if err := tx.Tenancy().InsertOrg(ctx, org); err != nil {
				return Outcome{}, err
			}
			if err := tx.AppendAudit(ctx, audit.New(c.actor(), now, "partner.create", "partner", org.ID, org.Path,
				fmt.Sprintf("name=%q allocatedCapacity=0 bssAccount=%q", org.Name, bssID))); err != nil {
				return Outcome{}, err
			}
		}
		return ok(acc)
	}))
}

// updateAccount applies a repeated synchronize: name and e-mail follow the
// BSS, a deleted account comes back; an account cannot change kind.
func (s *Service) updateAccount(ctx context.Context, tx Store, c Call, a Account, kind, name, email string,
	ok func(Account) (Outcome, error)) (Outcome, error) {
	if a.Kind != kind {
		return Outcome{}, refuseOn(errs.KindConflict, a.ExternalID, "Account %q cannot change between reseller and end customer", a.BSSID)
	}
	if a.Name == name && a.Email == email && a.DeletedAt == nil {
		return ok(a)
	}
	if err := tx.LockBSSAccount(ctx, a.AppID, a.ExternalID); err != nil {
		return Outcome{}, err
	}
	now := s.now()
	if a.Kind == KindPartner && a.Name != name {
		t := tx.Tenancy()
		if err := t.LockOrg(ctx, a.PartnerID); err != nil {
			return Outcome{}, err
		}
		p, err := t.GetOrg(ctx, "/", a.PartnerID)
		if err != nil {
			return Outcome{}, err
		}
		p.Name, p.UpdatedAt = name, now
		if err := t.UpdateOrg(ctx, p); err != nil {
			return Outcome{}, err
		}
		if err := tx.AppendAudit(ctx, audit.New(c.actor(), now, "partner.update", "partner", p.ID, p.Path,
			fmt.Sprintf("name=%q", name))); err != nil {
			return Outcome{}, err
		}
	}
	a.Name, a.Email, a.DeletedAt, a.UpdatedAt = name, email, nil, now
	if err := tx.UpdateBSSAccount(ctx, a); err != nil {
		return Outcome{}, err
	}
	return ok(a)
}

// AccountExists looks an account up without side effects (accounts/exists):
// by the BSS ID, then by e-mail within the installation; when it exists the
// outcome names it (ID, Email).
func (s *Service) AccountExists(ctx context.Context, c Call, in AccountInput) (Outcome, error) {
	return s.run(ctx, c, op{"accounts/exists", "bss_account", in.ID}, false, checked(in.Validate(), func(tx Store) (Outcome, error) {
		a, err := findAccount(ctx, tx, c.Inst.AppID, in)
		if err == nil && a.DeletedAt != nil {
			err = errs.NotFound("account")
		}
		if errs.Is(err, errs.KindNotFound) {
			if e := accountEmail(in); e != "" {
				a, err = tx.FindBSSAccountByEmail(ctx, c.Inst.AppID, e)
			}
		}
		if errs.Is(err, errs.KindNotFound) {
			return Outcome{Message: "Account does not exist"}, nil
		}
		if err != nil {
			return Outcome{}, err
		}
		return Outcome{Message: "Account already exists", ID: a.ExternalID, Exists: true, Email: a.Email}, nil
	}))
}

// DeleteAccount removes an account (accounts/delete). It is refused while
// the account has live subscriptions (for a reseller: also its customers'
// on its partner); an unknown or deleted account is a success. The partner
// org stays: its cancelled storage accounts are still being deleted.
func (s *Service) DeleteAccount(ctx context.Context, c Call, in AccountInput) (Outcome, error) {
	return s.run(ctx, c, op{"accounts/delete", "bss_account", in.ID}, false, checked(in.Validate(), func(tx Store) (Outcome, error) {
		done := func(ext string) (Outcome, error) {
			return Outcome{Message: "Account deleted", ID: ext}, nil
		}
		a, err := findAccount(ctx, tx, c.Inst.AppID, in)
		if errs.Is(err, errs.KindNotFound) {
			return done(in.ExternalID)
		}
		if err != nil {
			return Outcome{}, err
		}
		if err := tx.LockBSSAccount(ctx, a.AppID, a.ExternalID); err != nil {
			return Outcome{}, err
		}
		if a, err = tx.GetBSSAccountByExternalID(ctx, a.AppID, a.ExternalID); err != nil {
			return Outcome{}, err
		}
		if a.DeletedAt != nil {
			return done(a.ExternalID)
		}
		partner := ""
		if a.Kind == KindPartner {
			partner = a.PartnerID
		}
		n, err := tx.CountLiveBSSSubscriptions(ctx, a.AppID, a.ExternalID, partner)
		if err != nil {
			return Outcome{}, err
		}
		if n > 0 {
			return Outcome{}, refuseOn(errs.KindPrecondition, a.ExternalID, "Account %s has %d live subscription(s); cancel them first", a.ExternalID, n)
		}
		now := s.now()
		a.DeletedAt, a.UpdatedAt = &now, now
		if err := tx.UpdateBSSAccount(ctx, a); err != nil {
			return Outcome{}, err
		}
		return done(a.ExternalID)
	}))
}

// ValidateSettings checks the settings a partner saves (fields/validate)
// and returns the problems, [] when there are none: ICContractId must be a
// contract of the installation's distributor; ICApiKey must be a Trellis
// API key of that distributor or of one of its partners.
func (s *Service) ValidateSettings(ctx context.Context, c Call, in []SettingValue) []string {
	out := []string{}
	for _, f := range in {
		v := strings.TrimSpace(f.Value)
		switch {
		case v == "":
		case strings.EqualFold(f.ID, FieldContractID):
			ct, err := s.store.Tenancy().GetContract(ctx, c.Inst.DistributorPath, v)
			if err != nil || ct.OrgID != c.Inst.DistributorID {
				out = append(out, fmt.Sprintf("Unknown contract %q: it must be a contract of your distributor organisation", v))
			}
		case strings.EqualFold(f.ID, FieldAPIKey):
			a, err := s.keys.Authenticate(ctx, v, c.TrackID)
			if err != nil || !strings.HasPrefix(a.OrgPath, c.Inst.DistributorPath) ||
				(a.OrgKind != actor.Distributor && a.OrgKind != actor.Partner) {
				out = append(out, "Invalid Trellis API key: it must be a key of your distributor organisation or of one of its partners")
			}
		}
	}
	return out
}
