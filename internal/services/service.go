package services

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/trellis-cloud/trellis/internal/sealed"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/network"
	"github.com/trellis-cloud/trellis/internal/pricing"
)

// Billing is what the service needs of billing accounts (billing.Service).
type Billing interface {
	AdmitTx(ctx context.Context, tx billing.Queries, a actor.Actor, id int64, required bool) (billing.Account, error)
	ResolveAccountTx(ctx context.Context, tx billing.Queries, a actor.Actor, id int64) (billing.Account, error)
}

// Network reserves and releases the packages' addresses (network.Service).
type Network interface {
	ReserveServiceIPTx(ctx context.Context, tx network.Queries, in network.ReserveForService) (network.FloatingIP, error)
	ReleaseServiceIPTx(ctx context.Context, tx network.Queries, address string) error
}

// Prices gives the managed services' price multipliers (pricing.Service).
type Prices interface {
	ListMultipliers(ctx context.Context) ([]pricing.ServiceMultipliers, error)
}

var (
	_ Billing = (*billing.Service)(nil)
	_ Network = (*network.Service)(nil)
	_ Prices  = (*pricing.Service)(nil)
)

// Config tunes the service; zero values take the defaults.
type Config struct {
	Offerings []Offering // default DefaultOfferings()
	Limits    Limits     // default DefaultLimits()
	// SecretKey seals the SQL passwords at rest (AES-256-GCM, 32 bytes).
	// Without it they are stored as they are (marked "plain:").
	SecretKey []byte
	// SafetyNet is how far ahead a step job is scheduled when the request
	// runs the step itself (provider delay 0): if that attempt fails, or
	// the process dies before it, the job does it (default 30s).
	SafetyNet time.Duration
	// Logger receives the failures of steps a request runs itself (the
	// job retries them); nil discards.
	Logger *slog.Logger
}

// Service manages service packages.
type Service struct {
	store    Store
	billing  Billing
	network  Network
	prices   Prices
	provider Provider
	clock    clock.Clock
	cfg      Config
	box      sealed.Box
}

// NewService returns a services service. A SecretKey of the wrong length is
// an error.
func NewService(st Store, b Billing, n Network, p Prices, prov Provider, c clock.Clock, cfg Config) (*Service, error) {
	if cfg.Offerings == nil {
		cfg.Offerings = DefaultOfferings()
	}
	if cfg.Limits == (Limits{}) {
		cfg.Limits = DefaultLimits()
	}
	if cfg.SafetyNet <= 0 {
		cfg.SafetyNet = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{store: st, billing: b, network: n, prices: p, provider: prov, clock: c, cfg: cfg}
	box, err := sealed.New(cfg.SecretKey)
	if err != nil {
		return nil, err
	}
	s.box = box
	return s, nil
}

func (s *Service) now() time.Time { return clock.Micro(s.clock.Now()) }

// Offerings returns the services on offer.
func (s *Service) Offerings() []Offering { return slices.Clone(s.cfg.Offerings) }
