// Package actor describes who is making a request: the authenticated
// principal, its place in the organization tree and its role. Every service
// call takes an Actor; scope comes from here, never from a request body.
package actor

import (
	"strings"

	"github.com/trellis-cloud/trellis/internal/errs"
)

// OrgKind is a level of the organization tree.
type OrgKind string

const (
	Provider    OrgKind = "provider"
	Distributor OrgKind = "distributor"
	Partner     OrgKind = "partner"
	Customer    OrgKind = "customer"
)

// Valid reports whether k is a known kind.
func (k OrgKind) Valid() bool {
	switch k {
	case Provider, Distributor, Partner, Customer:
		return true
	}
	return false
}

// ChildKind returns the kind an org of kind k may have as children.
func (k OrgKind) ChildKind() (OrgKind, bool) {
	switch k {
	case Provider:
		return Distributor, true
	case Distributor:
		return Partner, true
	case Partner:
		return Customer, true
	}
	return "", false
}

// Role is what a principal may do inside its subtree.
type Role string

const (
	Admin  Role = "admin"  // everything, including members and keys
	Staff  Role = "staff"  // reads and business writes (partners, storage accounts)
	Viewer Role = "viewer" // reads only
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r.rank() > 0 }

func (r Role) rank() int {
	switch r {
	case Admin:
		return 3
	case Staff:
		return 2
	case Viewer:
		return 1
	}
	return 0
}

// AtLeast reports whether r includes min.
func (r Role) AtLeast(min Role) bool { return r.rank() >= min.rank() }

// Principal types.
const (
	TypeAPIKey = "api_key"
	TypeUser   = "user"
	TypeSystem = "system"
)

// Actor is the authenticated caller of a service method.
type Actor struct {
	Type      string  // TypeAPIKey, TypeUser or TypeSystem
	ID        string  // key id or user id
	OrgID     string  // the org the principal belongs to
	OrgPath   string  // that org's materialized path: its subtree is the actor's scope
	OrgKind   OrgKind // that org's kind
	Role      Role
	RequestID string

	// BillingAccount, when not 0, restricts the principal to one billing
	// account (an idcloudhost token "restricted" to it): it sees and bills
	// to that account only.
	BillingAccount int64

	// ResellerRole is the role of a reseller (Partner API v2) key: "User"
	// or "Finance"; "" for every other principal. The dialect checks it
	// against the roles each operation of the vendor API names.
	ResellerRole string
}

// System is the actor for work Trellis does on its own (jobs, bootstrap),
// scoped to the whole tree.
func System(requestID string) Actor {
	return Actor{Type: TypeSystem, ID: "system", OrgPath: "/", OrgKind: Provider, Role: Admin, RequestID: requestID}
}

// Scope is the path prefix every object the actor may see starts with. An
// actor without an org (a zero value, by mistake) gets a scope no path
// starts with, never the empty prefix that every path has.
func (a Actor) Scope() string {
	if a.OrgPath == "" {
		return noScope
	}
	return a.OrgPath
}

// noScope matches no org path (paths start with "/"); it is plain text so
// both databases accept it as a parameter.
const noScope = "!no-scope"

// Sees reports whether an object whose org has path p is in the actor's
// subtree.
func (a Actor) Sees(p string) bool { return a.OrgPath != "" && strings.HasPrefix(p, a.OrgPath) }

// Require checks the actor's role.
func (a Actor) Require(min Role) error {
	if !a.Role.AtLeast(min) {
		return errs.Newf(errs.KindForbidden, "this operation needs the %s role", min)
	}
	return nil
}

// RequireKind checks that the actor belongs to an org of one of kinds.
func (a Actor) RequireKind(kinds ...OrgKind) error {
	for _, k := range kinds {
		if a.OrgKind == k {
			return nil
		}
	}
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	return errs.Newf(errs.KindForbidden, "this operation is for %s keys", strings.Join(names, " or "))
}

// RequireWholeUser refuses a principal restricted to one billing account
// (an idcloudhost token "restricted" to it) a change — or, for secrets, a
// read — of something that belongs to the whole user rather than to one
// account: its S3 keys (a key reaches every bucket of the user, whatever
// account pays for it), its private networks (every account's VMs and load
// balancers use them), its profile, tokens and default account. Such a
// token may still read what it needs (networks, the user) and act on the
// resources of its own account. what completes "cannot …".
func (a Actor) RequireWholeUser(what string) error {
	if a.BillingAccount != 0 {
		return errs.Newf(errs.KindForbidden, "a token restricted to one billing account cannot %s", what)
	}
	return nil
}
