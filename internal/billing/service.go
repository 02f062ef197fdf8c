package billing

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/money"
)

// Usage is the metered usage billing prices and invoices (implemented by
// the metering service's hourly usage). Lines are grouped per resource
// configuration and unit price; from is inclusive, to exclusive.
type Usage interface {
	AccountsWithUsage(ctx context.Context, from, to time.Time) ([]int64, error)
	Lines(ctx context.Context, billingAccountID int64, from, to time.Time) ([]UsageLine, error)
}

// AutoPayer charges a freshly issued unpaid invoice to the account's primary
// card (implemented by payments). It runs after the invoice committed, never
// inside its transaction; a decline leaves the invoice unpaid.
type AutoPayer interface {
	AutoPay(ctx context.Context, inv Invoice) error
}

// ResourceCounter counts the resources still billed to an account (VMs,
// disks, buckets, IPs, load balancers, services): an account with any cannot
// be deleted (ID-amb-18). It reads through tx, the deletion's transaction,
// after the account's owner is locked: the guard and the write see the same
// data, and the read needs no second connection.
type ResourceCounter interface {
	ActiveResourcesTx(ctx context.Context, tx Store, billingAccountID int64) (int, error)
}

// Config tunes the service; zero values take the defaults.
type Config struct {
	// DueAfter is an invoice's payment term: due = created + DueAfter
	// (ID-amb-16: 1,200,000 s).
	DueAfter time.Duration
	// CloseGrace is how long after a month ends its usage may still be
	// recorded (metering's hour-close grace); the month is invoiced once
	// month end + CloseGrace ≤ now.
	CloseGrace time.Duration
	// LookbackMonths is how many closed months the invoice run looks at
	// (default 2: the last closed month and the one before, so a run
	// missed around a month boundary is caught up).
	LookbackMonths int
	// Workers is how many accounts the invoice run issues at once
	// (default 4).
	Workers int
	// MaxTopUp bounds a top-up invoice (minor units; default 1,000,000.00).
	MaxTopUp int64

	Usage     Usage           // nil: no usage (no invoices, zero running totals)
	Resources ResourceCounter // nil: accounts have no resources
}

// DefaultDueAfter is ID-amb-16's payment term.
const DefaultDueAfter = 1200000 * time.Second

// Service manages billing accounts, invoices and dunning.
type Service struct {
	store  Store
	ledger *ledger.Service
	clock  clock.Clock
	cfg    Config
}

// NewService returns a billing service.
func NewService(s Store, l *ledger.Service, c clock.Clock, cfg Config) *Service {
	if cfg.DueAfter <= 0 {
		cfg.DueAfter = DefaultDueAfter
	}
	if cfg.CloseGrace <= 0 {
		cfg.CloseGrace = time.Hour
	}
	if cfg.LookbackMonths <= 0 {
		cfg.LookbackMonths = 2
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.MaxTopUp <= 0 {
		cfg.MaxTopUp = 100_000_000
	}
	return &Service{store: s, ledger: l, clock: c, cfg: cfg}
}

// ---- ledger accounts ----

// LedgerAccounts are the ledger account ids of one billing account.
type LedgerAccounts struct {
	Currency        string
	Credit          string // floor 0: prepaid and promotional credit
	Receivables     string // unbounded: negative while the customer owes
	Revenue         string
	VATPayable      string
	PaymentClearing string
}

// EnsureLedgerAccountsTx creates (or finds) the billing account's ledger
// accounts inside the caller's transaction.
func (s *Service) EnsureLedgerAccountsTx(ctx context.Context, tx Queries, acct Account) (LedgerAccounts, error) {
	out := LedgerAccounts{Currency: acct.Cur().Code()}
	// One read finds them all once they exist (every call after the
	// account's creation); only missing ones are inserted.
	have, err := tx.ListLedgerAccounts(ctx, LedgerOwner(acct.ID))
	if err != nil {
		return LedgerAccounts{}, err
	}
	found := map[ledger.Kind]string{}
	for _, la := range have {
		if la.Currency == out.Currency {
			found[la.Kind] = la.ID
		}
	}
	for _, k := range []struct {
		kind  ledger.Kind
		floor ledger.Floor
		id    *string
	}{
		{ledger.KindCredit, ledger.AtLeast(0), &out.Credit},
		{ledger.KindReceivables, ledger.NoFloor(), &out.Receivables},
		{ledger.KindRevenue, ledger.NoFloor(), &out.Revenue},
		{ledger.KindVATPayable, ledger.NoFloor(), &out.VATPayable},
		{ledger.KindPaymentClearing, ledger.NoFloor(), &out.PaymentClearing},
	} {
		if id, ok := found[k.kind]; ok {
			*k.id = id
			continue
		}
		a, err := s.ledger.EnsureAccountTx(ctx, tx, ledger.AccountSpec{Owner: LedgerOwner(acct.ID), Kind: k.kind,
			Currency: out.Currency, Floor: k.floor})
		if err != nil {
			return LedgerAccounts{}, err
		}
		*k.id = a.ID
	}
	return out, nil
}

// CreditBalance returns the account's credit (the credit ledger balance).
func (s *Service) CreditBalance(ctx context.Context, accountID int64) (int64, error) {
	return creditBalance(ctx, s.store, accountID)
}

func creditBalance(ctx context.Context, q Queries, accountID int64) (int64, error) {
	accts, err := q.ListLedgerAccounts(ctx, LedgerOwner(accountID))
	if err != nil {
		return 0, err
	}
	for _, a := range accts {
		if a.Kind == ledger.KindCredit {
			return a.Balance, nil
		}
	}
	return 0, nil
}

// ---- accounts ----

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

// addCreditTx posts credit +amount against the counter account and writes
// the credit record.
func (s *Service) addCreditTx(ctx context.Context, tx Queries, acct Account, la LedgerAccounts, amount int64,
	counter, key, description string) (CreditRecord, error) {
	t, err := s.ledger.PostTx(ctx, tx, ledger.PostInput{IdempotencyKey: key, Description: description,
		Postings: []ledger.PostingInput{
			{AccountID: la.Credit, Currency: la.Currency, Amount: amount},
			{AccountID: counter, Currency: la.Currency, Amount: -amount},
		}})
	if err != nil {
		return CreditRecord{}, err
	}
	if t.Replayed {
		return CreditRecord{}, nil
	}
	return s.creditRecordTx(ctx, tx, acct.ID, amount, description, t.ID)
}

func (s *Service) creditRecordTx(ctx context.Context, tx Queries, accountID, amount int64, description, ledgerTx string) (CreditRecord, error) {
	id, err := tx.NextNumber(ctx, CounterCreditRecord)
	if err != nil {
		return CreditRecord{}, err
	}
	c := CreditRecord{ID: id, AccountID: accountID, Amount: amount, Description: description,
		CreatedAt: clock.Micro(s.clock.Now()), LedgerTransactionID: ledgerTx}
	return c, tx.InsertCreditRecord(ctx, c)
}

// AddCreditRecordTx writes a credit record inside the caller's transaction
// (payments: "Credit purchase" after its ledger posting). amount is signed.
func (s *Service) AddCreditRecordTx(ctx context.Context, tx Queries, accountID, amount int64, description, ledgerTx string) (CreditRecord, error) {
	if amount == 0 {
		return CreditRecord{}, errs.Invalid("amount", "must not be zero")
	}
	return s.creditRecordTx(ctx, tx, accountID, amount, description, ledgerTx)
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

// RecurringInput configures the recurring top-up (ID-79); nil fields stay.
type RecurringInput struct {
	Enabled   *bool
	Amount    *money.Decimal // is_recurring_payment amount, ≥ 0, at most 2 decimals
	Threshold *money.Decimal
}

// SetRecurring stores the recurring top-up configuration. The immediate
// top-up when ongoing is already below the threshold is payments' job.
func (s *Service) SetRecurring(ctx context.Context, a actor.Actor, id int64, in RecurringInput) (Account, error) {
	for _, f := range []struct {
		name string
		v    *money.Decimal
	}{{"recurring_payment_amount", in.Amount}, {"recurring_payment_threshold", in.Threshold}} {
		if f.v == nil {
			continue
		}
		if f.v.Sign() < 0 {
			return Account{}, errs.Invalid(f.name, "must not be negative")
		}
		if !f.v.Equal(f.v.Truncate(2)) || f.v.GreaterThan(money.DecimalFromInt(1_000_000)) {
			return Account{}, errs.Invalid(f.name, "must have at most 2 decimals and be at most 1000000")
		}
	}
	var out Account
	err := s.store.Tx(ctx, func(tx Store) error {
		acct, err := s.writable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if in.Enabled != nil {
			acct.RecurringEnabled = *in.Enabled
		}
		if in.Amount != nil {
			acct.RecurringAmount = *in.Amount
		}
		if in.Threshold != nil {
			acct.RecurringThreshold = *in.Threshold
		}
		acct.UpdatedAt = clock.Micro(s.clock.Now())
		out = acct
		return tx.UpdateBillingAccount(ctx, acct)
	})
	return out, err
}

// AdminInput changes the operator-only fields; nil fields stay.
type AdminInput struct {
	VATPercentage      *int
	DiscountPercentage *int
	AllowDebt          *bool
	MaxDebt            *int64 // minor units, ≥ 0
	PayingByInvoice    *bool
	IsActive           *bool
}

// AdminUpdate changes VAT, discount, debt and activity: operators only (an
// org above the customer, admin role). It affects invoices issued later.
func (s *Service) AdminUpdate(ctx context.Context, a actor.Actor, id int64, in AdminInput) (Account, error) {
	if err := a.Require(actor.Admin); err != nil {
		return Account{}, err
	}
	if err := a.RequireKind(actor.Provider, actor.Distributor, actor.Partner); err != nil {
		return Account{}, err
	}
	if in.VATPercentage != nil && (*in.VATPercentage < 0 || *in.VATPercentage > 100) {
		return Account{}, errs.Invalid("vat_percentage", "must be an integer between 0 and 100")
	}
	if in.DiscountPercentage != nil && (*in.DiscountPercentage < 0 || *in.DiscountPercentage > 100) {
		return Account{}, errs.Invalid("discount_percentage", "must be an integer between 0 and 100")
	}
	if in.MaxDebt != nil && *in.MaxDebt < 0 {
		return Account{}, errs.Invalid("max_debt", "must not be negative")
	}
	var out Account
	err := s.store.Tx(ctx, func(tx Store) error {
		acct, err := s.writable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := in.mintCheck(a, acct); err != nil {
			return err
		}
		if in.VATPercentage != nil {
			acct.VATPercentage = *in.VATPercentage
		}
		if in.DiscountPercentage != nil {
			acct.DiscountPercentage = *in.DiscountPercentage
		}
		if in.AllowDebt != nil {
			acct.AllowDebt = *in.AllowDebt
		}
		if in.MaxDebt != nil {
			acct.MaxDebt = *in.MaxDebt
		}
		if in.PayingByInvoice != nil {
			acct.PayingByInvoice = *in.PayingByInvoice
		}
		if in.IsActive != nil {
			acct.IsActive = *in.IsActive
		}
		acct.UpdatedAt = clock.Micro(s.clock.Now())
		out = acct
		return tx.UpdateBillingAccount(ctx, acct)
	})
	return out, err
}

// SetDefault makes the account its user's only default (ID-81). The org row
// lock serialises concurrent calls, so exactly one default remains.
func (s *Service) SetDefault(ctx context.Context, a actor.Actor, id int64) error {
	if err := a.RequireWholeUser("change the user's default billing account"); err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx Store) error {
		acct, err := s.resolve(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := a.Require(actor.Staff); err != nil {
			return err
		}
		if err := tx.LockOrg(ctx, acct.OrgID); err != nil {
			return err
		}
		if acct, err = tx.LockBillingAccount(ctx, acct.ID); err != nil {
			return err
		}
		if acct.Deleted() {
			return &errs.Error{Kind: errs.KindPrecondition, Field: "billing_account_id", Msg: "the billing account is deleted"}
		}
		return tx.SetDefaultBillingAccount(ctx, acct.ID, clock.Micro(s.clock.Now()))
	})
}

// DeleteAccount soft-deletes an account (ID-76, ID-amb-18). It is refused
// for the default account, an account with unpaid invoices, and one with
// active resources. A deleted account stays visible with show_shadow.
func (s *Service) DeleteAccount(ctx context.Context, a actor.Actor, id int64) error {
	acct, err := s.ResolveAccount(ctx, a, id)
	if err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx Store) error {
		if err := tx.LockOrg(ctx, acct.OrgID); err != nil {
			return err
		}
		acct, err := s.writable(ctx, tx, a, acct.ID)
		if err != nil {
			return err
		}
		if acct.IsDefault {
			return &errs.Error{Kind: errs.KindPrecondition, Field: "billing_account_id",
				Msg: "the default billing account cannot be deleted; make another account the default first"}
		}
		if s.cfg.Resources != nil {
			n, err := s.cfg.Resources.ActiveResourcesTx(ctx, tx, acct.ID)
			if err != nil {
				return err
			}
			if n > 0 {
				return &errs.Error{Kind: errs.KindPrecondition, Field: "billing_account_id",
					Msg: "the billing account still has active resources"}
			}
		}
		unpaid, err := tx.UnpaidInvoiceTotal(ctx, acct.ID)
		if err != nil {
			return err
		}
		if unpaid > 0 {
			return &errs.Error{Kind: errs.KindPrecondition, Field: "billing_account_id",
				Msg: "the billing account has unpaid invoices"}
		}
		ok, err := tx.SoftDeleteBillingAccount(ctx, acct.ID, clock.Micro(s.clock.Now()))
		if err != nil {
			return err
		}
		if !ok {
			return errs.Newf(errs.KindInternal, "billing: account %d changed under its lock", acct.ID)
		}
		return nil
	})
}

// UnpaidAmount is Σ (total − paid) over the account's unpaid usage invoices,
// VAT included (ID-82). Top-up invoices are prepayment requests, not debts,
// and are not counted.
func (s *Service) UnpaidAmount(ctx context.Context, a actor.Actor, id int64) (int64, error) {
	acct, err := s.ResolveAccount(ctx, a, id)
	if err != nil {
		return 0, err
	}
	return s.store.UnpaidInvoiceTotal(ctx, acct.ID)
}

// ListCredit returns the account's credit history, newest first (ID-89).
func (s *Service) ListCredit(ctx context.Context, a actor.Actor, id int64) ([]CreditRecord, error) {
	acct, err := s.ResolveAccount(ctx, a, id)
	if err != nil {
		return nil, err
	}
	return s.store.ListCreditRecords(ctx, acct.ID)
}

// Details are what the idcloudhost account object shows beside the stored
// fields.
type Details struct {
	Account         Account
	CreditAvailable int64 // credit ledger balance (credit_amount)
	Unpaid          int64 // unpaid_amount
	Running         Totals
}

// Describe returns an account's money figures at instant at (the running
// totals cover at's month so far).
func (s *Service) Describe(ctx context.Context, acct Account, at time.Time) (Details, error) {
	d := Details{Account: acct}
	var err error
	if d.Unpaid, err = s.store.UnpaidInvoiceTotal(ctx, acct.ID); err != nil {
		return Details{}, err
	}
	if d.Running, err = s.runningTotals(ctx, acct, at); err != nil {
		return Details{}, err
	}
	d.CreditAvailable = d.Running.CreditAvailable
	return d, nil
}

// RunningTotals returns the account's current month so far priced as its
// invoice would be (see Totals).
func (s *Service) RunningTotals(ctx context.Context, a actor.Actor, id int64) (Totals, error) {
	acct, err := s.ResolveAccount(ctx, a, id)
	if err != nil {
		return Totals{}, err
	}
	return s.runningTotals(ctx, acct, s.clock.Now())
}

func (s *Service) runningTotals(ctx context.Context, acct Account, at time.Time) (Totals, error) {
	credit, err := creditBalance(ctx, s.store, acct.ID)
	if err != nil {
		return Totals{}, err
	}
	var lines []UsageLine
	if s.cfg.Usage != nil && at.After(monthStart(at)) { // at the first instant the month has no usage yet
		if lines, err = s.cfg.Usage.Lines(ctx, acct.ID, monthStart(at), at); err != nil {
			return Totals{}, err
		}
	}
	t, applied, err := priceLines(acct, lines, credit)
	if err != nil {
		return Totals{}, err
	}
	return Totals{Subtotal: t.Subtotal.Minor(), Discount: t.Discount.Minor(), CreditAmount: applied, VAT: t.VAT.Minor(),
		Total: t.Total.Minor(), CreditAvailable: credit, Ongoing: credit - t.Total.Minor()}, nil
}

// CurrentUsage returns the account's usage lines of the current month so far
// (ID-99).
func (s *Service) CurrentUsage(ctx context.Context, a actor.Actor, id int64) ([]UsageLine, error) {
	acct, err := s.ResolveAccount(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if s.cfg.Usage == nil {
		return []UsageLine{}, nil
	}
	now := s.clock.Now()
	if !now.After(monthStart(now)) {
		return []UsageLine{}, nil
	}
	lines, err := s.cfg.Usage.Lines(ctx, acct.ID, monthStart(now), now)
	if lines == nil && err == nil {
		lines = []UsageLine{}
	}
	return lines, err
}

// priceLines computes the totals of lines for acct with as much of the
// available credit as the discounted subtotal takes; it returns the totals
// and the credit applied (≥ 0).
func priceLines(acct Account, lines []UsageLine, creditAvailable int64) (money.InvoiceTotals, int64, error) {
	cur := acct.Cur()
	amounts := make([]money.Decimal, len(lines))
	for i, l := range lines {
		amounts[i] = l.UnitPrice.Mul(l.Quantity)
	}
	disc, vat := money.DecimalFromInt(int64(acct.DiscountPercentage)), money.DecimalFromInt(int64(acct.VATPercentage))
	t, err := money.Totals(amounts, disc, vat, money.Zero(cur))
	if err != nil {
		return money.InvoiceTotals{}, 0, err
	}
	applied := min(max(creditAvailable, 0), t.Subtotal.Minor()-t.Discount.Minor())
	if applied == 0 {
		return t, 0, nil
	}
	t, err = money.Totals(amounts, disc, vat, money.NewAmount(-applied, cur))
	return t, applied, err
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
