package network

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/catalog"
	"github.com/trellis-cloud/trellis/internal/jobs"
)

// FloatingIPQuery selects floating IPs in the store.
type FloatingIPQuery struct {
	OrgID            string // "" = any
	Location         string // "" = any
	BillingAccountID int64  // 0 = any
	AssignedTo       string // "" = any
}

// Queries is the persistence network needs, without Tx. It embeds
// billing.Queries (admission and account checks in the same transaction)
// and the usage segments, and compute's and services' Queries embed it, so
// the contract methods (AttachVMTx …) run in their transactions.
type Queries interface {
	billing.Queries
	SegmentQueries

	AppendAudit(ctx context.Context, e audit.Entry) error
	// EnqueueJob inserts a job in the transaction (jobs.Queue).
	EnqueueJob(ctx context.Context, args jobs.Args, opts jobs.InsertOpts) error

	// NetworkUserID returns the idcloudhost user number of a customer org
	// (0 when the org has no idcloudhost user).
	NetworkUserID(ctx context.Context, orgID string) (int64, error)
	// LockNetworkOwner takes the per-user lock that serialises network
	// creation, default changes and subnet allocation of one org.
	LockNetworkOwner(ctx context.Context, orgID string) error

	// ---- networks ----

	InsertNetwork(ctx context.Context, n Network) error
	// GetNetwork returns a network of the org with its VMs and LB count
	// (orgID "" = any org).
	GetNetwork(ctx context.Context, orgID, uuid string) (Network, error)
	// LockNetwork takes a network's row lock and returns it (without
	// VMs and LB count).
	LockNetwork(ctx context.Context, uuid string) (Network, error)
	// ListNetworks returns the org's networks in a location (all locations
	// for ""), oldest first, with VMs and LB counts.
	ListNetworks(ctx context.Context, orgID, location string) ([]Network, error)
	// DefaultNetwork returns the org's default network in a location.
	DefaultNetwork(ctx context.Context, orgID, location string) (Network, error)
	// NetworkSubnetIndexes returns the subnet indexes the org uses.
	NetworkSubnetIndexes(ctx context.Context, orgID string) ([]int64, error)
	// UpdateNetwork writes name, is_default, state and updated_at.
	UpdateNetwork(ctx context.Context, n Network) error
	// ClearDefaultNetwork removes the default mark of the org's networks
	// in a location.
	ClearDefaultNetwork(ctx context.Context, orgID, location string, at time.Time) error
	DeleteNetwork(ctx context.Context, uuid string) error

	// ---- addresses inside networks ----

	// NetworkAddresses returns the addresses in use in a network.
	NetworkAddresses(ctx context.Context, networkUUID string) ([]string, error)
	// ClaimNetworkAddress records address as used by owner; false when it
	// is taken.
	ClaimNetworkAddress(ctx context.Context, networkUUID, address, ownerType, ownerUUID string) (bool, error)
	ReleaseNetworkAddress(ctx context.Context, networkUUID, address string) error

	InsertVMInterface(ctx context.Context, i VMInterface) error
	GetVMInterface(ctx context.Context, vmUUID string) (VMInterface, error)
	DeleteVMInterface(ctx context.Context, vmUUID string) error

	// ---- public pool ----

	// GetLocation is catalog's: a pool range's location must exist.
	GetLocation(ctx context.Context, slug string) (catalog.Location, error)

	InsertPoolRange(ctx context.Context, r PoolRange, addrs []PoolAddress) error
	// ListPoolRanges returns the ranges of a location ("" = all) with
	// their sizes and use.
	ListPoolRanges(ctx context.Context, location string) ([]PoolRange, error)
	GetPoolRange(ctx context.Context, id string) (PoolRange, error)
	// DeletePoolRange deletes a range whose addresses are all free and
	// reports whether it did (false: some are reserved).
	DeletePoolRange(ctx context.Context, id string) (bool, error)
	// ClaimPoolAddress takes the lowest free address of the location at
	// or above num for the floating IP fipUUID by a conditional update;
	// ok false when none was taken (none free at or above num, or another
	// transaction took the candidate first).
	ClaimPoolAddress(ctx context.Context, location string, num int64, fipUUID string) (string, bool, error)
	// CountFreePoolAddresses counts the free addresses of a location.
	CountFreePoolAddresses(ctx context.Context, location string) (int, error)
	// ReleasePoolAddress frees an address held by fipUUID.
	ReleasePoolAddress(ctx context.Context, address, fipUUID string) error

	// ---- floating IPs ----

	InsertFloatingIP(ctx context.Context, f FloatingIP) error
	// GetFloatingIP returns a floating IP by address (orgID "" = any org).
	GetFloatingIP(ctx context.Context, orgID, address string) (FloatingIP, error)
	// LockFloatingIP takes the floating IP's row lock and returns it.
	LockFloatingIP(ctx context.Context, uuid string) (FloatingIP, error)
	ListFloatingIPs(ctx context.Context, q FloatingIPQuery) ([]FloatingIP, error)
	// AssignedAddresses returns the address assigned to each of the given
	// resources that has one (resource uuid → address; the lowest id when
	// several are): one query for a page of VMs.
	AssignedAddresses(ctx context.Context, resourceUUIDs []string) (map[string]string, error)
	// UpdateFloatingIP writes name, billing account, assignment,
	// unassigned_at and updated_at.
	UpdateFloatingIP(ctx context.Context, f FloatingIP) error
	DeleteFloatingIP(ctx context.Context, uuid string) error

	// CountAccountNetworkResources counts an account's floating IPs and
	// load balancers.
	CountAccountNetworkResources(ctx context.Context, billingAccountID int64) (int, error)

	// ---- load balancers ----

	InsertLB(ctx context.Context, lb LoadBalancer) error
	// GetLB returns a load balancer with rules and targets (orgID "" =
	// any org).
	GetLB(ctx context.Context, orgID, uuid string) (LoadBalancer, error)
	// LockLB takes the load balancer's row lock and returns it (without
	// rules and targets).
	LockLB(ctx context.Context, uuid string) (LoadBalancer, error)
	ListLBs(ctx context.Context, orgID, location string) ([]LoadBalancer, error)
	// UpdateLB writes display name, billing account, state, versions and
	// updated_at.
	UpdateLB(ctx context.Context, lb LoadBalancer) error
	DeleteLB(ctx context.Context, uuid string) error
	InsertLBRule(ctx context.Context, r Rule) error
	// DeleteLBRule deletes a rule and reports whether it existed.
	DeleteLBRule(ctx context.Context, lbUUID, ruleUUID string) (bool, error)
	InsertLBTarget(ctx context.Context, t Target) error
	// DeleteLBTarget deletes a target and reports whether it existed.
	DeleteLBTarget(ctx context.Context, lbUUID, targetUUID string) (bool, error)
	// LBsTargeting returns the uuids of the load balancers with a target.
	LBsTargeting(ctx context.Context, targetUUID string) ([]string, error)
}

// Store is Queries with transactions.
type Store interface {
	Queries
	Tx(ctx context.Context, fn func(Store) error) error
}
