package network

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/jobs"
)

// Accounts is what network needs of billing (implemented by
// billing.Service): admission of new resources and resolution of the
// account a request names, inside the caller's transaction.
type Accounts interface {
	AdmitTx(ctx context.Context, tx billing.Queries, a actor.Actor, id int64, required bool) (billing.Account, error)
	ResolveAccountTx(ctx context.Context, tx billing.Queries, a actor.Actor, id int64) (billing.Account, error)
}

var _ Accounts = (*billing.Service)(nil)

// Config tunes the service; zero values take the defaults.
type Config struct {
	// PrivateRange is where networks' IPv4 subnets are carved from
	// (default 10.0.0.0/8).
	PrivateRange netip.Prefix
	// SubnetBits is the prefix length of a network's subnet (default 24).
	SubnetBits int
	// IPv6Range is where networks' IPv6 /64s are carved from (default
	// 2001:db8::/32, the documentation prefix: configure the real one).
	IPv6Range netip.Prefix
	// Logger receives the failures of steps a request runs itself (the
	// job retries them); nil discards.
	Logger *slog.Logger
}

// Defaults of Config.
var (
	DefaultPrivateRange = netip.MustParsePrefix("10.0.0.0/8")
	DefaultIPv6Range    = netip.MustParsePrefix("2001:db8::/32")
)

// DefaultNetworkName is the name of a network created implicitly (ID-49).
const DefaultNetworkName = "Default network"

// Service manages private networks, floating IPs, load balancers and the
// public address pools.
type Service struct {
	store    Store
	accounts Accounts
	provider Provider
	clock    clock.Clock
	cfg      Config
}

// NewService returns a network service.
func NewService(st Store, accounts Accounts, p Provider, c clock.Clock, cfg Config) *Service {
	if !cfg.PrivateRange.IsValid() {
		cfg.PrivateRange = DefaultPrivateRange
	}
	cfg.PrivateRange = cfg.PrivateRange.Masked()
	if cfg.SubnetBits == 0 {
		cfg.SubnetBits = 24
	}
	if !cfg.IPv6Range.IsValid() {
		cfg.IPv6Range = DefaultIPv6Range
	}
	cfg.IPv6Range = cfg.IPv6Range.Masked()
	if _, err := subnetAt(cfg.PrivateRange, cfg.SubnetBits, 0); err != nil {
		panic(err)
	}
	if _, err := ipv6SubnetAt(cfg.IPv6Range, 0); err != nil {
		panic(err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: st, accounts: accounts, provider: p, clock: c, cfg: cfg}
}

func (s *Service) now() time.Time { return clock.Micro(s.clock.Now()) }

// owner is the user a request acts for.
type owner struct {
	OrgID   string
	OrgPath string
	UserID  int64
}

// ownerOf returns the actor's user: an idcloudhost user is the one customer
// of its org.
func ownerOf(ctx context.Context, q Queries, a actor.Actor) (owner, error) {
	uid, err := q.NetworkUserID(ctx, a.OrgID)
	if err != nil {
		return owner{}, err
	}
	return owner{OrgID: a.OrgID, OrgPath: a.Scope(), UserID: uid}, nil
}

// admittedOwnerTx admits the billing account a new resource is billed to
// and returns it with the resource's owner: the actor's org, and the
// account's user when the account names one.
func (s *Service) admittedOwnerTx(ctx context.Context, tx Queries, a actor.Actor, accountID int64) (billing.Account, owner, error) {
	acct, err := s.accounts.AdmitTx(ctx, tx, a, accountID, true)
	if err != nil {
		return billing.Account{}, owner{}, err
	}
	o, err := ownerOf(ctx, tx, a)
	if err != nil {
		return billing.Account{}, owner{}, err
	}
	if acct.UserID != 0 {
		o.UserID = acct.UserID
	}
	return acct, o, nil
}

// ownerByOrg returns the owner of an org for contract calls.
func ownerByOrg(ctx context.Context, q Queries, orgID string, userID int64) (owner, error) {
	org, err := q.GetOrg(ctx, "/", orgID)
	if err != nil {
		return owner{}, err
	}
	return owner{OrgID: org.ID, OrgPath: org.Path, UserID: userID}, nil
}

// restricted refuses a restricted token acting on a resource of another
// billing account.
func restricted(a actor.Actor, accountID int64) error {
	if a.BillingAccount != 0 && accountID != a.BillingAccount {
		return &errs.Error{Kind: errs.KindForbidden, Field: "billing_account_id",
			Msg: "the token is restricted to another billing account"}
	}
	return nil
}

// enqueue inserts a step job. inline: the caller attempts the step right
// after commit, so the job is the safety net.
func (s *Service) enqueue(ctx context.Context, tx Queries, args jobs.Args, inline bool) error {
	at := s.clock.Now().Add(s.provider.Delay())
	if inline {
		at = at.Add(SafetyNet)
	}
	return tx.EnqueueJob(ctx, args, jobs.InsertOpts{RunAt: at})
}

// logStep logs the failure of a step a request ran itself: the job retries
// it, but the cause would otherwise be lost.
func (s *Service) logStep(ctx context.Context, err error, kind, uuid, op string) {
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "network step failed; the job retries it", kind, uuid, "step", op, "err", err)
	}
}

// inline reports whether steps are attempted right after the request.
func (s *Service) inline() bool { return s.provider.Delay() <= 0 }

// ---- networks (ID-47..52) ----

// GetNetwork returns one of the caller's networks (ID-47).
func (s *Service) GetNetwork(ctx context.Context, a actor.Actor, location, uuid string) (Network, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return Network{}, err
	}
	return s.network(ctx, s.store, a.OrgID, location, uuid)
}

func (s *Service) network(ctx context.Context, q Queries, orgID, location, uuid string) (Network, error) {
	id, ok := normUUID(uuid)
	if !ok {
		return Network{}, &errs.Error{Kind: errs.KindNotFound, Field: "network_uuid", Msg: "network not found"}
	}
	n, err := q.GetNetwork(ctx, orgID, id)
	if err == nil && location != "" && n.Location != location {
		err = errs.NotFound("network")
	}
	if errs.Is(err, errs.KindNotFound) {
		return Network{}, &errs.Error{Kind: errs.KindNotFound, Field: "network_uuid", Msg: "network not found: " + id}
	}
	return n, err
}

// ListNetworks returns the caller's networks in a location, oldest first
// (ID-48).
func (s *Service) ListNetworks(ctx context.Context, a actor.Actor, location string) ([]Network, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return nil, err
	}
	return s.store.ListNetworks(ctx, a.OrgID, location)
}

// CreateNetwork implements ID-49: without a name it returns the default
// network of the location, creating "Default network" if there is none;
// with a name it creates a network. The user's first network in a location
// becomes its default.
func (s *Service) CreateNetwork(ctx context.Context, a actor.Actor, location string, name *string) (Network, error) {
	if err := a.Require(actor.Staff); err != nil {
		return Network{}, err
	}
	var nm string
	if name != nil {
		var err error
		if nm, err = checkName("name", *name); err != nil {
			return Network{}, err
		}
	}
	// The location's default network (no name) is what a VM of any account
	// gets anyway, so a restricted token may have it made; a named network
	// is the user's to create.
	if nm != "" {
		if err := a.RequireWholeUser("create networks (they belong to the whole user)"); err != nil {
			return Network{}, err
		}
	}
	var out Network
	created := false
	err := s.store.Tx(ctx, func(tx Store) error {
		created = false
		o, err := ownerOf(ctx, tx, a)
		if err != nil {
			return err
		}
		if err := tx.LockNetworkOwner(ctx, o.OrgID); err != nil {
			return err
		}
		if nm == "" {
			def, err := tx.DefaultNetwork(ctx, o.OrgID, location)
			if err == nil {
				out = def
				return nil
			}
			if !errs.Is(err, errs.KindNotFound) {
				return err
			}
			nm = DefaultNetworkName
		}
		out, err = s.createNetworkTx(ctx, tx, a, o, location, nm, false)
		created = true
		return err
	})
	if err != nil || !created {
		return out, err
	}
	return s.afterNetworkCreate(ctx, out)
}

// LoadDemoNetwork makes sure the caller has a network with this uuid and
// name in the location (the demo loads the seed's example network under
// its documented uuid, so the seed's VM-create body works verbatim). It is
// idempotent: an existing network with the uuid is returned as it is.
func (s *Service) LoadDemoNetwork(ctx context.Context, a actor.Actor, location, uuid, name string) (Network, error) {
	if n, err := s.store.GetNetwork(ctx, a.OrgID, uuid); err == nil {
		return n, nil
	} else if !errs.Is(err, errs.KindNotFound) {
		return Network{}, err
	}
	var out Network
	err := s.store.Tx(ctx, func(tx Store) error {
		o, err := ownerOf(ctx, tx, a)
		if err != nil {
			return err
		}
		if err := tx.LockNetworkOwner(ctx, o.OrgID); err != nil {
			return err
		}
		out, err = s.createNetworkWithUUIDTx(ctx, tx, a, o, location, name, uuid, false)
		return err
	})
	if err != nil {
		return out, err
	}
	return s.afterNetworkCreate(ctx, out)
}

// afterNetworkCreate runs the create step inline and returns the network
// as stored.
func (s *Service) afterNetworkCreate(ctx context.Context, n Network) (Network, error) {
	if s.inline() {
		s.logStep(ctx, s.RunNetworkStep(ctx, NetworkStep{NetworkUUID: n.UUID, Op: OpCreate}), "network", n.UUID, OpCreate)
	}
	return s.store.GetNetwork(ctx, n.OrgID, n.UUID)
}

// createNetworkTx creates a network; the caller holds the owner lock. The
// network is the default when the user has none in the location.
func (s *Service) createNetworkTx(ctx context.Context, tx Queries, a actor.Actor, o owner, location, name string, inlineLater bool) (Network, error) {
	return s.createNetworkWithUUIDTx(ctx, tx, a, o, location, name, ids.New(), inlineLater)
}

func (s *Service) createNetworkWithUUIDTx(ctx context.Context, tx Queries, a actor.Actor, o owner, location, name, uuid string, inlineLater bool) (Network, error) {
	used, err := tx.NetworkSubnetIndexes(ctx, o.OrgID)
	if err != nil {
		return Network{}, err
	}
	idx := int64(0)
	slices.Sort(used)
	for _, u := range used {
		if u == idx {
			idx++
		} else if u > idx {
			break
		}
	}
	if idx >= subnetCount(s.cfg.PrivateRange, s.cfg.SubnetBits) {
		return Network{}, errs.New(errs.KindCapacityExceeded, "the user has no free private subnet left")
	}
	subnet, err := subnetAt(s.cfg.PrivateRange, s.cfg.SubnetBits, idx)
	if err != nil {
		return Network{}, err
	}
	v6n, err := tx.NextNumber(ctx, "ipv6_net")
	if err != nil {
		return Network{}, err
	}
	v6, err := ipv6SubnetAt(s.cfg.IPv6Range, v6n-1)
	if err != nil {
		return Network{}, err
	}
	vlan, err := tx.NextNumber(ctx, "vlan:"+location)
	if err != nil {
		return Network{}, err
	}
	_, err = tx.DefaultNetwork(ctx, o.OrgID, location)
	if err != nil && !errs.Is(err, errs.KindNotFound) {
		return Network{}, err
	}
	now := s.now()
	n := Network{UUID: uuid, OrgID: o.OrgID, OrgPath: o.OrgPath, UserID: o.UserID, Location: location, Name: name,
		VLANID: vlan, SubnetIndex: idx, Subnet: subnet.String(), SubnetIPv6: v6.String(),
		IsDefault: errs.Is(err, errs.KindNotFound), State: StatePending, CreatedAt: now, UpdatedAt: now}
	if err := tx.InsertNetwork(ctx, n); err != nil {
		return Network{}, err
	}
	if err := tx.AppendAudit(ctx, audit.New(a, now, "network.create", "network", n.UUID, o.OrgPath,
		fmt.Sprintf("%s %s %s default=%t", name, n.Subnet, location, n.IsDefault))); err != nil {
		return Network{}, err
	}
	if err := s.enqueue(ctx, tx, NetworkStep{NetworkUUID: n.UUID, Op: OpCreate}, !inlineLater && s.inline()); err != nil {
		return Network{}, err
	}
	n.VMUUIDs = []string{}
	return n, nil
}

// DeleteNetwork deletes a network without resources that is not the
// default (ID-50).
func (s *Service) DeleteNetwork(ctx context.Context, a actor.Actor, location, uuid string) error {
	if err := a.Require(actor.Staff); err != nil {
		return err
	}
	if err := a.RequireWholeUser("delete networks (they belong to the whole user)"); err != nil {
		return err
	}
	err := s.store.Tx(ctx, func(tx Store) error {
		n, err := s.network(ctx, tx, a.OrgID, location, uuid)
		if err != nil {
			return err
		}
		if err := tx.LockNetworkOwner(ctx, n.OrgID); err != nil {
			return err
		}
		if n, err = tx.LockNetwork(ctx, n.UUID); err != nil {
			return err
		}
		if n.IsDefault {
			return &errs.Error{Kind: errs.KindPrecondition, Field: "network_uuid",
				Msg: "the default network cannot be deleted; make another network the default first"}
		}
		full, err := tx.GetNetwork(ctx, n.OrgID, n.UUID)
		if err != nil {
			return err
		}
		if full.ResourcesCount() > 0 {
			return &errs.Error{Kind: errs.KindPrecondition, Field: "network_uuid",
				Msg: fmt.Sprintf("the network still has %d resources (VMs and load balancers)", full.ResourcesCount())}
		}
		if err := tx.DeleteNetwork(ctx, n.UUID); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, audit.New(a, s.now(), "network.delete", "network", n.UUID, n.OrgPath, n.Name)); err != nil {
			return err
		}
		return s.enqueue(ctx, tx, NetworkStep{NetworkUUID: n.UUID, Op: OpDelete}, s.inline())
	})
	if err == nil && s.inline() {
		s.logStep(ctx, s.RunNetworkStep(ctx, NetworkStep{NetworkUUID: uuid, Op: OpDelete}), "network", uuid, OpDelete)
	}
	return err
}

// SetDefaultNetwork makes a network the user's default in its location; the
// others lose the mark (ID-51).
func (s *Service) SetDefaultNetwork(ctx context.Context, a actor.Actor, location, uuid string) (Network, error) {
	if err := a.Require(actor.Staff); err != nil {
		return Network{}, err
	}
	if err := a.RequireWholeUser("change the default network (it belongs to the whole user)"); err != nil {
		return Network{}, err
	}
	var out Network
	err := s.store.Tx(ctx, func(tx Store) error {
		n, err := s.network(ctx, tx, a.OrgID, location, uuid)
		if err != nil {
			return err
		}
		if err := tx.LockNetworkOwner(ctx, n.OrgID); err != nil {
			return err
		}
		if n.IsDefault {
			out = n
			return nil
		}
		now := s.now()
		if err := tx.ClearDefaultNetwork(ctx, n.OrgID, n.Location, now); err != nil {
			return err
		}
		n.IsDefault, n.UpdatedAt = true, now
		if err := tx.UpdateNetwork(ctx, n); err != nil {
			return err
		}
		out = n
		return tx.AppendAudit(ctx, audit.New(a, now, "network.set_default", "network", n.UUID, n.OrgPath, n.Name))
	})
	return out, err
}

// RenameNetwork renames a network (ID-52); no name leaves it unchanged.
func (s *Service) RenameNetwork(ctx context.Context, a actor.Actor, location, uuid string, name *string) (Network, error) {
	if err := a.Require(actor.Staff); err != nil {
		return Network{}, err
	}
	if err := a.RequireWholeUser("rename networks (they belong to the whole user)"); err != nil {
		return Network{}, err
	}
	var nm string
	if name != nil {
		var err error
		if nm, err = checkName("name", *name); err != nil {
			return Network{}, err
		}
		if nm == "" {
			return Network{}, errs.Invalid("name", "must not be empty")
		}
	}
	var out Network
	err := s.store.Tx(ctx, func(tx Store) error {
		n, err := s.network(ctx, tx, a.OrgID, location, uuid)
		if err != nil {
			return err
		}
		if name == nil || n.Name == nm {
			out = n
			return nil
		}
		n.Name, n.UpdatedAt = nm, s.now()
		if err := tx.UpdateNetwork(ctx, n); err != nil {
			return err
		}
		out = n
		return tx.AppendAudit(ctx, audit.New(a, n.UpdatedAt, "network.rename", "network", n.UUID, n.OrgPath, nm))
	})
	return out, err
}

// ActiveResources counts the floating IPs and load balancers billed to an
// account (billing refuses to delete an account that has any).
func (s *Service) ActiveResources(ctx context.Context, billingAccountID int64) (int, error) {
	return s.store.CountAccountNetworkResources(ctx, billingAccountID)
}

// ResourceCounter counts an account's live network resources through
// billing's transaction (billing.ResourceCounter, the guard of an account's
// deletion). It reads only that transaction, so billing is built with it
// before this service, which needs billing.
type ResourceCounter struct{}

// ActiveResourcesTx is ActiveResources read through billing's transaction
// tx (billing.ResourceCounter: the guard of an account's deletion).
func (ResourceCounter) ActiveResourcesTx(ctx context.Context, tx billing.Store, billingAccountID int64) (int, error) {
	q, ok := tx.(Queries)
	if !ok {
		return 0, errs.Newf(errs.KindInternal, "network: the billing transaction (%T) has no network queries", tx)
	}
	return q.CountAccountNetworkResources(ctx, billingAccountID)
}
