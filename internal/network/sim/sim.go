// Package sim is the built-in network provider: a fake of the network
// fabric. It keeps the networks and load balancers it was told about and
// checks that each call makes sense (VLANs unique per location, a load
// balancer's targets and source ports distinct), so a bug in the service's
// step ordering shows up as an error. Its state is a simstep.State: in the
// database when the app wires it (one fabric for every node, surviving
// restarts), in memory for unit tests. Delay is the time each step takes
// (0: immediate, steps run inline after the request); FailNext makes the
// next n calls of a step fail, for tests (per process).
//
// Idempotence: repeating a call that succeeded succeeds without change
// (creating an existing network, applying the same configuration, deleting
// what is gone).
package sim

import (
	"context"
	"fmt"
	"time"

	"github.com/trellis-cloud/trellis/internal/network"
	"github.com/trellis-cloud/trellis/internal/simstep"
)

// Step names for FailNext (the Provider method names).
const (
	StepCreateNetwork = "CreateNetwork"
	StepDeleteNetwork = "DeleteNetwork"
	StepApplyLB       = "ApplyLB"
	StepDeleteLB      = "DeleteLB"
)

// Provider is the simulator. The zero value is not usable; use New.
type Provider struct {
	simstep.Steps // Delay, SetDelay, FailNext, Calls

	space simstep.Space
}

var _ network.Provider = (*Provider)(nil)

// The documents of the simulator's space.
const (
	kindNetwork = "network"
	kindLB      = "lb"
)

// New returns an empty simulator in memory with the given step delay.
func New(delay time.Duration) *Provider { return NewWithState(delay, nil) }

// NewWithState returns a simulator whose fabric lives in st (shared by
// every process on it); st nil keeps it in memory.
func NewWithState(delay time.Duration, st simstep.State) *Provider {
	return &Provider{Steps: simstep.New(delay), space: simstep.NewSpace("network", st)}
}

// get reads one document for the inspection methods, which are for tests
// and answer "absent" if the state cannot be read.
func get[T any](p *Provider, kind, id string) (T, bool) {
	var v T
	var ok bool
	err := p.space.View(context.Background(), func(d simstep.Docs) (err error) {
		v, ok, err = simstep.Get[T](d, kind, id)
		return err
	})
	return v, ok && err == nil
}

// Network returns the simulator's copy of a network.
func (p *Provider) Network(uuid string) (network.Network, bool) {
	return get[network.Network](p, kindNetwork, uuid)
}

// LB returns the simulator's copy of a load balancer's live configuration.
func (p *Provider) LB(uuid string) (network.LoadBalancer, bool) {
	return get[network.LoadBalancer](p, kindLB, uuid)
}

// Counts returns how many networks and load balancers exist.
func (p *Provider) Counts() (networks, lbs int) {
	_ = p.space.View(context.Background(), func(d simstep.Docs) error {
		n, err := d.List(kindNetwork)
		if err != nil {
			return err
		}
		l, err := d.List(kindLB)
		networks, lbs = len(n), len(l)
		return err
	})
	return networks, lbs
}

// step counts a call, applies an injected failure and runs fn alone on the
// fabric (its changes are kept if it succeeds).
func (p *Provider) step(ctx context.Context, step string, fn func(simstep.Docs) error) error {
	if err := p.Begin(step); err != nil {
		return err
	}
	return p.space.Update(ctx, fn)
}

// CreateNetwork implements network.Provider.
func (p *Provider) CreateNetwork(ctx context.Context, n network.Network) error {
	return p.step(ctx, StepCreateNetwork, func(d simstep.Docs) error {
		nets, err := simstep.List[network.Network](d, kindNetwork)
		if err != nil {
			return err
		}
		if have, ok := nets[n.UUID]; ok && (have.Subnet != n.Subnet || have.VLANID != n.VLANID) {
			return fmt.Errorf("sim: network %s exists with another subnet", n.UUID)
		}
		for id, have := range nets {
			if id != n.UUID && have.Location == n.Location && have.VLANID == n.VLANID {
				return fmt.Errorf("sim: VLAN %d of location %s is network %s's", n.VLANID, n.Location, id)
			}
		}
		return simstep.Put(d, kindNetwork, n.UUID, n)
	})
}

// DeleteNetwork implements network.Provider.
func (p *Provider) DeleteNetwork(ctx context.Context, uuid string) error {
	return p.step(ctx, StepDeleteNetwork, func(d simstep.Docs) error { return d.Delete(kindNetwork, uuid) })
}

// ApplyLB implements network.Provider.
func (p *Provider) ApplyLB(ctx context.Context, lb network.LoadBalancer) error {
	return p.step(ctx, StepApplyLB, func(d simstep.Docs) error {
		seen := map[string]bool{}
		for _, t := range lb.Targets {
			if seen[t.TargetUUID] {
				return fmt.Errorf("sim: load balancer %s has target %s twice", lb.UUID, t.TargetUUID)
			}
			seen[t.TargetUUID] = true
		}
		ports := map[int64]bool{}
		for _, r := range lb.Rules {
			if ports[r.SourcePort] {
				return fmt.Errorf("sim: load balancer %s forwards port %d twice", lb.UUID, r.SourcePort)
			}
			ports[r.SourcePort] = true
		}
		have, ok, err := simstep.Get[network.LoadBalancer](d, kindLB, lb.UUID)
		if err != nil || (ok && have.Version > lb.Version) {
			return err // a newer configuration is live already
		}
		return simstep.Put(d, kindLB, lb.UUID, lb)
	})
}

// DeleteLB implements network.Provider.
func (p *Provider) DeleteLB(ctx context.Context, uuid string) error {
	return p.step(ctx, StepDeleteLB, func(d simstep.Docs) error { return d.Delete(kindLB, uuid) })
}
