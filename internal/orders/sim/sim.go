// Package sim is the simulated provider of reseller orders: services live
// in memory (the fake cloud of one process), each step succeeds unless a
// failure was injected with FailNext, and Delay is the time a step takes
// (default 0: immediate; the simulator never sleeps, the service schedules
// the step job that far ahead).
package sim

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/trellis-cloud/trellis/internal/orders"
	"github.com/trellis-cloud/trellis/internal/simstep"
)

// Steps that FailNext can make fail.
const (
	StepCreate = "create"
	StepDelete = "delete"
)

// ErrInjected is the error of an injected failure.
var ErrInjected = simstep.ErrInjected

// Provider is the simulated provider. The zero value is ready to use (no
// delay).
type Provider struct {
	simstep.Steps // Delay, SetDelay, FailNext, Calls

	mu       sync.Mutex
	services map[int64]orders.Spec
}

var _ orders.Provider = (*Provider)(nil)

// New returns a provider whose steps take delay.
func New(delay time.Duration) *Provider { return &Provider{Steps: simstep.New(delay)} }

// Get returns the simulated service of an order, if it exists.
func (p *Provider) Get(orderID int64) (orders.Spec, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.services[orderID]
	return s, ok
}

// Len is the number of services built.
func (p *Provider) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.services)
}

// Create implements orders.Provider: it records the service.
func (p *Provider) Create(ctx context.Context, spec orders.Spec) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.Begin(StepCreate); err != nil {
		return "", err
	}
	if p.services == nil {
		p.services = map[int64]orders.Spec{} // the zero Provider is ready to use
	}
	p.services[spec.OrderID] = spec
	return "sim-" + spec.Kind + "-" + strconv.FormatInt(spec.OrderID, 10), nil
}

// Delete implements orders.Provider.
func (p *Provider) Delete(ctx context.Context, orderID int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.Begin(StepDelete); err != nil {
		return err
	}
	delete(p.services, orderID)
	return nil
}
