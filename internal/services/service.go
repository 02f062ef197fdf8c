package services

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/trellis-cloud/trellis/internal/sealed"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/jobs"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/network"
	"github.com/trellis-cloud/trellis/internal/pricing"
)

// Billing is what the service needs of billing accounts (billing.Service).
type Billing interface {
	AdmitTx(ctx context.Context, tx billing.Queries, a actor.Actor, id int64, required bool) (billing.Account, error)
	ResolveAccountTx(ctx context.Context, tx billing.Queries, a actor.Actor, id int64) (billing.Account, error)
}

// Network reserves and releases the packages' addresses (network.Service).
type Network interface {
	ReserveServiceIPTx(ctx context.Context, tx network.Queries, in network.ReserveForService) (network.FloatingIP, error)
	ReleaseServiceIPTx(ctx context.Context, tx network.Queries, address string) error
}

// Prices gives the managed services' price multipliers (pricing.Service).
type Prices interface {
	ListMultipliers(ctx context.Context) ([]pricing.ServiceMultipliers, error)
}

var (
	_ Billing = (*billing.Service)(nil)
	_ Network = (*network.Service)(nil)
	_ Prices  = (*pricing.Service)(nil)
)

// Config tunes the service; zero values take the defaults.
type Config struct {
	Offerings []Offering // default DefaultOfferings()
	Limits    Limits     // default DefaultLimits()
	// SecretKey seals the SQL passwords at rest (AES-256-GCM, 32 bytes).
	// Without it they are stored as they are (marked "plain:").
	SecretKey []byte
	// SafetyNet is how far ahead a step job is scheduled when the request
	// runs the step itself (provider delay 0): if that attempt fails, or
	// the process dies before it, the job does it (default 30s).
	SafetyNet time.Duration
	// Logger receives the failures of steps a request runs itself (the
	// job retries them); nil discards.
	Logger *slog.Logger
}

// Service manages service packages.
type Service struct {
	store    Store
	billing  Billing
	network  Network
	prices   Prices
	provider Provider
	clock    clock.Clock
	cfg      Config
	box      sealed.Box
}

// NewService returns a services service. A SecretKey of the wrong length is
// an error.
func NewService(st Store, b Billing, n Network, p Prices, prov Provider, c clock.Clock, cfg Config) (*Service, error) {
	if cfg.Offerings == nil {
		cfg.Offerings = DefaultOfferings()
	}
	if cfg.Limits == (Limits{}) {
		cfg.Limits = DefaultLimits()
	}
	if cfg.SafetyNet <= 0 {
		cfg.SafetyNet = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{store: st, billing: b, network: n, prices: p, provider: prov, clock: c, cfg: cfg}
	box, err := sealed.New(cfg.SecretKey)
	if err != nil {
		return nil, err
	}
	s.box = box
	return s, nil
}

func (s *Service) now() time.Time { return clock.Micro(s.clock.Now()) }

// Offerings returns the services on offer.
func (s *Service) Offerings() []Offering { return slices.Clone(s.cfg.Offerings) }

// ---- jobs ----

// Step operations of PackageStep.
const (
	OpCreate    = "create"
	OpDelete    = "delete"
	OpWhitelist = "whitelist"
)

// PackageStep is the job that runs one provider step of a package.
type PackageStep struct {
	PackageUUID string `json:"package_uuid"`
	Op          string `json:"op"`
}

// Kind implements jobs.Args.
func (PackageStep) Kind() string { return "services.package_step" }

// enqueueTx schedules a step in tx: after the provider's delay, or after
// the safety net when the request runs the step itself.
func (s *Service) enqueueTx(ctx context.Context, tx Queries, uuid, op string) error {
	d := s.provider.Delay()
	if d <= 0 {
		d = s.cfg.SafetyNet
	}
	return tx.EnqueueJob(ctx, PackageStep{PackageUUID: uuid, Op: op}, jobs.InsertOpts{RunAt: s.clock.Now().Add(d)})
}

// logStep logs the failure of a step a request ran itself: the job retries
// it, but the cause would otherwise be lost.
func (s *Service) logStep(err error, uuid, step string) {
	if err != nil {
		s.cfg.Logger.Warn("service package step failed; the job retries it", "package", uuid, "step", step, "err", err)
	}
}

// inline tells whether requests run steps themselves.
func (s *Service) inline() bool { return s.provider.Delay() <= 0 }

// RunPackageStep is the worker of PackageStep (the lead registers it with
// jobs.AddWorker). Steps are idempotent: one whose package is past it does
// nothing. A provider failure is returned, so River retries.
func (s *Service) RunPackageStep(ctx context.Context, args PackageStep) error {
	switch args.Op {
	case OpCreate:
		return s.stepCreate(ctx, args.PackageUUID)
	case OpDelete:
		return s.stepDelete(ctx, args.PackageUUID)
	case OpWhitelist:
		return s.stepWhitelist(ctx, args.PackageUUID)
	}
	return fmt.Errorf("services: unknown step %q", args.Op)
}

func provisioning(status string) bool { return status == StatusCreating || status == StatusError }

// stepPackage reads the package a step names; ok is false when it is
// gone (nothing to do) or on an error.
func (s *Service) stepPackage(ctx context.Context, uuid string) (p Package, ok bool, err error) {
	p, err = s.store.GetServicePackage(ctx, "/", uuid)
	if errs.Is(err, errs.KindNotFound) {
		return Package{}, false, nil
	}
	return p, err == nil, err
}

func (s *Service) stepCreate(ctx context.Context, uuid string) error {
	p, ok, err := s.stepPackage(ctx, uuid)
	if !ok || !provisioning(p.Status) {
		return err
	}
	wl, err := s.store.ListServiceWhitelist(ctx, uuid)
	if err != nil {
		return err
	}
	pass, err := s.box.Open(p.UUID, p.SealedPass)
	if err != nil {
		return err
	}
	spec := PackageSpec{UUID: p.UUID, Location: p.Location, Service: p.Service, Version: p.Version,
		ServiceIP: p.ServiceIP, Port: p.Port, SQLUser: p.SQLUser, SQLPass: pass, Parameters: []byte(p.Parameters),
		Whitelist: wl}
	for _, r := range p.VMs() {
		spec.Nodes = append(spec.Nodes, NodeSpec{ResourceID: r.ID, DiskUUID: r.DiskUUID, VCPU: r.VCPU,
			MemoryMB: r.MemoryMB, DiskGB: r.DiskGB})
	}
	perr := s.provider.CreatePackage(ctx, spec)
	orphan := false
	err = s.store.Tx(ctx, func(tx Store) error {
		p, err := tx.LockServicePackage(ctx, uuid)
		if err != nil {
			return err
		}
		if !provisioning(p.Status) {
			// Deleted while the provider worked: undo below.
			orphan = perr == nil
			return nil
		}
		now := s.now()
		status, vmStatus, action := StatusActive, VMRunning, "service_package.active"
		if perr != nil {
			status, vmStatus, action = StatusError, VMError, "service_package.error"
			if p.Status == StatusError {
				return nil // still failing: nothing changes
			}
		}
		p.Status = status
		if perr == nil {
			p.UpdatedAt = now
		}
		if err := tx.UpdateServicePackage(ctx, p); err != nil {
			return err
		}
		for _, r := range p.Resources {
			if r.Type == ResourceVM {
				r.Status, r.UpdatedAt = vmStatus, now
				if err := tx.UpdateServiceResource(ctx, r); err != nil {
					return err
				}
			}
		}
		if perr == nil {
			if err := s.billTx(ctx, tx, p, now); err != nil {
				return err
			}
		}
		detail := "status=" + status
		if perr != nil {
			detail += " provider error: " + perr.Error()
		}
		return tx.AppendAudit(ctx, audit.New(actor.System(""), now, action, "service_package", p.UUID, p.OrgPath, detail))
	})
	if err != nil {
		return err
	}
	if orphan {
		return s.provider.DeletePackage(ctx, uuid)
	}
	return perr
}

func (s *Service) stepDelete(ctx context.Context, uuid string) error {
	p, ok, err := s.stepPackage(ctx, uuid)
	if !ok || p.Status != StatusDeleting {
		return err
	}
	if err := s.provider.DeletePackage(ctx, uuid); err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx Store) error {
		p, err := tx.LockServicePackage(ctx, uuid)
		if err != nil {
			return err
		}
		if p.Status != StatusDeleting {
			return nil
		}
		now := s.now()
		if p.ServiceIP != "" {
			if err := s.network.ReleaseServiceIPTx(ctx, tx, p.ServiceIP); err != nil && !errs.Is(err, errs.KindNotFound) {
				return err
			}
		}
		p.Status = StatusDeleted
		if err := tx.UpdateServicePackage(ctx, p); err != nil {
			return err
		}
		for _, r := range p.Resources {
			r.Status, r.UpdatedAt = VMDeleted, now
			if err := tx.UpdateServiceResource(ctx, r); err != nil {
				return err
			}
		}
		return tx.AppendAudit(ctx, audit.New(actor.System(""), now, "service_package.deleted", "service_package",
			p.UUID, p.OrgPath, "address released: "+p.ServiceIP))
	})
}

func (s *Service) stepWhitelist(ctx context.Context, uuid string) error {
	p, ok, err := s.stepPackage(ctx, uuid)
	// A package being created gets the list with its creation; a deleted
	// one needs none.
	if !ok || p.Status != StatusActive {
		return err
	}
	wl, err := s.store.ListServiceWhitelist(ctx, uuid)
	if err != nil {
		return err
	}
	return s.provider.SetWhitelist(ctx, uuid, wl)
}

// ---- billing ----

// segments are how a package's resources are billed while it is active.
func segments(p Package, r Resource) []metering.Segment {
	seg := metering.Segment{BillingAccountID: p.BillingAccountID, LocationSlug: p.Location, OwnerUUID: r.ID,
		UserID: p.UserID}
	switch r.Type {
	case ResourceVM:
		disk := r.DiskGB
		seg.Meter = pricing.MeterVM
		seg.Config = pricing.Config{VMName: vmName(p), CPUs: r.VCPU, RAMMB: r.MemoryMB, DiskGB: &disk,
			Status: VMRunning, Service: p.Service}
	case ResourceVirtualIP:
		seg.Meter = pricing.MeterFloatingIP
		seg.Config = pricing.Config{Name: r.Address, Service: p.Service}
	default:
		return nil
	}
	return []metering.Segment{seg}
}

// billTx (re)starts the billing of an active package's resources at at.
func (s *Service) billTx(ctx context.Context, tx Queries, p Package, at time.Time) error {
	for _, r := range p.Resources {
		if err := metering.SetUsageTx(ctx, tx, at, r.ID, segments(p, r)...); err != nil {
			return err
		}
	}
	return nil
}

// unbillTx stops the billing of a package's resources at at.
func (s *Service) unbillTx(ctx context.Context, tx Queries, p Package, at time.Time) error {
	for _, r := range p.Resources {
		if err := metering.SetUsageTx(ctx, tx, at, r.ID); err != nil {
			return err
		}
	}
	return nil
}

// ActiveResources counts the packages billed to an account (billing's
// ResourceCounter: an account with any cannot be deleted).
func (s *Service) ActiveResources(ctx context.Context, billingAccountID int64) (int, error) {
	return s.store.CountActiveServicePackages(ctx, billingAccountID)
}

// ResourceCounter counts an account's live services resources through
// billing's transaction (billing.ResourceCounter, the guard of an account's
// deletion). It reads only that transaction, so billing is built with it
// before this service, which needs billing.
type ResourceCounter struct{}

// ActiveResourcesTx is ActiveResources read through billing's transaction
// tx (billing.ResourceCounter: the guard of an account's deletion).
func (ResourceCounter) ActiveResourcesTx(ctx context.Context, tx billing.Store, billingAccountID int64) (int, error) {
	q, ok := tx.(Queries)
	if !ok {
		return 0, errs.Newf(errs.KindInternal, "services: the billing transaction (%T) has no services queries", tx)
	}
	return q.CountActiveServicePackages(ctx, billingAccountID)
}

// ---- reads ----

// withPrices fills the packages' price multipliers.
func (s *Service) withPrices(ctx context.Context, ps ...*Package) error {
	list, err := s.prices.ListMultipliers(ctx)
	if err != nil {
		return err
	}
	for _, p := range ps {
		p.Prices = []pricing.Multiplier{}
		for _, sm := range list {
			if sm.Service == p.Service {
				p.Prices = slices.Clone(sm.Multipliers)
			}
		}
	}
	return nil
}

// visible finds a package the caller may see in a location: its org is in
// the caller's subtree, a restricted token sees its account's packages
// only, and a package of another location is not found (ID-amb-1).
func visible(ctx context.Context, q Queries, a actor.Actor, location, uuid string, lock bool) (Package, error) {
	notFound := &errs.Error{Kind: errs.KindNotFound, Field: "service_package_uuid", Msg: "service package not found"}
	uuid, ok := ids.Normalize(uuid)
	if !ok {
		return Package{}, notFound
	}
	p, err := q.GetServicePackage(ctx, a.Scope(), uuid)
	if errs.Is(err, errs.KindNotFound) {
		return Package{}, notFound
	}
	if err != nil {
		return Package{}, err
	}
	if (a.BillingAccount != 0 && p.BillingAccountID != a.BillingAccount) || (location != "" && p.Location != location) {
		return Package{}, notFound
	}
	if lock {
		return q.LockServicePackage(ctx, uuid)
	}
	return p, nil
}

// List returns the caller's packages in a location ("" = every location)
// whose delete was not requested, oldest first (ID-101).
func (s *Service) List(ctx context.Context, a actor.Actor, location string) ([]Package, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return nil, err
	}
	list, err := s.store.ListServicePackages(ctx, PackageFilter{Scope: a.Scope(), Location: location,
		BillingAccountID: a.BillingAccount})
	if err != nil {
		return nil, err
	}
	ptrs := make([]*Package, len(list))
	for i := range list {
		ptrs[i] = &list[i]
	}
	return list, s.withPrices(ctx, ptrs...)
}

// Get returns one package, deleted ones too (ID-102).
func (s *Service) Get(ctx context.Context, a actor.Actor, location, uuid string) (Package, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return Package{}, err
	}
	p, err := visible(ctx, s.store, a, location, uuid, false)
	if err != nil {
		return Package{}, err
	}
	return p, s.withPrices(ctx, &p)
}

// Secrets returns the SQL password of a package that is not deleted
// (ID-104; staff and admins only).
func (s *Service) Secrets(ctx context.Context, a actor.Actor, location, uuid string) (Secrets, error) {
	if err := a.Require(actor.Staff); err != nil {
		return Secrets{}, err
	}
	p, err := visible(ctx, s.store, a, location, uuid, false)
	if err != nil {
		return Secrets{}, err
	}
	if p.IsDeleted() {
		return Secrets{}, errs.New(errs.KindPrecondition, "the service package is deleted")
	}
	pass, err := s.box.Open(p.UUID, p.SealedPass)
	return Secrets{SQLPass: pass}, err
}

// Whitelist returns a package's whitelist (ID-106).
func (s *Service) Whitelist(ctx context.Context, a actor.Actor, location, uuid string) ([]string, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return nil, err
	}
	p, err := visible(ctx, s.store, a, location, uuid, false)
	if err != nil {
		return nil, err
	}
	return s.store.ListServiceWhitelist(ctx, p.UUID)
}

// ---- writes ----

// Create creates a package (ID-100): admission on the billing account, the
// address reserved, the package written as "creating" with its step job;
// with an immediate provider the step runs before Create returns, so the
// answer is "active" (or "error" if the provider failed: the job retries).
func (s *Service) Create(ctx context.Context, a actor.Actor, in CreateInput) (Package, error) {
	if err := a.Require(actor.Staff); err != nil {
		return Package{}, err
	}
	off, err := in.Validate(s.cfg.Offerings, s.cfg.Limits)
	if err != nil {
		return Package{}, err
	}
	prices, err := s.prices.ListMultipliers(ctx)
	if err != nil {
		return Package{}, err
	}
	if !slices.ContainsFunc(prices, func(sm pricing.ServiceMultipliers) bool { return sm.Service == in.Service }) {
		return Package{}, errs.Invalidf("service", "%s has no prices defined and cannot be ordered", in.Service)
	}
	pass, err := newPassword()
	if err != nil {
		return Package{}, err
	}
	uuid := in.UUID
	if uuid == "" {
		uuid = ids.New()
	}
	sealed, err := s.box.Seal(uuid, pass)
	if err != nil {
		return Package{}, err
	}
	err = s.store.Tx(ctx, func(tx Store) error {
		acct, err := s.billing.AdmitTx(ctx, tx, a, in.BillingAccountID, true)
		if err != nil {
			return err
		}
		now := s.now()
		ip, err := s.network.ReserveServiceIPTx(ctx, tx, network.ReserveForService{OrgID: acct.OrgID, UserID: acct.UserID,
			BillingAccountID: acct.ID, Location: in.Location, ServiceUUID: uuid})
		if err != nil {
			return err
		}
		p := Package{UUID: uuid, OrgID: acct.OrgID, OrgPath: acct.OrgPath, UserID: acct.UserID,
			BillingAccountID: acct.ID, Location: in.Location, Service: in.Service, Version: in.Version,
			DisplayName: in.DisplayName, VMCPU: in.VMCPU, VMRAMMB: in.VMRAMMB, VMDiskGB: in.VMDiskGB,
			IsMultiNode: in.IsMultiNode, Parameters: string(in.Parameters), Status: StatusCreating,
			SQLUser: off.SQLUser, Port: off.Port, ServiceIP: ip.Address, SealedPass: sealed,
			CreatedAt: now, UpdatedAt: now}
		nodes := 1
		if in.IsMultiNode {
			nodes = MultiNodeVMs
			p.Resources = append(p.Resources, Resource{ID: ids.New(), Type: ResourceVirtualIP, Location: in.Location,
				Address: ip.Address, Status: StatusActive, CreatedAt: now, UpdatedAt: now})
		}
		for range nodes {
			p.Resources = append(p.Resources, Resource{ID: ids.New(), Type: ResourceVM, Position: len(p.Resources),
				Location: in.Location, VCPU: in.VMCPU, MemoryMB: in.VMRAMMB, DiskUUID: ids.New(), DiskGB: in.VMDiskGB,
				Status: VMCreating, CreatedAt: now, UpdatedAt: now})
		}
		if err := tx.InsertServicePackage(ctx, p); err != nil {
			if errs.Is(err, errs.KindConflict) {
				return &errs.Error{Kind: errs.KindConflict, Field: "uuid", Msg: "a service package with this uuid exists"}
			}
			return err
		}
		if err := s.enqueueTx(ctx, tx, uuid, OpCreate); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "service_package.create", "service_package", uuid, p.OrgPath,
			fmt.Sprintf("service=%s version=%s nodes=%d vm_cpu=%d vm_ram=%d vm_disk_gb=%d billing_account_id=%d location=%s address=%s",
				p.Service, p.Version, nodes, p.VMCPU, p.VMRAMMB, p.VMDiskGB, p.BillingAccountID, p.Location, p.ServiceIP)))
	})
	if err != nil {
		return Package{}, err
	}
	if s.inline() {
		// A failure leaves the package in "error" for the job to retry.
		s.logStep(s.stepCreate(ctx, uuid), uuid, "create")
	}
	return s.reread(ctx, uuid)
}

// reread returns a package after a change, with its prices.
func (s *Service) reread(ctx context.Context, uuid string) (Package, error) {
	p, err := s.store.GetServicePackage(ctx, "/", uuid)
	if err != nil {
		return Package{}, err
	}
	return p, s.withPrices(ctx, &p)
}

// Update changes a package's display name and billing account (ID-103).
// Moving the package moves its billing from now on; the new account must
// be one of the caller's (a restricted token's own) and not deleted.
func (s *Service) Update(ctx context.Context, a actor.Actor, location, uuid string, in UpdateInput) (Package, error) {
	if err := a.Require(actor.Staff); err != nil {
		return Package{}, err
	}
	if err := in.Validate(); err != nil {
		return Package{}, err
	}
	var id string
	err := s.store.Tx(ctx, func(tx Store) error {
		p, err := visible(ctx, tx, a, location, uuid, true)
		if err != nil {
			return err
		}
		id = p.UUID
		if p.IsDeleted() {
			return errs.New(errs.KindPrecondition, "the service package is deleted")
		}
		now := s.now()
		var changes []string
		if in.BillingAccountID != nil {
			acct, err := s.billing.ResolveAccountTx(ctx, tx, a, *in.BillingAccountID)
			if err != nil {
				return err
			}
			switch {
			case acct.DeletedAt != nil:
				return errs.Invalidf("billing_account_id", "billing account %d is deleted", acct.ID)
			case acct.OrgID != p.OrgID:
				return errs.Invalidf("billing_account_id", "billing account %d belongs to another customer", acct.ID)
			}
			if acct.ID != p.BillingAccountID {
				changes = append(changes, fmt.Sprintf("billing_account_id=%d→%d", p.BillingAccountID, acct.ID))
				p.BillingAccountID = acct.ID
				if p.Status == StatusActive {
					if err := s.billTx(ctx, tx, p, now); err != nil {
						return err
					}
				}
			}
		}
		if in.DisplayName != nil && *in.DisplayName != p.DisplayName {
			changes = append(changes, "display_name")
			p.DisplayName = *in.DisplayName
		}
		if len(changes) == 0 {
			return nil
		}
		p.UpdatedAt = now
		if err := tx.UpdateServicePackage(ctx, p); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "service_package.update", "service_package", p.UUID, p.OrgPath,
			strings.Join(changes, " ")))
	})
	if err != nil {
		return Package{}, err
	}
	return s.reread(ctx, id)
}

// Delete deletes a package (ID-105): it is marked deleted at once (billing
// stops), and the provider step removes its VMs and frees its address.
// Deleting a deleted package returns it unchanged.
func (s *Service) Delete(ctx context.Context, a actor.Actor, location, uuid string) (Package, error) {
	if err := a.Require(actor.Staff); err != nil {
		return Package{}, err
	}
	var id string
	run := false
	err := s.store.Tx(ctx, func(tx Store) error {
		p, err := visible(ctx, tx, a, location, uuid, true)
		if err != nil {
			return err
		}
		id = p.UUID
		if p.IsDeleted() {
			return nil
		}
		now := s.now()
		p.Status, p.DeletedAt = StatusDeleting, &now
		if err := tx.UpdateServicePackage(ctx, p); err != nil {
			return err
		}
		if err := s.unbillTx(ctx, tx, p, now); err != nil {
			return err
		}
		if err := s.enqueueTx(ctx, tx, p.UUID, OpDelete); err != nil {
			return err
		}
		run = true
		return tx.AppendAudit(ctx, audit.New(a, now, "service_package.delete", "service_package", p.UUID, p.OrgPath, ""))
	})
	if err != nil {
		return Package{}, err
	}
	if run && s.inline() {
		// A failure leaves the package "deleting" for the job to retry.
		s.logStep(s.stepDelete(ctx, id), id, "delete")
	}
	return s.reread(ctx, id)
}

// AddWhitelist adds an entry to a package's whitelist and returns the list
// (ID-107). An entry already present changes nothing.
func (s *Service) AddWhitelist(ctx context.Context, a actor.Actor, location, uuid, entry string) ([]string, error) {
	return s.changeWhitelist(ctx, a, location, uuid, entry, true)
}

// RemoveWhitelist removes an entry from a package's whitelist and returns
// the list (ID-108). An absent entry changes nothing (ID-amb-29).
func (s *Service) RemoveWhitelist(ctx context.Context, a actor.Actor, location, uuid, entry string) ([]string, error) {
	return s.changeWhitelist(ctx, a, location, uuid, entry, false)
}

func (s *Service) changeWhitelist(ctx context.Context, a actor.Actor, location, uuid, entry string, add bool) ([]string, error) {
	if err := a.Require(actor.Staff); err != nil {
		return nil, err
	}
	entry, err := WhitelistEntry(entry)
	if err != nil {
		return nil, err
	}
	var (
		list    []string
		id      string
		changed bool
	)
	err = s.store.Tx(ctx, func(tx Store) error {
		p, err := visible(ctx, tx, a, location, uuid, true)
		if err != nil {
			return err
		}
		id = p.UUID
		if p.IsDeleted() {
			return errs.New(errs.KindPrecondition, "the service package is deleted")
		}
		if list, err = tx.ListServiceWhitelist(ctx, p.UUID); err != nil {
			return err
		}
		now := s.now()
		action := "service_package.whitelist.add"
		if add {
			if slices.Contains(list, entry) {
				return nil
			}
			if len(list) >= MaxWhitelist {
				return errs.Invalidf("ip_address", "the whitelist is full (at most %d entries)", MaxWhitelist)
			}
			changed, err = tx.AddServiceWhitelist(ctx, p.UUID, entry, now)
		} else {
			action = "service_package.whitelist.delete"
			changed, err = tx.DeleteServiceWhitelist(ctx, p.UUID, entry)
		}
		if err != nil || !changed {
			return err
		}
		if list, err = tx.ListServiceWhitelist(ctx, p.UUID); err != nil {
			return err
		}
		if err := s.enqueueTx(ctx, tx, p.UUID, OpWhitelist); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, now, action, "service_package", p.UUID, p.OrgPath, entry))
	})
	if err != nil {
		return nil, err
	}
	if changed && s.inline() {
		// A failure is retried by the job; the list is the truth.
		s.logStep(s.stepWhitelist(ctx, id), id, "whitelist")
	}
	return list, nil
}

// ---- secrets ----

// passwordAlphabet is what SQL passwords are made of: letters and digits,
// safe in connection strings and shells.
const passwordAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// PasswordLength is the length of a generated SQL password (about 143 bits).
const PasswordLength = 24

func newPassword() (string, error) {
	b := make([]byte, PasswordLength)
	max := big.NewInt(int64(len(passwordAlphabet)))
	for i := range b {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		b[i] = passwordAlphabet[n.Int64()]
	}
	return string(b), nil
}
