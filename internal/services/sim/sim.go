// Package sim is the simulated managed-services provider: packages live in
// memory (it is the fake hypervisor of one process), each step succeeds
// unless a failure was injected with FailNext, and Delay is the time a
// step takes (default 0: immediate, as the real clients of the API
// expect; the simulator itself never sleeps, the service schedules the
// step job that far ahead).
package sim

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/trellis-cloud/trellis/internal/services"
	"github.com/trellis-cloud/trellis/internal/simstep"
)

// Steps that FailNext can make fail.
const (
	StepCreate    = "create"
	StepDelete    = "delete"
	StepWhitelist = "whitelist"
)

// ErrInjected is the error of an injected failure.
var ErrInjected = simstep.ErrInjected

// Package is the simulator's view of one package.
type Package struct {
	Spec      services.PackageSpec
	Whitelist []string
}

// Provider is the simulated provider. The zero value is ready to use (no
// delay).
type Provider struct {
	simstep.Steps // Delay, SetDelay, FailNext, Calls

	mu       sync.Mutex
	packages map[string]Package
}

var _ services.Provider = (*Provider)(nil)

// New returns a provider whose steps take delay.
func New(delay time.Duration) *Provider { return &Provider{Steps: simstep.New(delay)} }

// Get returns the simulated package, if it exists.
func (p *Provider) Get(uuid string) (Package, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pk, ok := p.packages[uuid]
	pk.Whitelist = slices.Clone(pk.Whitelist)
	return pk, ok
}

// CreatePackage implements services.Provider: it records the package.
func (p *Provider) CreatePackage(ctx context.Context, spec services.PackageSpec) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.Begin(StepCreate); err != nil {
		return err
	}
	spec.SQLPass = "" // the simulator has no database to configure
	if p.packages == nil {
		p.packages = map[string]Package{} // the zero Provider is ready to use
	}
	p.packages[spec.UUID] = Package{Spec: spec, Whitelist: slices.Clone(spec.Whitelist)}
	return nil
}

// DeletePackage implements services.Provider.
func (p *Provider) DeletePackage(ctx context.Context, uuid string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.Begin(StepDelete); err != nil {
		return err
	}
	delete(p.packages, uuid)
	return nil
}

// SetWhitelist implements services.Provider. A package the simulator does
// not know (not created yet) is a success: its creation carries the list.
func (p *Provider) SetWhitelist(ctx context.Context, uuid string, entries []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.Begin(StepWhitelist); err != nil {
		return err
	}
	if pk, ok := p.packages[uuid]; ok {
		pk.Whitelist = slices.Clone(entries)
		p.packages[uuid] = pk
	}
	return nil
}
