package compute

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/catalog"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/jobs"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/network"
	"github.com/trellis-cloud/trellis/internal/pricing"
)

// Catalog is what compute needs of the catalog (catalog.Service).
type Catalog interface {
	HostPool(ctx context.Context, location, uuid string) (catalog.HostPool, error)
	DefaultHostPool(ctx context.Context, location string) (catalog.HostPool, error)
	VMRules(ctx context.Context) (catalog.VMRules, error)
	Image(ctx context.Context, osName, osVersion string) (catalog.Image, error)
}

// Network is what compute needs of the network family (network.Service),
// inside compute's transactions.
type Network interface {
	AttachVMTx(ctx context.Context, tx network.Queries, in network.AttachVM) (network.VMAddress, error)
	DetachVMTx(ctx context.Context, tx network.Queries, vmUUID string) error
	ReservePublicIPForVMTx(ctx context.Context, tx network.Queries, in network.ReserveForVM) (network.FloatingIP, error)
	UnassignVMPublicIPsTx(ctx context.Context, tx network.Queries, vmUUID string) error
	VMPublicIPv4(ctx context.Context, q network.Queries, vmUUID string) (string, error)
	VMPublicIPv4s(ctx context.Context, q network.Queries, vmUUIDs []string) (map[string]string, error)
}

// Billing is what compute needs of billing (billing.Service).
type Billing interface {
	AdmitTx(ctx context.Context, tx billing.Queries, a actor.Actor, id int64, required bool) (billing.Account, error)
	ResolveAccountTx(ctx context.Context, tx billing.Queries, a actor.Actor, id int64) (billing.Account, error)
}

var (
	_ Catalog = (*catalog.Service)(nil)
	_ Network = (*network.Service)(nil)
	_ Billing = (*billing.Service)(nil)
)

// Deps are the service's collaborators.
type Deps struct {
	Store    Store
	Clock    clock.Clock
	Provider Provider
	Catalog  Catalog
	Network  Network
	Billing  Billing
	Logger   *slog.Logger
}

// Service provisions VMs, disks and replicas.
type Service struct {
	store    Store
	clock    clock.Clock
	provider Provider
	catalog  Catalog
	network  Network
	billing  Billing
	log      *slog.Logger
}

// NewService returns the compute service.
func NewService(d Deps) *Service {
	if d.Clock == nil {
		d.Clock = clock.Real{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: d.Store, clock: d.Clock, provider: d.Provider, catalog: d.Catalog, network: d.Network,
		billing: d.Billing, log: d.Logger}
}

func (s *Service) now() time.Time { return clock.Micro(s.clock.Now()) }

// SafetyNet is when the job of a step that the service runs inline is
// due: if the inline attempt fails (or the process dies), the job retries
// it then.
const SafetyNet = 30 * time.Second

// inline reports whether steps run right after the request's commit.
func (s *Service) inline() bool { return s.provider.Delay() <= 0 }

func (s *Service) enqueue(ctx context.Context, tx Queries, args StepArgs) error {
	at := s.clock.Now().Add(s.provider.Delay())
	if s.inline() {
		at = s.clock.Now().Add(SafetyNet)
	}
	return tx.EnqueueJob(ctx, args, jobs.InsertOpts{RunAt: at})
}

// vmNotFound is the seed's error for a VM the caller cannot see.
func vmNotFound(uuid string) error {
	return errs.New(errs.KindNotFound, "No such virtual machine exists. "+uuid)
}

func diskNotFound(uuid string) error {
	return errs.New(errs.KindNotFound, "No such disk exists. "+uuid)
}

func replicaNotFound(uuid string) error {
	return errs.New(errs.KindNotFound, "No such replica exists. "+uuid)
}

// visible reports whether the actor may see a resource of (orgPath,
// account, location); location "" matches any.
func visible(a actor.Actor, orgPath string, account int64, resLocation, location string) bool {
	if !a.Sees(orgPath) {
		return false
	}
	if a.BillingAccount != 0 && account != a.BillingAccount {
		return false
	}
	return location == "" || resLocation == location
}

// ---- reading ----

// GetVM returns a VM of the caller in the location with its storage.
func (s *Service) GetVM(ctx context.Context, a actor.Actor, location, uuid string) (VM, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return VM{}, err
	}
	v, err := s.ownedVM(ctx, s.store, a, location, uuid)
	if err != nil {
		return VM{}, err
	}
	return s.fill(ctx, v)
}

// ownedVM reads a live VM the actor may see (ID-amb-35: a malformed uuid
// is the same not-found).
func (s *Service) ownedVM(ctx context.Context, q Queries, a actor.Actor, location, uuid string) (VM, error) {
	u, ok := ids.Normalize(uuid)
	if !ok {
		return VM{}, vmNotFound(uuid)
	}
	v, err := q.GetVM(ctx, a.Scope(), u)
	if errs.Is(err, errs.KindNotFound) || (err == nil && !visible(a, v.OrgPath, v.BillingAccountID, v.Location, location)) {
		return VM{}, vmNotFound(uuid)
	}
	return v, err
}

// lockOwnedVM locks a live VM the actor may see.
func (s *Service) lockOwnedVM(ctx context.Context, tx Queries, a actor.Actor, location, uuid string) (VM, error) {
	u, ok := ids.Normalize(uuid)
	if !ok {
		return VM{}, vmNotFound(uuid)
	}
	v, err := tx.LockVM(ctx, u)
	if errs.Is(err, errs.KindNotFound) || (err == nil && (v.DeletedAt != nil || !visible(a, v.OrgPath, v.BillingAccountID, v.Location, location))) {
		return VM{}, vmNotFound(uuid)
	}
	return v, err
}

// ListVMs returns the caller's VMs in a location, by id.
func (s *Service) ListVMs(ctx context.Context, a actor.Actor, location string) ([]VM, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return nil, err
	}
	vms, err := s.store.ListVMs(ctx, VMFilter{Scope: a.Scope(), Location: location, BillingAccountID: a.BillingAccount})
	if err != nil {
		return nil, err
	}
	return s.fillAll(ctx, s.store, vms)
}

// MaxPage bounds a page of ListVMsPage.
const MaxPage = 1000

// ListVMsPage returns one page of the VMs in the caller's scope (an
// operator sees every tenant below it), by id: those with an id above
// after, at most limit (1 to MaxPage); location "" = every location.
func (s *Service) ListVMsPage(ctx context.Context, a actor.Actor, location string, after int64, limit int) ([]VM, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return nil, err
	}
	if limit < 1 || limit > MaxPage {
		return nil, errs.Invalidf("limit", "must be between 1 and %d", MaxPage)
	}
	if after < 0 {
		return nil, errs.Invalid("cursor", "must not be negative")
	}
	vms, err := s.store.ListVMs(ctx, VMFilter{Scope: a.Scope(), Location: location, BillingAccountID: a.BillingAccount,
		After: after, Limit: limit})
	if err != nil {
		return nil, err
	}
	return s.fillAll(ctx, s.store, vms)
}

// BillingResources returns the VMs of a billing account in a location
// (ID-74: resources actively associated with the account: every live VM).
func (s *Service) BillingResources(ctx context.Context, a actor.Actor, location string, accountID int64) ([]VM, error) {
	acct, err := s.billing.ResolveAccountTx(ctx, s.store, a, accountID)
	if err != nil {
		return nil, err
	}
	vms, err := s.store.ListVMs(ctx, VMFilter{Scope: a.Scope(), Location: location, BillingAccountID: acct.ID})
	if err != nil {
		return nil, err
	}
	return s.fillAll(ctx, s.store, vms)
}

// ActiveResources counts the live VMs, disks and replicas billed to an
// account (billing account deletion refuses while there are any).
func (s *Service) ActiveResources(ctx context.Context, billingAccountID int64) (int, error) {
	return s.store.CountComputeResources(ctx, billingAccountID)
}

// ResourceCounter counts an account's live compute resources through
// billing's transaction (billing.ResourceCounter, the guard of an account's
// deletion). It reads only that transaction, so billing is built with it
// before this service, which needs billing.
type ResourceCounter struct{}

// ActiveResourcesTx is ActiveResources read through billing's transaction
// tx (billing.ResourceCounter: the guard of an account's deletion).
func (ResourceCounter) ActiveResourcesTx(ctx context.Context, tx billing.Store, billingAccountID int64) (int, error) {
	q, ok := tx.(Queries)
	if !ok {
		return 0, errs.Newf(errs.KindInternal, "compute: the billing transaction (%T) has no compute queries", tx)
	}
	return q.CountComputeResources(ctx, billingAccountID)
}

func (s *Service) fill(ctx context.Context, v VM) (VM, error) {
	out, err := s.fillAll(ctx, s.store, []VM{v})
	if err != nil {
		return VM{}, err
	}
	return out[0], nil
}

// fillAll adds storage (with replicas) and the public IPv4 to VMs, with
// one disk query and one replica query for the whole list.
func (s *Service) fillAll(ctx context.Context, q Queries, vms []VM) ([]VM, error) {
	if len(vms) == 0 {
		return []VM{}, nil
	}
	uuids := make([]string, len(vms))
	for i, v := range vms {
		uuids[i] = v.UUID
	}
	disks, err := q.ListDisks(ctx, DiskFilter{Scope: "/", VMUUIDs: uuids})
	if err != nil {
		return nil, err
	}
	if disks, err = s.withReplicas(ctx, q, disks); err != nil {
		return nil, err
	}
	byVM := map[string][]Disk{}
	for _, d := range disks {
		byVM[d.VMUUID] = append(byVM[d.VMUUID], d)
	}
	public, err := s.network.VMPublicIPv4s(ctx, q, uuids)
	if err != nil {
		return nil, err
	}
	for i := range vms {
		ds := byVM[vms[i].UUID]
		sortStorage(ds)
		vms[i].Storage = ds
		vms[i].PublicIPv4 = public[vms[i].UUID]
	}
	return vms, nil
}

// sortStorage puts the primary disk first, then by device name.
func sortStorage(ds []Disk) {
	for i := 1; i < len(ds); i++ {
		for j := i; j > 0 && storageLess(ds[j], ds[j-1]); j-- {
			ds[j], ds[j-1] = ds[j-1], ds[j]
		}
	}
}

func storageLess(a, b Disk) bool {
	if a.Primary != b.Primary {
		return a.Primary
	}
	return a.Name < b.Name
}

// withReplicas adds the active replicas (all types) to disks.
func (s *Service) withReplicas(ctx context.Context, q Queries, disks []Disk) ([]Disk, error) {
	if len(disks) == 0 {
		return disks, nil
	}
	uuids := make([]string, len(disks))
	for i, d := range disks {
		uuids[i] = d.UUID
	}
	reps, err := q.ListReplicas(ctx, uuids, "")
	if err != nil {
		return nil, err
	}
	by := map[string][]Replica{}
	for _, r := range reps {
		if r.Status == ReplicaActive {
			by[r.DiskUUID] = append(by[r.DiskUUID], r)
		}
	}
	for i := range disks {
		disks[i].Replicas = by[disks[i].UUID]
	}
	return disks, nil
}

// vmByUUID reads a VM (any org) with its storage, after a step.
func (s *Service) vmByUUID(ctx context.Context, uuid string) (VM, error) {
	v, err := s.store.GetVM(ctx, "/", uuid)
	if err != nil {
		return VM{}, err
	}
	return s.fill(ctx, v)
}

// ---- metering ----

// vmSegments is what a VM is billed as in its state: the VM meter while
// running or stopped (with its primary disk's size), nothing otherwise.
func vmSegments(v VM, primaryGB int64) []metering.Segment {
	if !v.Billed() {
		return nil
	}
	var osName *string
	if v.OSName != "" {
		o := v.OSName
		osName = &o
	}
	size := primaryGB
	return []metering.Segment{{Meter: pricing.MeterVM, BillingAccountID: v.BillingAccountID, LocationSlug: v.Location,
		OwnerUUID: v.UUID, UserID: v.UserID, Config: pricing.Config{VMName: v.Name, CPUs: v.VCPU, RAMMB: v.RAMMB,
			DiskGB: &size, OSName: osName, Status: v.Status}}}
}

// setVMUsage re-states a VM's billing from now on (its primary disk is
// read in the transaction).
func (s *Service) setVMUsage(ctx context.Context, tx Queries, v VM, at time.Time) error {
	var size int64
	if v.Billed() {
		disks, err := tx.ListDisks(ctx, DiskFilter{Scope: "/", VMUUIDs: []string{v.UUID}})
		if err != nil {
			return err
		}
		for _, d := range disks {
			if d.Primary {
				size = d.SizeGB
			}
		}
	}
	return metering.SetUsageTx(ctx, tx, at, v.UUID, vmSegments(v, size)...)
}

// diskBillingName is the name of a disk on usage lines.
func diskBillingName(d Disk, vmName string) string {
	if d.VMUUID != "" && vmName != "" {
		return vmName + " " + d.Name
	}
	return "disk " + d.UUID
}

// setDiskUsage re-states a disk's billing: an additional disk (not a VM's
// primary, which the VM meter bills) that became active and is not
// deleted.
func (s *Service) setDiskUsage(ctx context.Context, tx Queries, d Disk, vmName string, at time.Time) error {
	var segs []metering.Segment
	if d.WasActive && d.DeletedAt == nil && !d.Primary {
		segs = append(segs, metering.Segment{Meter: pricing.MeterDisk, BillingAccountID: d.BillingAccountID,
			LocationSlug: d.Location, OwnerUUID: d.UUID, UserID: d.UserID,
			Config: pricing.Config{Name: diskBillingName(d, vmName), SizeGB: d.SizeGB}})
	}
	return metering.SetUsageTx(ctx, tx, at, d.UUID, segs...)
}

func (s *Service) setReplicaUsage(ctx context.Context, tx Queries, r Replica, at time.Time) error {
	var segs []metering.Segment
	if r.Status == ReplicaActive {
		m := pricing.MeterSnapshot
		if r.Type == ReplicaBackup {
			m = pricing.MeterBackup
		}
		segs = append(segs, metering.Segment{Meter: m, BillingAccountID: r.BillingAccountID, LocationSlug: r.Location,
			OwnerUUID: r.UUID, UserID: r.UserID, Config: pricing.Config{Name: r.BillingName, SizeGB: r.SizeGB}})
	}
	return metering.SetUsageTx(ctx, tx, at, r.UUID, segs...)
}

// ---- helpers ----

func (s *Service) audit(ctx context.Context, tx Queries, a actor.Actor, at time.Time, action, typ, id, path, detail string) error {
	return tx.AppendAudit(ctx, audit.New(a, at, action, typ, id, path, detail))
}

// pending is the error of an operation on a resource whose step is not
// done.
func pending(op string) error {
	return errs.Newf(errs.KindConflict, "an operation (%s) is in progress; try again when it has finished", op)
}

// beginVMStep marks a step pending on v (the caller writes v).
func beginVMStep(v *VM, op string, args stepArgs, at time.Time) {
	v.Op, v.OpArgs, v.OpError = op, args.encode(), ""
	v.OpSeq++
	v.UpdatedAt = &at
}

func beginDiskStep(d *Disk, op string, args stepArgs, at time.Time) {
	d.Op, d.OpArgs, d.OpError = op, args.encode(), ""
	d.OpSeq++
	d.UpdatedAt = &at
}

func stepFailed(err error) string {
	msg := err.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	return msg
}

func detailf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
