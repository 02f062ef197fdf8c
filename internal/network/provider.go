package network

import (
	"context"
	"time"
)

// Provider is the network backend: it makes private networks and load
// balancers real. Every step is keyed by the resource uuid and idempotent
// (creating what exists, deleting what is gone, applying a configuration
// already applied all succeed), because a step may run twice: inline right
// after the request commits and again from its safety-net job.
type Provider interface {
	// CreateNetwork creates the network's VLAN and subnets.
	CreateNetwork(ctx context.Context, n Network) error
	// DeleteNetwork removes a network.
	DeleteNetwork(ctx context.Context, uuid string) error
	// ApplyLB makes the load balancer's whole configuration (address,
	// rules, targets) the live one.
	ApplyLB(ctx context.Context, lb LoadBalancer) error
	// DeleteLB removes a load balancer.
	DeleteLB(ctx context.Context, uuid string) error
	// Delay is how long a step takes to be attempted after the request
	// (0: right after the request commits, inline).
	Delay() time.Duration
}

// Job kinds.
const (
	KindNetworkStep = "network.network_step"
	KindLBStep      = "network.lb_step"
)

// Step operations.
const (
	OpCreate = "create"
	OpDelete = "delete"
	OpApply  = "apply"
)

// NetworkStep is the job that runs a network's provider step.
type NetworkStep struct {
	NetworkUUID string `json:"network_uuid"`
	Op          string `json:"op"` // OpCreate or OpDelete
}

// Kind implements jobs.Args.
func (NetworkStep) Kind() string { return KindNetworkStep }

// LBStep is the job that runs a load balancer's provider step.
type LBStep struct {
	LBUUID string `json:"lb_uuid"`
	Op     string `json:"op"` // OpApply or OpDelete
}

// Kind implements jobs.Args.
func (LBStep) Kind() string { return KindLBStep }

// SafetyNet is when a step's job runs if the step is also attempted inline
// (provider delay 0): late enough that the inline attempt has finished, so
// the job normally finds nothing to do.
const SafetyNet = 30 * time.Second
