// Package sim is the simulated managed-services provider: packages live in
// a simstep.State (the database when the app wires it, shared by every
// node and surviving restarts; memory for unit tests), each step succeeds
// unless a failure was injected with FailNext (per process), and Delay is
// the time a step takes (default 0: immediate, as the real clients of the
// API expect; the simulator itself never sleeps, the service schedules the
// step job that far ahead).
package sim

import (
	"context"
	"slices"
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

// Provider is the simulated provider. The zero value is ready to use (in
// memory, no delay).
type Provider struct {
	simstep.Steps // Delay, SetDelay, FailNext, Calls

	space simstep.Space
}

var _ services.Provider = (*Provider)(nil)

const kindPackage = "package"

// New returns a provider in memory whose steps take delay.
func New(delay time.Duration) *Provider { return NewWithState(delay, nil) }

// NewWithState returns a provider whose packages live in st (shared by
// every process on it); st nil keeps them in memory.
func NewWithState(delay time.Duration, st simstep.State) *Provider {
	return &Provider{Steps: simstep.New(delay), space: simstep.NewSpace("services", st)}
}

// Get returns the simulated package, if it exists (for tests: a state
// that cannot be read answers false).
func (p *Provider) Get(uuid string) (Package, bool) {
	var pk Package
	var ok bool
	err := p.space.View(context.Background(), func(d simstep.Docs) (err error) {
		pk, ok, err = simstep.Get[Package](d, kindPackage, uuid)
		return err
	})
	return pk, ok && err == nil
}

// step checks ctx, counts a call, applies an injected failure and runs fn
// alone on the packages (its changes are kept if it succeeds).
func (p *Provider) step(ctx context.Context, step string, fn func(simstep.Docs) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := p.Begin(step); err != nil {
		return err
	}
	return p.space.Update(ctx, fn)
}

// CreatePackage implements services.Provider: it records the package.
func (p *Provider) CreatePackage(ctx context.Context, spec services.PackageSpec) error {
	spec.SQLPass = "" // the simulator has no database to configure
	return p.step(ctx, StepCreate, func(d simstep.Docs) error {
		return simstep.Put(d, kindPackage, spec.UUID, Package{Spec: spec, Whitelist: slices.Clone(spec.Whitelist)})
	})
}

// DeletePackage implements services.Provider.
func (p *Provider) DeletePackage(ctx context.Context, uuid string) error {
	return p.step(ctx, StepDelete, func(d simstep.Docs) error { return d.Delete(kindPackage, uuid) })
}

// SetWhitelist implements services.Provider. A package the simulator does
// not know (not created yet) is a success: its creation carries the list.
func (p *Provider) SetWhitelist(ctx context.Context, uuid string, entries []string) error {
	return p.step(ctx, StepWhitelist, func(d simstep.Docs) error {
		pk, ok, err := simstep.Get[Package](d, kindPackage, uuid)
		if err != nil || !ok {
			return err
		}
		pk.Whitelist = slices.Clone(entries)
		return simstep.Put(d, kindPackage, uuid, pk)
	})
}
