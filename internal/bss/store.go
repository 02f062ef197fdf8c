package bss

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// Account kinds.
const (
	KindPartner  = "partner"  // a reseller or direct account: its own partner org
	KindCustomer = "customer" // an end customer of a reseller's partner
)

// Subscription and add-on states.
const (
	StateActive    = "Active"
	StateSuspended = "Suspended"
	StateCancelled = "Cancelled"
)

// Account is a synchronized BSS account.
type Account struct {
	AppID       string
	BSSID       string // the BSS's Account.ID
	ExternalID  string // ours: "a-…", sent back as ExternalID
	Kind        string // KindPartner or KindCustomer
	PartnerID   string // its own partner, or its reseller's
	PartnerPath string
	ResellerID  string // the reseller account's external id (customers)
	Name        string
	Email       string // lower case, "" if none
	CreatedAt   time.Time
	UpdatedAt   time.Time
	DeletedAt   *time.Time
}

// Subscription is a BSS subscription: one storage account.
type Subscription struct {
	AppID             string
	ExternalID        string // ours: "s-…"
	DedupeKey         string // what a retried create is recognised by
	BSSSubscriptionID string
	AccountID         string // the account's external id
	PartnerID         string
	PartnerPath       string
	StorageAccountID  string
	Product           string
	Name              string
	Quantity          int64 // units of the product (TB)
	State             string
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// SubscriptionAddon is an add-on of a subscription (extra TB).
type SubscriptionAddon struct {
	AppID          string
	ExternalID     string // ours: "ad-…"
	SubscriptionID string // the subscription's external id
	Product        string
	Quantity       int64
	State          string // StateActive or StateCancelled
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Queries are bss's own tables. Lookups of a missing row report
// errs.KindNotFound.
type Queries interface {
	InsertBSSInstallation(ctx context.Context, in Installation) error
	GetBSSInstallation(ctx context.Context, appID string) (Installation, error)
	// ListBSSInstallations lists the installations of distributors inside
	// scope, oldest first.
	ListBSSInstallations(ctx context.Context, scope string) ([]Installation, error)
	// RevokeBSSInstallation sets revoked_at if unset; it reports whether it
	// did.
	RevokeBSSInstallation(ctx context.Context, appID string, at time.Time) (bool, error)

	// InsertBSSAccount inserts a unless (app, BSS id) exists; it reports
	// whether it inserted (a concurrent insert of the same key waits for the
	// other transaction and reports false once it committed).
	InsertBSSAccount(ctx context.Context, a Account) (bool, error)
	GetBSSAccount(ctx context.Context, appID, bssID string) (Account, error)
	GetBSSAccountByExternalID(ctx context.Context, appID, externalID string) (Account, error)
	// FindBSSAccountByEmail returns the oldest live account with the e-mail.
	FindBSSAccountByEmail(ctx context.Context, appID, email string) (Account, error)
	// UpdateBSSAccount stores name, email, deleted_at and updated_at.
	UpdateBSSAccount(ctx context.Context, a Account) error
	// LockBSSAccount locks the account's row until the transaction ends.
	LockBSSAccount(ctx context.Context, appID, externalID string) error

	// InsertBSSSubscription inserts s unless (app, dedupe key) exists; it
	// reports whether it inserted (see InsertBSSAccount).
	InsertBSSSubscription(ctx context.Context, s Subscription) (bool, error)
	GetBSSSubscription(ctx context.Context, appID, externalID string) (Subscription, error)
	GetBSSSubscriptionByKey(ctx context.Context, appID, dedupeKey string) (Subscription, error)
	// LockBSSSubscription locks the subscription's row until the
	// transaction ends: calls for one subscription apply one after another.
	LockBSSSubscription(ctx context.Context, appID, externalID string) error
	// UpdateBSSSubscription stores storage account, quantity, state, name
	// and updated_at.
	UpdateBSSSubscription(ctx context.Context, s Subscription) error
	// CountLiveBSSSubscriptions counts the not cancelled subscriptions of an
	// account, and, when partnerID is set, those drawing on that partner.
	CountLiveBSSSubscriptions(ctx context.Context, appID, accountID, partnerID string) (int, error)

	InsertBSSAddon(ctx context.Context, a SubscriptionAddon) error
	GetBSSAddon(ctx context.Context, appID, externalID string) (SubscriptionAddon, error)
	// ListBSSAddons lists a subscription's add-ons (all states), oldest
	// first.
	ListBSSAddons(ctx context.Context, appID, subscriptionID string) ([]SubscriptionAddon, error)
	// UpdateBSSAddon stores quantity, state and updated_at.
	UpdateBSSAddon(ctx context.Context, a SubscriptionAddon) error

	AppendAudit(ctx context.Context, e audit.Entry) error
}

// Store is the persistence bss needs: its own queries, and the tenancy and
// objstore stores bound to the same transaction, so a call's partner,
// storage-account and mapping writes commit or roll back together.
type Store interface {
	Queries
	// Tx runs fn with a Store bound to one transaction (nested calls join
	// the outer one).
	Tx(ctx context.Context, fn func(Store) error) error
	Tenancy() tenancy.Store
	Objstore() objstore.Store
}
