// Package reseller is the core of the reseller channel (the ITGLOBAL
// Partner API v2): a partner's keys with the roles User and Finance, its
// settings (features, currency), its customer accounts and their projects,
// companies with validated tax ids, invoices numbered without gaps per
// partner, bank and online payments, balance operations and their reports.
//
// A project is a billing account (billing_accounts, org = the partner, the
// small integer id clients see) with two ledger accounts of its own: money
// (kind balance, no floor: daily charges may take it below zero, which
// blocks the project) and bonus (kind credit, floor 0, so BonusMinus and
// charges can never take more bonus than there is). Every money change is
// one ledger transaction plus one reseller_operations row in the same
// database transaction, under the project's row lock, which also refreshes
// the project's blocked state.
package reseller

import (
	"encoding/json"
	"time"
)

// Key roles (the seed's two partner keys).
const (
	RoleUser    = "User"
	RoleFinance = "Finance"
)

// Features a partner may have (set by the operator).
const FeatureSimpleOneSupport = "SimpleOneSupport"

// Key is a stored partner API key (never the secret).
type Key struct {
	ID          string
	PartnerID   string
	PartnerPath string
	Role        string // RoleUser or RoleFinance
	Name        string
	Prefix      string // the key's first characters, to recognise it
	Hash        string // hex SHA-256 of the whole key
	CreatedAt   time.Time
	RevokedAt   *time.Time
	LastUsedAt  *time.Time
}

// CreatedKey is a new key with its secret, shown once.
type CreatedKey struct {
	Key
	Secret string
}

// Settings are a partner's reseller settings.
type Settings struct {
	PartnerID string
	TimeZone  string   // IANA; the partner org's time zone (tenancy)
	Features  []string // sorted, e.g. [FeatureSimpleOneSupport]
	Currency  string   // ISO-4217 of new projects, "RUB" by default
	// MonthlyLimit bounds the money recorded through the Partner API per
	// calendar month (minor units; Unlimited = none); nil takes the
	// provider-wide default (Config.MonthlyLimit).
	MonthlyLimit *int64
	// EffectiveMonthlyLimit is MonthlyLimit or the default (filled by the
	// service, not stored).
	EffectiveMonthlyLimit int64
	UpdatedAt             time.Time
}

// Has reports whether the partner has feature f.
func (s Settings) Has(f string) bool {
	for _, x := range s.Features {
		if x == f {
			return true
		}
	}
	return false
}

// Account states.
const (
	StateNotActivated = "NotActivated"
	StateActive       = "Active"
)

// Account is a reseller's customer account.
type Account struct {
	ID              string // uuid
	PartnerID       string
	PartnerPath     string
	Email           string
	State           string          // StateNotActivated or StateActive
	AdditionalData  json.RawMessage // a JSON object, "{}" when none
	InternalRole    bool
	SimpleOne       bool   // created through the SimpleOne routes
	SimpleOneUserID string // "" unless SimpleOne
	// SimpleOneCompanyID is the SimpleOne company of the account (its
	// personal project's company link).
	SimpleOneCompanyID string
	PersonalProjectID  int64
	ActivationToken    string // "" once active
	CreatedAt          time.Time
	UpdatedAt          time.Time
	ActivatedAt        *time.Time
	DeletedAt          *time.Time
}

// Project is a billing account as the reseller API sees it.
type Project struct {
	ID                 int64 // = billing account id
	PartnerID          string
	PartnerPath        string
	Name               string
	OwnerAccountID     string   // the account whose personal project it is
	Members            []string // account ids sharing the project, owner first
	Currency           string
	IsPostPaid         bool
	MaxDebt            int64 // minor units, ≥ 0
	Balance            int64 // money, minor units (may be negative)
	Bonus              int64 // bonus, minor units, ≥ 0
	Blocked            bool
	BlockedAt          *time.Time
	SimpleOneCompanyID string
	CreatedAt          time.Time
	UpdatedAt          time.Time
	DeletedAt          *time.Time // the owner account was deleted

	// MoneyAccount and BonusAccount are the project's ledger accounts
	// (kind balance, no floor; kind credit, floor 0).
	MoneyAccount string
	BonusAccount string
}

// ShouldBlock is the blocking rule (IT-amb-17): below 0 when prepaid,
// below −MaxDebt when postpaid.
func ShouldBlock(balance int64, postPaid bool, maxDebt int64) bool {
	if postPaid {
		return balance < -maxDebt
	}
	return balance < 0
}

// Company states.
const (
	CompanyActive   = "Active"
	CompanyInActive = "InActive"
)

// Company is a project's legal entity (IT-10).
type Company struct {
	ID                        int64
	ProjectID                 int64
	PartnerID                 string
	PartnerPath               string
	State                     string
	CountryTwoLetterCode      string // RU, KZ, BY
	INN, UNP, BIN             string
	CompanyName               string
	Kbe                       string
	LegalAddress              string
	ActualAddress             string
	KPP                       string
	AutoInvoiceAmount         int64 // minor units
	TypeAutoInvoiceGeneration string
	Ogrn, Okpo                string
	CheckingAccount           string
	CorrespondentAccount      string
	Bank, Bik                 string
	SignatoryName             string
	SignatoryJob              string
	AgreementNumber           string
	AgreementDate             time.Time
	CanUserEditCompanyData    bool
	FinanceEmail              string
	DocDeliveryPeriod         string // "" = none (JSON null, absent or "null")
	PartnerCompanyID          int64
	CreatedAt                 time.Time
	UpdatedAt                 time.Time
}

// TIN returns the company's tax id for its country.
func (c Company) TIN() string {
	switch c.CountryTwoLetterCode {
	case "KZ":
		return c.BIN
	case "BY":
		return c.UNP
	}
	return c.INN
}

// Invoice states (IT-amb-15).
const (
	InvoiceNew       = "New"
	InvoicePaid      = "Paid"
	InvoiceCancelled = "Cancelled"
)

// Invoice is a request for payment to a company, numbered per partner
// without gaps.
type Invoice struct {
	Number      string // decimal, per partner: "1", "2", …
	PartnerID   string
	PartnerPath string
	ProjectID   int64
	CompanyID   int64
	State       string
	Currency    string
	Amount      int64 // incl. VAT, minor units
	VATRate     int   // percent
	VAT         int64 // Amount × rate / (100 + rate), rounded half-up once
	Net         int64 // Amount − VAT
	PaidAmount  int64
	PaidAt      *time.Time
	CreatedAt   time.Time
}

// Payment kinds.
const (
	PaymentBank   = "Bank"
	PaymentOnline = "Online"
)

// Payment is a received bank or online payment.
type Payment struct {
	ID            int64
	PartnerID     string
	PartnerPath   string
	Kind          string // PaymentBank or PaymentOnline
	Number        string // bank Number or online PaymentId; unique per partner and kind
	TIN           string
	InvoiceNumber string // "" when the payer sent null
	CompanyID     int64
	ProjectID     int64
	Currency      string
	Amount        int64
	RequestHash   string // of the request, to tell a replay from a conflict
	InvoicePaid   bool   // the payment marked its invoice paid
	CreatedAt     time.Time
	LedgerTxID    string
}

// Operation types: the three of the Create operation route, the
// payments, and the daily charges of orders.
const (
	OpDengiOnlinePlus = "DengiOnlinePlus"
	OpBonusPlus       = "BonusPlus"
	OpBonusMinus      = "BonusMinus"
	OpBankPayment     = "BankPayment"
	OpOnlinePayment   = "OnlinePayment"
	OpCharge          = "Charge"
)

// Operation is one change of a project's balance or bonus.
type Operation struct {
	ID          int64
	PartnerID   string
	PartnerPath string
	ProjectID   int64
	Type        string
	Currency    string
	// Money and Bonus are the signed changes of the project's money and
	// bonus balances (a charge may take from both).
	Money       int64
	Bonus       int64
	Description string
	Reference   string // payment number, order id, …
	CreatedAt   time.Time
	LedgerTxID  string
	// Key makes the operation idempotent (ChargeTx: one charge per order
	// and period); "" for operations that are not retried by key.
	Key string
}

// ProjectPeriod is one project's operations over a period (UTC reports)
// or one day in the partner's time zone (by-day reports).
type ProjectPeriod struct {
	ProjectID  int64
	From, To   time.Time // the half-open period [From, To) asked for, or the day's [00:00, 24:00) in the partner's zone
	Day        string    // "2006-01-02" in the partner's zone; "" for period reports
	Operations []Operation
	// Sums of the operations.
	MoneyIn, MoneyOut, BonusIn, BonusOut int64
}
