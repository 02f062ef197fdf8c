// Package sim is the simulated managed-services provider: packages live in
// memory (it is the fake hypervisor of one process), each step succeeds
// unless a failure was injected with FailNext, and Delay is the time a
// step takes (default 0: immediate, as the real clients of the API
// expect; the simulator itself never sleeps, the service schedules the
// step job that far ahead).
package sim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/trellis-cloud/trellis/internal/services"
)

// Steps that FailNext can make fail.
const (
	StepCreate    = "create"
	StepDelete    = "delete"
	StepWhitelist = "whitelist"
)

// ErrInjected is the error of an injected failure.
var ErrInjected = errors.New("sim: injected failure")

// Package is the simulator's view of one package.
type Package struct {
	Spec      services.PackageSpec
	Whitelist []string
}

// Provider is the simulated provider. The zero value is ready to use (no
// delay).
type Provider struct {
	mu       sync.Mutex
	delay    time.Duration
	packages map[string]Package
	fail     map[string]int
	calls    map[string]int
}

var _ services.Provider = (*Provider)(nil)

// New returns a provider whose steps take delay.
func New(delay time.Duration) *Provider { return &Provider{delay: delay} }

// SetDelay changes the step delay.
func (p *Provider) SetDelay(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delay = d
}

// FailNext makes the next n calls of step fail with ErrInjected.
func (p *Provider) FailNext(step string, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail == nil {
		p.fail = map[string]int{}
	}
	p.fail[step] = n
}

// Calls returns how often step was called (failed calls included).
func (p *Provider) Calls(step string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[step]
}

// Get returns the simulated package, if it exists.
func (p *Provider) Get(uuid string) (Package, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pk, ok := p.packages[uuid]
	pk.Whitelist = slices.Clone(pk.Whitelist)
	return pk, ok
}

// Delay implements services.Provider.
func (p *Provider) Delay() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.delay
}

// step counts a call of name and consumes an injected failure; the caller
// holds mu.
func (p *Provider) step(name string) error {
	if p.calls == nil {
		p.calls = map[string]int{}
		p.packages = map[string]Package{}
	}
	p.calls[name]++
	if p.fail[name] > 0 {
		p.fail[name]--
		return fmt.Errorf("%s: %w", name, ErrInjected)
	}
	return nil
}

// CreatePackage implements services.Provider: it records the package.
func (p *Provider) CreatePackage(ctx context.Context, spec services.PackageSpec) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.step(StepCreate); err != nil {
		return err
	}
	spec.SQLPass = "" // the simulator has no database to configure
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
	if err := p.step(StepDelete); err != nil {
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
	if err := p.step(StepWhitelist); err != nil {
		return err
	}
	if pk, ok := p.packages[uuid]; ok {
		pk.Whitelist = slices.Clone(entries)
		p.packages[uuid] = pk
	}
	return nil
}
