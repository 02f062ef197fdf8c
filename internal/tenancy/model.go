// Package tenancy owns the organization tree (provider → distributor →
// partner → customer), the contracts between a parent org and a child, and
// the capacity a distributor hands its partners under a contract.
//
// Capacity invariants (all in bytes):
//   - a contract's allocated capacity is the live sum of its partners'
//     allocations and never exceeds its reserved capacity;
//   - a partner with a non-zero allocation never has less than the sum of its
//     strict (non-overdraft) storage accounts; 0 means pay-per-use.
//
// Both are kept by conditional updates inside one transaction, so they hold
// under any number of concurrent requests and nodes.
package tenancy

import (
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
)

// Org is a node of the organization tree. Partners also carry their
// allocation under a distributor contract.
type Org struct {
	ID        string
	Kind      actor.OrgKind
	ParentID  string
	Path      string // "/<root id>/…/<id>/": subtree checks are prefix checks
	Name      string
	Details   string
	TimeZone  string
	CreatedAt time.Time
	UpdatedAt time.Time

	// Partner fields.
	ContractID        string
	AllocatedCapacity int64
	AllowOverdraft    bool
	AccountsAllocated int64 // Σ allocations of the partner's strict storage accounts
}

// PayPerUse reports whether a partner has no fixed allocation.
func (o Org) PayPerUse() bool { return o.AllocatedCapacity == 0 }

// Contract is an agreement between a parent org (the provider) and a child
// (a distributor): the capacity reserved for the child and the prices of use
// beyond it.
type Contract struct {
	ID                 string
	ParentOrgID        string
	OrgID              string // the distributor
	OrgPath            string // the distributor's path
	ReservedCapacity   int64
	AllocatedCapacity  int64 // Σ partner allocations under this contract
	CostStorageGBCents int64 // per GB-month beyond the reservation
	CostEgressGBCents  int64
	Currency           string
	Details            string // the contract's name
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// Free returns the unallocated part of the reservation.
func (c Contract) Free() int64 { return c.ReservedCapacity - c.AllocatedCapacity }
