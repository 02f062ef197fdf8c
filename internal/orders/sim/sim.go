// Package sim is the simulated provider of reseller orders: services live
// in a simstep.State (the database when the app wires it, shared by every
// node and surviving restarts; memory for unit tests), each step succeeds
// unless a failure was injected with FailNext (per process), and Delay is
// the time a step takes (default 0: immediate; the simulator never
// sleeps, the service schedules the step job that far ahead).
package sim

import (
	"context"
	"strconv"
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

// Provider is the simulated provider. The zero value is ready to use (in
// memory, no delay).
type Provider struct {
	simstep.Steps // Delay, SetDelay, FailNext, Calls

	space simstep.Space
}

var _ orders.Provider = (*Provider)(nil)

const kindService = "service" // by order id

// New returns a provider in memory whose steps take delay.
func New(delay time.Duration) *Provider { return NewWithState(delay, nil) }

// NewWithState returns a provider whose services live in st (shared by
// every process on it); st nil keeps them in memory.
func NewWithState(delay time.Duration, st simstep.State) *Provider {
	return &Provider{Steps: simstep.New(delay), space: simstep.NewSpace("orders", st)}
}

// Get returns the simulated service of an order, if it exists (for tests:
// a state that cannot be read answers false).
func (p *Provider) Get(orderID int64) (orders.Spec, bool) {
	var s orders.Spec
	var ok bool
	err := p.space.View(context.Background(), func(d simstep.Docs) (err error) {
		s, ok, err = simstep.Get[orders.Spec](d, kindService, strconv.FormatInt(orderID, 10))
		return err
	})
	return s, ok && err == nil
}

// Len is the number of services built.
func (p *Provider) Len() int {
	n := 0
	_ = p.space.View(context.Background(), func(d simstep.Docs) error {
		all, err := d.List(kindService)
		n = len(all)
		return err
	})
	return n
}

// step checks ctx, counts a call, applies an injected failure and runs fn
// alone on the services (its changes are kept if it succeeds).
func (p *Provider) step(ctx context.Context, step string, fn func(simstep.Docs) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := p.Begin(step); err != nil {
		return err
	}
	return p.space.Update(ctx, fn)
}

// Create implements orders.Provider: it records the service.
func (p *Provider) Create(ctx context.Context, spec orders.Spec) (string, error) {
	err := p.step(ctx, StepCreate, func(d simstep.Docs) error {
		return simstep.Put(d, kindService, strconv.FormatInt(spec.OrderID, 10), spec)
	})
	if err != nil {
		return "", err
	}
	return "sim-" + spec.Kind + "-" + strconv.FormatInt(spec.OrderID, 10), nil
}

// Delete implements orders.Provider.
func (p *Provider) Delete(ctx context.Context, orderID int64) error {
	return p.step(ctx, StepDelete, func(d simstep.Docs) error {
		return d.Delete(kindService, strconv.FormatInt(orderID, 10))
	})
}
