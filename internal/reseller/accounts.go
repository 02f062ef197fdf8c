package reseller

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/validate"
)

// MaxAdditionalData bounds an account's AdditionalData object.
const MaxAdditionalData = 64 << 10

// AccountFilter narrows ListAccounts.
type AccountFilter struct {
	Email        string // substring of the e-mail, case-insensitive
	InternalOnly bool   // only accounts with the internal role (IT-amb-10)
	SimpleOne    *bool  // nil: both kinds
}

// ListAccounts returns the partner's live accounts, oldest first.
func (s *Service) ListAccounts(ctx context.Context, a actor.Actor, f AccountFilter) ([]Account, error) {
	if err := reader(a); err != nil {
		return nil, err
	}
	if len(f.Email) > 254 {
		return nil, errs.Invalid("email", "must be at most 254 characters")
	}
	return s.store.ListResellerAccounts(ctx, a.Scope(), AccountQuery{EmailContains: strings.TrimSpace(f.Email),
		InternalOnly: f.InternalOnly, SimpleOne: f.SimpleOne})
}

// CreateAccountInput creates an account (IT-2).
type CreateAccountInput struct {
	Email          string
	State          string // StateNotActivated or StateActive
	AdditionalData json.RawMessage
	InternalRole   bool
	// PartnerID is the partner for operators; "" = the caller's partner.
	PartnerID string
}

// validate checks the state (a choice, first), the email and the
// additional data.
func (in *CreateAccountInput) validate() error {
	if err := oneOf("State", in.State, []string{StateNotActivated, StateActive}); err != nil {
		return err
	}
	e, err := validate.Email("Email", in.Email)
	if err != nil {
		return err
	}
	in.Email = e
	ad, err := objectJSON("AdditionalData", in.AdditionalData)
	if err != nil {
		return err
	}
	in.AdditionalData = ad
	return nil
}

// objectJSON checks an optional JSON object and returns it compacted ("{}"
// when absent or null).
func objectJSON(field string, raw json.RawMessage) (json.RawMessage, error) {
	t := strings.TrimSpace(string(raw))
	if t == "" || t == "null" {
		return json.RawMessage("{}"), nil
	}
	if len(t) > MaxAdditionalData {
		return nil, errs.Invalidf(field, "must be at most %d bytes", MaxAdditionalData)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(t), &m); err != nil || m == nil {
		return nil, errs.Invalid(field, "must be a JSON object")
	}
	b, err := json.Marshal(m) // compact, keys sorted
	if err != nil {
		return nil, errs.Invalid(field, "must be a JSON object")
	}
	return b, nil
}

func newToken() string {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// CreateAccount creates an account with its personal project. A
// NotActivated account gets an activation token, an outbox e-mail with the
// link and an "account.activation_sent" audit event.
func (s *Service) CreateAccount(ctx context.Context, a actor.Actor, in CreateAccountInput) (Account, error) {
	if err := writer(a); err != nil {
		return Account{}, err
	}
	if err := in.validate(); err != nil {
		return Account{}, err
	}
	var out Account
	err := s.store.Tx(ctx, func(tx Store) error {
		p, err := s.partnerOf(ctx, tx, a, in.PartnerID)
		if err != nil {
			return err
		}
		now := s.now()
		acct := Account{ID: ids.New(), PartnerID: p.ID, PartnerPath: p.Path, Email: in.Email, State: in.State,
			AdditionalData: in.AdditionalData, InternalRole: in.InternalRole, CreatedAt: now, UpdatedAt: now}
		if in.State == StateNotActivated {
			acct.ActivationToken = newToken()
		} else {
			acct.ActivatedAt = &now
		}
		if err := s.insertAccountTx(ctx, tx, a, p.ID, p.Path, &acct); err != nil {
			return err
		}
		if in.State == StateNotActivated {
			link := s.cfg.ActivationURL + "?account=" + url.QueryEscape(acct.ID) + "&token=" + url.QueryEscape(acct.ActivationToken)
			if err := tx.InsertOutboxEmail(ctx, billing.OutboxEmail{ID: ids.New(), To: acct.Email,
				Subject: "Activate your account", Body: "Activate your account: " + link, CreatedAt: now}); err != nil {
				return err
			}
			if err := tx.AppendAudit(ctx, audit.New(a, now, "account.activation_sent", "reseller_account", acct.ID,
				p.Path, fmt.Sprintf("email=%q", acct.Email))); err != nil {
				return err
			}
		}
		out = acct
		return nil
	})
	return out, err
}

// insertAccountTx inserts acct and its personal project.
func (s *Service) insertAccountTx(ctx context.Context, tx Queries, a actor.Actor, partnerID, partnerPath string, acct *Account) error {
	proj, err := s.createProjectTx(ctx, tx, partnerID, partnerPath, acct.ID, acct.Email, acct.SimpleOneCompanyID)
	if err != nil {
		return err
	}
	acct.PersonalProjectID = proj.ID
	if err := tx.InsertResellerAccount(ctx, *acct); err != nil {
		if errs.Is(err, errs.KindConflict) && acct.SimpleOne {
			return &errs.Error{Kind: errs.KindConflict, Field: "SimpleOneUserId",
				Msg: "the partner already has an account of this SimpleOne user"}
		}
		return err
	}
	if err := tx.InsertResellerProject(ctx, proj); err != nil {
		return err
	}
	return tx.AppendAudit(ctx, audit.New(a, acct.CreatedAt, "reseller_account.create", "reseller_account", acct.ID,
		partnerPath, fmt.Sprintf("email=%q state=%s project=%d", acct.Email, acct.State, proj.ID)))
}

// ActivateAccount moves a NotActivated account to Active. The token must
// match the one e-mailed; operators (not reseller keys) may pass "".
func (s *Service) ActivateAccount(ctx context.Context, a actor.Actor, id, token string) (Account, error) {
	if err := writer(a); err != nil {
		return Account{}, err
	}
	var out Account
	err := s.store.Tx(ctx, func(tx Store) error {
		acct, err := tx.GetResellerAccount(ctx, a.Scope(), id)
		if err != nil {
			return err
		}
		if acct.State == StateActive {
			out = acct
			return nil
		}
		if token == "" && (a.ResellerRole != "" || a.OrgKind == actor.Partner) {
			return errs.Invalid("token", "is required")
		}
		if token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(acct.ActivationToken)) != 1 {
			return errs.Invalid("token", "does not match the activation link")
		}
		now := s.now()
		acct.State, acct.ActivationToken, acct.ActivatedAt, acct.UpdatedAt = StateActive, "", &now, now
		if err := tx.UpdateResellerAccount(ctx, acct); err != nil {
			return err
		}
		out = acct
		return tx.AppendAudit(ctx, audit.New(a, now, "reseller_account.activate", "reseller_account", acct.ID,
			acct.PartnerPath, ""))
	})
	return out, err
}

// GetAccount returns a live account of the partner.
func (s *Service) GetAccount(ctx context.Context, a actor.Actor, id string) (Account, error) {
	if err := reader(a); err != nil {
		return Account{}, err
	}
	return s.store.GetResellerAccount(ctx, a.Scope(), id)
}

// DeleteAccount deletes an account under IT-5's three guards: (1) it has
// only its personal project (it is no member of another project and its
// project is not shared), (2) that project's balance is ≤ 0, (3) the project
// has no active services and no open tickets. A failed guard is a
// KindConflict naming every guard that failed; nothing changes.
func (s *Service) DeleteAccount(ctx context.Context, a actor.Actor, id string) error {
	return s.deleteAccount(ctx, a, id, false, true)
}

// deleteAccount deletes an account; personalOnly adds IT-5's first guard
// (SimpleOne deletion, IT-20, has only the other two).
func (s *Service) deleteAccount(ctx context.Context, a actor.Actor, id string, simpleOne, personalOnly bool) error {
	if err := writer(a); err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx Store) error {
		acct, err := tx.GetResellerAccount(ctx, a.Scope(), id)
		if err != nil {
			return err
		}
		if simpleOne && !acct.SimpleOne {
			return errs.NotFound("SimpleOne account")
		}
		if simpleOne {
			if err := requireFeature(ctx, tx, acct.PartnerID, FeatureSimpleOneSupport); err != nil {
				return err
			}
		}
		return s.deleteAccountTx(ctx, tx, a, acct, personalOnly)
	})
}

func (s *Service) deleteAccountTx(ctx context.Context, tx Queries, a actor.Actor, acct Account, personalOnly bool) error {
	proj, err := tx.LockResellerProject(ctx, acct.PersonalProjectID)
	if err != nil {
		return err
	}
	var failed []string
	if personalOnly {
		in, err := tx.ListResellerProjects(ctx, "/", acct.ID)
		if err != nil {
			return err
		}
		others := 0
		for _, p := range in {
			if p.ID != proj.ID {
				others++
			}
		}
		if others > 0 || len(proj.Members) > 1 {
			failed = append(failed, fmt.Sprintf("the account must have only its personal project and no shared ones "+
				"(it is a member of %d other project(s); its project is shared with %d other account(s))",
				others, len(proj.Members)-1))
		}
	}
	if proj.Balance > 0 {
		bal := money.NewAmount(proj.Balance, money.RUB)
		if cur, err := money.ParseCurrency("currency", proj.Currency); err == nil {
			bal = money.NewAmount(proj.Balance, cur)
		}
		failed = append(failed, fmt.Sprintf("the personal project's balance must be zero or negative (it is %s)", bal))
	}
	svc, err := s.services.ActiveServicesTx(ctx, tx, proj.ID)
	if err != nil {
		return err
	}
	tick, err := s.tickets.OpenTicketsTx(ctx, tx, proj.ID)
	if err != nil {
		return err
	}
	if svc > 0 || tick > 0 {
		failed = append(failed, fmt.Sprintf("the personal project must have no active services or open support requests "+
			"(it has %d active service(s) and %d open ticket(s))", svc, tick))
	}
	if len(failed) > 0 {
		return errs.New(errs.KindConflict, "the account cannot be deleted: "+strings.Join(failed, "; "))
	}
	now := s.now()
	acct.DeletedAt, acct.UpdatedAt = &now, now
	if err := tx.UpdateResellerAccount(ctx, acct); err != nil {
		return err
	}
	proj.DeletedAt, proj.UpdatedAt = &now, now
	if err := tx.UpdateResellerProject(ctx, proj); err != nil {
		return err
	}
	if _, err := tx.RemoveResellerProjectMember(ctx, proj.ID, acct.ID); err != nil {
		return err
	}
	if _, err := tx.SoftDeleteBillingAccount(ctx, proj.ID, now); err != nil {
		return err
	}
	return tx.AppendAudit(ctx, audit.New(a, now, "reseller_account.delete", "reseller_account", acct.ID,
		acct.PartnerPath, fmt.Sprintf("project=%d", proj.ID)))
}

// ---- SimpleOne (IT-3, IT-17..22) ----

// CreateSimpleOneInput creates a SimpleOne account (ids as decimal strings).
type CreateSimpleOneInput struct{ CompanyID, UserID, Email string }

func simpleOneID(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", errs.Invalid(field, "is required")
	}
	if len(v) > 30 {
		return "", errs.Invalid(field, "must be at most 30 digits")
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return "", errs.Invalid(field, "must be a decimal number")
		}
	}
	return v, nil
}

// CreateSimpleOneAccount creates an Active account of a SimpleOne user with
// a personal project linked to the SimpleOne company. One live account per
// SimpleOne user and partner.
func (s *Service) CreateSimpleOneAccount(ctx context.Context, a actor.Actor, in CreateSimpleOneInput) (Account, error) {
	if err := writer(a); err != nil {
		return Account{}, err
	}
	company, err := simpleOneID("SimpleOneCompanyId", in.CompanyID)
	if err != nil {
		return Account{}, err
	}
	user, err := simpleOneID("SimpleOneUserId", in.UserID)
	if err != nil {
		return Account{}, err
	}
	email, err := validate.Email("Email", in.Email)
	if err != nil {
		return Account{}, err
	}
	var out Account
	err = s.store.Tx(ctx, func(tx Store) error {
		p, err := s.partnerOf(ctx, tx, a, "")
		if err != nil {
			return err
		}
		if err := requireFeature(ctx, tx, p.ID, FeatureSimpleOneSupport); err != nil {
			return err
		}
		if _, err := tx.GetResellerAccountBySimpleOneUser(ctx, p.ID, user); err == nil {
			return &errs.Error{Kind: errs.KindConflict, Field: "SimpleOneUserId",
				Msg: "the partner already has an account of this SimpleOne user"}
		} else if !errs.Is(err, errs.KindNotFound) {
			return err
		}
		now := s.now()
		acct := Account{ID: ids.New(), PartnerID: p.ID, PartnerPath: p.Path, Email: email, State: StateActive,
			AdditionalData: json.RawMessage("{}"), SimpleOne: true, SimpleOneUserID: user, SimpleOneCompanyID: company,
			CreatedAt: now, UpdatedAt: now, ActivatedAt: &now}
		if err := s.insertAccountTx(ctx, tx, a, p.ID, p.Path, &acct); err != nil {
			return err
		}
		out = acct
		return nil
	})
	return out, err
}

// GetSimpleOneAccount returns a live SimpleOne account.
func (s *Service) GetSimpleOneAccount(ctx context.Context, a actor.Actor, id string) (Account, error) {
	if err := s.RequireFeature(ctx, a, FeatureSimpleOneSupport); err != nil {
		return Account{}, err
	}
	acct, err := s.GetAccount(ctx, a, id)
	if err != nil {
		return Account{}, err
	}
	if !acct.SimpleOne {
		return Account{}, errs.NotFound("SimpleOne account")
	}
	return acct, nil
}

// DeleteSimpleOneAccount deletes a SimpleOne account under IT-20's guards
// (balance ≤ 0; no active services or open tickets).
func (s *Service) DeleteSimpleOneAccount(ctx context.Context, a actor.Actor, id string) error {
	return s.deleteAccount(ctx, a, id, true, false)
}

// DeleteSimpleOneAccountByUser deletes the SimpleOne account of a SimpleOne
// user (IT-21) under the same guards.
func (s *Service) DeleteSimpleOneAccountByUser(ctx context.Context, a actor.Actor, userID string) error {
	if err := writer(a); err != nil {
		return err
	}
	user, err := simpleOneID("SimpleOneUserId", userID)
	if err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx Store) error {
		p, err := s.partnerOf(ctx, tx, a, "")
		if err != nil {
			return err
		}
		if err := requireFeature(ctx, tx, p.ID, FeatureSimpleOneSupport); err != nil {
			return err
		}
		acct, err := tx.GetResellerAccountBySimpleOneUser(ctx, p.ID, user)
		if errs.Is(err, errs.KindNotFound) {
			return &errs.Error{Kind: errs.KindNotFound, Field: "SimpleOneUserId", Msg: "no account of this SimpleOne user"}
		}
		if err != nil {
			return err
		}
		return s.deleteAccountTx(ctx, tx, a, acct, false)
	})
}

// ChangeSimpleOneCompany re-links a SimpleOne project (and its owner
// account) to another SimpleOne company (IT-22).
func (s *Service) ChangeSimpleOneCompany(ctx context.Context, a actor.Actor, projectID int64, companyID string) (Project, error) {
	if err := writer(a); err != nil {
		return Project{}, err
	}
	company, err := simpleOneID("NewSimpleOneCompanyId", companyID)
	if err != nil {
		return Project{}, err
	}
	var out Project
	err = s.store.Tx(ctx, func(tx Store) error {
		p, err := tx.GetResellerProject(ctx, a.Scope(), projectID)
		if err != nil {
			return err
		}
		if err := requireFeature(ctx, tx, p.PartnerID, FeatureSimpleOneSupport); err != nil {
			return err
		}
		if p.SimpleOneCompanyID == "" {
			return errs.NotFound("SimpleOne project")
		}
		p, err = tx.LockResellerProject(ctx, p.ID)
		if err != nil {
			return err
		}
		now := s.now()
		old := p.SimpleOneCompanyID
		p.SimpleOneCompanyID, p.UpdatedAt = company, now
		if err := tx.UpdateResellerProject(ctx, p); err != nil {
			return err
		}
		if owner, err := tx.GetResellerAccount(ctx, "/", p.OwnerAccountID); err == nil {
			owner.SimpleOneCompanyID, owner.UpdatedAt = company, now
			if err := tx.UpdateResellerAccount(ctx, owner); err != nil {
				return err
			}
		} else if !errs.Is(err, errs.KindNotFound) {
			return err
		}
		out = p
		return tx.AppendAudit(ctx, audit.New(a, now, "project.simpleone_company", "reseller_project",
			fmt.Sprint(p.ID), p.PartnerPath, fmt.Sprintf("from=%s to=%s", old, company)))
	})
	return out, err
}
