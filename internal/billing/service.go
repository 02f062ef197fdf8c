package billing

import (
	"context"
	"strconv"
	"time"

	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/ledger"
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

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
