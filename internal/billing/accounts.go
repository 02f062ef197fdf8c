package billing

import (
	"context"
	"github.com/trellis-cloud/trellis/internal/clock"
	"strings"
	"unicode/utf8"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/money"
)

// AccountData are the customer-writable fields of a billing account, the
// full-replace set of ID-78 (ID-amb-17).
type AccountData struct {
	Title            string
	Email            string
	CompanyName      string
	CompanyRegCode   string
	CompanyVATNumber string
	AddressLine1     string
	City             string
	County           string
	Country          string // ISO 3166-1 alpha-2 or ""
	PostIndex        string
	SendInvoiceEmail bool
}

// MaxFieldLen bounds every text field of an account.
const MaxFieldLen = 255

// Validate checks the fields; errors name the wire field.
func (d AccountData) Validate() error {
	for _, f := range []struct{ name, v string }{
		{"title", d.Title}, {"email", d.Email}, {"company_name", d.CompanyName}, {"company_reg_code", d.CompanyRegCode},
		{"company_vat_number", d.CompanyVATNumber}, {"address_line1", d.AddressLine1}, {"city", d.City},
		{"county", d.County}, {"country", d.Country}, {"post_index", d.PostIndex},
	} {
		if len(f.v) > MaxFieldLen || !utf8.ValidString(f.v) || strings.ContainsAny(f.v, "\x00") {
			return errs.Invalidf(f.name, "must be UTF-8 text of at most %d bytes", MaxFieldLen)
		}
	}
	if d.Email != "" {
		at := strings.LastIndexByte(d.Email, '@')
		if at < 1 || at == len(d.Email)-1 || strings.ContainsAny(d.Email, " \t\r\n<>,;") {
			return errs.Invalid("email", "must be an e-mail address")
		}
	}
	if d.Country != "" && (len(d.Country) != 2 || d.Country[0] < 'A' || d.Country[0] > 'Z' || d.Country[1] < 'A' || d.Country[1] > 'Z') {
		return errs.Invalid("country", "must be an ISO 3166-1 alpha-2 code such as EE")
	}
	return nil
}

func (d AccountData) apply(a *Account) {
	a.Title, a.Email, a.CompanyName, a.CompanyRegCode = d.Title, d.Email, d.CompanyName, d.CompanyRegCode
	a.CompanyVATNumber, a.AddressLine1, a.City, a.County = d.CompanyVATNumber, d.AddressLine1, d.City, d.County
	a.Country, a.PostIndex, a.SendInvoiceEmail = d.Country, d.PostIndex, d.SendInvoiceEmail
}

// CreateAccountInput creates a billing account (operators through the
// native API, and the demo).
type CreateAccountInput struct {
	OrgID    string // the customer org; "" = the actor's own org
	UserID   int64  // the idcloudhost user number; 0 = none
	Currency string // "" = EUR
	Data     AccountData

	VATPercentage      int
	DiscountPercentage int
	AllowDebt          bool
	MaxDebt            int64
	PayingByInvoice    bool
	AdditionalData     string // a JSON object; "" = {}
	ReferralShareCode  string
	Reseller           string
	Site               string

	// WelcomeCredit (minor units, ≥ 0) is credited with the record "First
	// billing account".
	WelcomeCredit int64
	// ID is an explicit account number (the demo's account 6); 0 takes
	// the next one. The counter is raised past an explicit id.
	ID int64
}

// Validate checks the input.
func (in CreateAccountInput) Validate() error {
	if err := in.Data.Validate(); err != nil {
		return err
	}
	if in.Currency != "" {
		if _, err := money.ParseCurrency("currency", in.Currency); err != nil {
			return err
		}
	}
	if err := validPercentages(in.VATPercentage, in.DiscountPercentage); err != nil {
		return err
	}
	switch {
	case in.UserID < 0:
		return errs.Invalid("user_id", "must not be negative")
	case in.MaxDebt < 0:
		return errs.Invalid("max_debt", "must not be negative")
	case in.WelcomeCredit < 0:
		return errs.Invalid("welcome_credit", "must not be negative")
	case in.ID < 0:
		return errs.Invalid("id", "must not be negative")
	}
	for _, f := range []struct{ name, v string }{{"referral_share_code", in.ReferralShareCode}, {"reseller", in.Reseller}, {"site", in.Site}} {
		if len(f.v) > MaxFieldLen || !utf8.ValidString(f.v) {
			return errs.Invalidf(f.name, "must be UTF-8 text of at most %d bytes", MaxFieldLen)
		}
	}
	return validJSONObject("additional_data", in.AdditionalData)
}

func validPercentages(vat, discount int) error {
	if vat < 0 || vat > 100 {
		return errs.Invalid("vat_percentage", "must be an integer between 0 and 100")
	}
	if discount < 0 || discount > 100 {
		return errs.Invalid("discount_percentage", "must be an integer between 0 and 100")
	}
	return nil
}

// CreateAccount creates a billing account in an org of the actor's subtree.
// The first live account of a (org, user) becomes its default; the org row
// lock makes that race-safe.
func (s *Service) CreateAccount(ctx context.Context, a actor.Actor, in CreateAccountInput) (Account, error) {
	if err := a.Require(actor.Staff); err != nil {
		return Account{}, err
	}
	if a.BillingAccount != 0 {
		return Account{}, errs.New(errs.KindForbidden, "a token restricted to one billing account cannot create accounts")
	}
	if err := in.Validate(); err != nil {
		return Account{}, err
	}
	if err := in.mintCheck(a); err != nil {
		return Account{}, err
	}
	orgID := in.OrgID
	if orgID == "" {
		orgID = a.OrgID
	}
	var out Account
	err := s.store.Tx(ctx, func(tx Store) error {
		org, err := tx.GetOrg(ctx, a.Scope(), orgID)
		if errs.Is(err, errs.KindNotFound) {
			return &errs.Error{Kind: errs.KindNotFound, Field: "org_id", Msg: "org not found"}
		}
		if err != nil {
			return err
		}
		if err := tx.LockOrg(ctx, org.ID); err != nil {
			return err
		}
		id := in.ID
		if id == 0 {
			if id, err = tx.NextNumber(ctx, CounterBillingAccount); err != nil {
				return err
			}
		} else if err := tx.RaiseNumber(ctx, CounterBillingAccount, id); err != nil {
			return err
		}
		n, err := tx.CountBillingAccounts(ctx, org.ID, in.UserID)
		if err != nil {
			return err
		}
		now := clock.Micro(s.clock.Now())
		cur := in.Currency
		if cur == "" {
			cur = money.EUR.Code()
		}
		md := in.AdditionalData
		if md == "" {
			md = "{}"
		}
		acct := Account{ID: id, OrgID: org.ID, OrgPath: org.Path, UserID: in.UserID, Currency: cur,
			VATPercentage: in.VATPercentage, DiscountPercentage: in.DiscountPercentage, AllowDebt: in.AllowDebt,
			MaxDebt: in.MaxDebt, IsDefault: n == 0, IsActive: true, PayingByInvoice: in.PayingByInvoice,
			RecurringAmount: money.DecimalFromInt(0), RecurringThreshold: money.DecimalFromInt(0),
			AdditionalData: md, ReferralShareCode: in.ReferralShareCode, Reseller: in.Reseller, Site: in.Site,
			CreatedAt: now, UpdatedAt: now}
		in.Data.apply(&acct)
		if err := tx.InsertBillingAccount(ctx, acct); err != nil {
			if errs.Is(err, errs.KindConflict) {
				return &errs.Error{Kind: errs.KindConflict, Field: "id", Msg: "billing account already exists"}
			}
			return err
		}
		la, err := s.EnsureLedgerAccountsTx(ctx, tx, acct)
		if err != nil {
			return err
		}
		if in.WelcomeCredit > 0 {
			// Promotional credit is a contra-revenue entry: the account's
			// revenue goes down by what its credit goes up.
			if _, err := s.addCreditTx(ctx, tx, acct, la, in.WelcomeCredit, la.Revenue,
				"credit:welcome:"+itoa(acct.ID), CreditFirstAccount); err != nil {
				return err
			}
		}
		out = acct
		return nil
	})
	return out, err
}

// ResolveAccount finds the billing account a request means (ID-amb-24): a
// token restricted to one account always means that account (naming another
// is forbidden); otherwise id 0 (absent) means the caller's default account
// and any other id must be an account of the caller's subtree (another
// tenant's is not found). Deleted accounts are returned too; writes check.
func (s *Service) ResolveAccount(ctx context.Context, a actor.Actor, id int64) (Account, error) {
	return s.resolve(ctx, s.store, a, id)
}

// ResolveAccountTx is ResolveAccount inside the caller's transaction.
func (s *Service) ResolveAccountTx(ctx context.Context, tx Queries, a actor.Actor, id int64) (Account, error) {
	return s.resolve(ctx, tx, a, id)
}

// resolve is ResolveAccount on q: inside a transaction it must read through
// the transaction (a second pool connection per transaction could exhaust
// the pool under load and deadlock).
func (s *Service) resolve(ctx context.Context, q Queries, a actor.Actor, id int64) (Account, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return Account{}, err
	}
	if id < 0 {
		return Account{}, errs.Invalid("billing_account_id", "must be a whole number")
	}
	if a.BillingAccount != 0 {
		if id != 0 && id != a.BillingAccount {
			return Account{}, &errs.Error{Kind: errs.KindForbidden, Field: "billing_account_id",
				Msg: "the token is restricted to another billing account"}
		}
		id = a.BillingAccount
	}
	if id == 0 {
		list, err := q.ListBillingAccounts(ctx, a.Scope(), AccountFilter{OrgID: a.OrgID})
		if err != nil {
			return Account{}, err
		}
		for _, acct := range list {
			if acct.IsDefault {
				return acct, nil
			}
		}
		return Account{}, errs.Invalid("billing_account_id", "is required (there is no default billing account)")
	}
	acct, err := q.GetBillingAccount(ctx, a.Scope(), id)
	if errs.Is(err, errs.KindNotFound) {
		return Account{}, &errs.Error{Kind: errs.KindNotFound, Field: "billing_account_id", Msg: "billing account not found"}
	}
	return acct, err
}

// GetAccount returns an account of the caller (ResolveAccount).
func (s *Service) GetAccount(ctx context.Context, a actor.Actor, id int64) (Account, error) {
	return s.ResolveAccount(ctx, a, id)
}

// AccountByID returns any account, for internal callers (jobs, payments).
func (s *Service) AccountByID(ctx context.Context, id int64) (Account, error) {
	return s.store.GetBillingAccount(ctx, "/", id)
}

// ListAccounts returns the caller's accounts by id; deleted ("shadow")
// accounts only with showShadow (ID-80). A restricted token sees its one
// account.
func (s *Service) ListAccounts(ctx context.Context, a actor.Actor, showShadow bool) ([]Account, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return nil, err
	}
	return s.store.ListBillingAccounts(ctx, a.Scope(), AccountFilter{ID: a.BillingAccount, ShowShadow: showShadow})
}

// writable resolves the account for a write and locks it: it must be live.
func (s *Service) writable(ctx context.Context, tx Queries, a actor.Actor, id int64) (Account, error) {
	acct, err := s.resolve(ctx, tx, a, id)
	if err != nil {
		return Account{}, err
	}
	if err := a.Require(actor.Staff); err != nil {
		return Account{}, err
	}
	acct, err = tx.LockBillingAccount(ctx, acct.ID)
	if err != nil {
		return Account{}, err
	}
	if acct.Deleted() {
		return Account{}, &errs.Error{Kind: errs.KindPrecondition, Field: "billing_account_id", Msg: "the billing account is deleted"}
	}
	if acct.ManagedBy != "" {
		return Account{}, &errs.Error{Kind: errs.KindConflict, Field: "billing_account_id",
			Msg: "billing account " + itoa(acct.ID) + " is a " + acct.ManagedBy + " project: change it through the Partner API"}
	}
	return acct, nil
}

// UpdateAccount replaces the account's data fields (ID-78, ID-amb-17):
// fields absent from data are cleared, except the e-mail, which an empty
// value leaves unchanged, and the recurring-payment fields, which are not
// part of data.
func (s *Service) UpdateAccount(ctx context.Context, a actor.Actor, id int64, data AccountData) (Account, error) {
	if err := data.Validate(); err != nil {
		return Account{}, err
	}
	var out Account
	err := s.store.Tx(ctx, func(tx Store) error {
		acct, err := s.writable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		email := acct.Email
		data.apply(&acct)
		if data.Email == "" {
			acct.Email = email
		}
		acct.UpdatedAt = clock.Micro(s.clock.Now())
		out = acct
		return tx.UpdateBillingAccount(ctx, acct)
	})
	return out, err
}
