// Package sim is the built-in network provider: an in-memory fake of the
// network fabric per process. It keeps the networks and load balancers it
// was told about and checks that each call makes sense (VLANs unique per
// location, a load balancer's targets and source ports distinct), so a bug
// in the service's step ordering shows up as an error. Delay is the time each step takes (0:
// immediate, steps run inline after the request); FailNext makes the next n
// calls of a step fail, for tests.
//
// Idempotence: repeating a call that succeeded succeeds without change
// (creating an existing network, applying the same configuration, deleting
// what is gone).
package sim

import (
	"context"
	"fmt"
	"sync"
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

	mu       sync.Mutex
	networks map[string]network.Network
	lbs      map[string]network.LoadBalancer
}

var _ network.Provider = (*Provider)(nil)

// New returns an empty simulator with the given step delay.
func New(delay time.Duration) *Provider {
	return &Provider{Steps: simstep.New(delay), networks: map[string]network.Network{},
		lbs: map[string]network.LoadBalancer{}}
}

// Network returns the simulator's copy of a network.
func (p *Provider) Network(uuid string) (network.Network, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n, ok := p.networks[uuid]
	return n, ok
}

// LB returns the simulator's copy of a load balancer's live configuration.
func (p *Provider) LB(uuid string) (network.LoadBalancer, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	lb, ok := p.lbs[uuid]
	return lb, ok
}

// Counts returns how many networks and load balancers exist.
func (p *Provider) Counts() (networks, lbs int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.networks), len(p.lbs)
}

// CreateNetwork implements network.Provider.
func (p *Provider) CreateNetwork(ctx context.Context, n network.Network) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.Begin(StepCreateNetwork); err != nil {
		return err
	}
	if have, ok := p.networks[n.UUID]; ok && (have.Subnet != n.Subnet || have.VLANID != n.VLANID) {
		return fmt.Errorf("sim: network %s exists with another subnet", n.UUID)
	}
	for id, have := range p.networks {
		if id != n.UUID && have.Location == n.Location && have.VLANID == n.VLANID {
			return fmt.Errorf("sim: VLAN %d of location %s is network %s's", n.VLANID, n.Location, id)
		}
	}
	p.networks[n.UUID] = n
	return nil
}

// DeleteNetwork implements network.Provider.
func (p *Provider) DeleteNetwork(ctx context.Context, uuid string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.Begin(StepDeleteNetwork); err != nil {
		return err
	}
	delete(p.networks, uuid)
	return nil
}

// ApplyLB implements network.Provider.
func (p *Provider) ApplyLB(ctx context.Context, lb network.LoadBalancer) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.Begin(StepApplyLB); err != nil {
		return err
	}
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
	if have, ok := p.lbs[lb.UUID]; ok && have.Version > lb.Version {
		return nil // a newer configuration is live already
	}
	p.lbs[lb.UUID] = lb
	return nil
}

// DeleteLB implements network.Provider.
func (p *Provider) DeleteLB(ctx context.Context, uuid string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.Begin(StepDeleteLB); err != nil {
		return err
	}
	delete(p.lbs, uuid)
	return nil
}
