package reseller

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/tenancy"
	"github.com/trellis-cloud/trellis/internal/wiring"
)

// Config tunes the service; zero values take the defaults.
type Config struct {
	// VATPercent is the system VAT rate of invoices and charges, 0 to 100;
	// nil takes DefaultVATPercent (a pointer, so that 0 % can be chosen).
	VATPercent *int
	// ActivationURL is the page the activation e-mail links to; the account
	// id and token are appended as query parameters.
	ActivationURL string
	// MonthlyLimit is the provider-wide bound on the money a partner may
	// record through the Partner API in a calendar month (payments,
	// DengiOnlinePlus, BonusPlus), in minor units, for partners without a
	// limit of their own; Unlimited for none. nil takes
	// DefaultMonthlyLimit; 0 lets no money be recorded.
	MonthlyLimit *int64
}

// DefaultVATPercent is the VAT rate when Config leaves it nil.
const DefaultVATPercent = 20

// Services counts a project's active services (orders: creating, active,
// blocked or failed); deletion guards refuse while there are any. It
// reads through tx, the guarded deletion's transaction: a guard read on
// another connection would see other data and, with the pool exhausted,
// wait for ever.
type Services interface {
	ActiveServicesTx(ctx context.Context, tx Queries, projectID int64) (int, error)
}

// Tickets counts a project's open support tickets, through tx as Services.
type Tickets interface {
	OpenTicketsTx(ctx context.Context, tx Queries, projectID int64) (int, error)
}

// BlockHook is told, inside the transaction that changed it, that a
// project's blocked state flipped (orders suspends or resumes services).
type BlockHook interface {
	ProjectBlockChangedTx(ctx context.Context, tx Queries, projectID int64, blocked bool, at time.Time) error
}

// Deps are the reseller core's collaborators; all are required. They
// only read or write through the transaction they are given, so the app
// builds them before the core (orders.ProjectHooks, support.Service) and
// orders on top of it.
type Deps struct {
	Services Services  // live services of a project (orders)
	Tickets  Tickets   // open tickets of a project (support)
	Blocks   BlockHook // orders follow a project's blocked state
}

// Service is the reseller core.
type Service struct {
	vat      int // the VAT rate in percent
	store    Store
	billing  *billing.Service
	ledger   *ledger.Service
	clock    clock.Clock
	cfg      Config
	services Services
	tickets  Tickets
	block    BlockHook
}

// NewService returns a reseller service, or an error naming a missing
// dependency.
func NewService(st Store, b *billing.Service, l *ledger.Service, c clock.Clock, d Deps, cfg Config) (*Service, error) {
	if err := wiring.Require("reseller", wiring.D("Store", st), wiring.D("Billing", b), wiring.D("Ledger", l),
		wiring.D("Clock", c), wiring.D("Services", d.Services), wiring.D("Tickets", d.Tickets),
		wiring.D("Blocks", d.Blocks)); err != nil {
		return nil, err
	}
	vat := DefaultVATPercent
	if cfg.VATPercent != nil {
		vat = min(max(*cfg.VATPercent, 0), 100)
	}
	if cfg.ActivationURL == "" {
		cfg.ActivationURL = "https://trellis.invalid/itglobal/activate"
	}
	if cfg.MonthlyLimit == nil || *cfg.MonthlyLimit < Unlimited {
		d := DefaultMonthlyLimit
		cfg.MonthlyLimit = &d
	}
	return &Service{store: st, billing: b, ledger: l, clock: c, cfg: cfg, vat: vat,
		services: d.Services, tickets: d.Tickets, block: d.Blocks}, nil
}

// VATPercent is the configured VAT rate.
func (s *Service) VATPercent() int { return s.vat }

func (s *Service) now() time.Time { return clock.Micro(s.clock.Now()) }

// partnerOf returns the partner org the actor acts for: a partner's own
// principal acts for its org. Operators (provider, distributor) must name
// the partner: partnerID, which must be in their subtree.
func (s *Service) partnerOf(ctx context.Context, q Queries, a actor.Actor, partnerID string) (tenancy.Org, error) {
	if partnerID == "" {
		if a.OrgKind != actor.Partner {
			return tenancy.Org{}, errs.Invalid("partnerId", "is required for operators")
		}
		partnerID = a.OrgID
	}
	return tenancy.ScopedPartner(ctx, q, a, partnerID)
}

// writer checks that a may change reseller data.
func writer(a actor.Actor) error { return a.Require(actor.Staff) }

// reader checks that a may read reseller data.
func reader(a actor.Actor) error { return a.Require(actor.Viewer) }

// vatOf splits amount (incl. VAT at rate percent) into VAT, rounded half-up
// once: amount × rate / (100 + rate).
func vatOf(amount int64, rate int) int64 {
	if rate <= 0 || amount <= 0 {
		return 0
	}
	d := int64(100 + rate)
	n := amount * int64(rate)
	return (2*n + d) / (2 * d)
}
