package services

import (
	"context"
	"encoding/json"
	"time"
)

// Provider runs managed services on some infrastructure. Every step is
// keyed by the package uuid and idempotent: repeating a step that already
// happened succeeds and changes nothing. The built-in implementation is
// services/sim.
type Provider interface {
	// Delay is how long the provider takes for a step: 0 means at once
	// (the request runs the step itself); otherwise the step job is
	// scheduled that far ahead and the request answers with the
	// transitional state.
	Delay() time.Duration
	// CreatePackage builds the package's VMs and configures the service
	// (SQL user and password, address, whitelist).
	CreatePackage(ctx context.Context, spec PackageSpec) error
	// DeletePackage removes the package's VMs and data; an unknown uuid
	// is a success.
	DeletePackage(ctx context.Context, uuid string) error
	// SetWhitelist replaces the package's source-address whitelist (empty:
	// every source allowed).
	SetWhitelist(ctx context.Context, uuid string, entries []string) error
}

// PackageSpec is what the provider builds. SQLPass is a secret: never log
// a PackageSpec.
type PackageSpec struct {
	UUID       string
	Location   string
	Service    string
	Version    string
	ServiceIP  string
	Port       int
	SQLUser    string
	SQLPass    string
	Parameters json.RawMessage
	Nodes      []NodeSpec
	Whitelist  []string
}

// NodeSpec is one VM of a package.
type NodeSpec struct {
	ResourceID string
	DiskUUID   string
	VCPU       int64
	MemoryMB   int64
	DiskGB     int64
}

// String hides the password from fmt's %v and %+v.
func (s PackageSpec) String() string {
	return "PackageSpec{" + s.UUID + " " + s.Service + " " + s.Version + " in " + s.Location + "}"
}
