package orders

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/jobs"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/password"
	"github.com/trellis-cloud/trellis/internal/reseller"
)

// Config tunes the service; zero values take the defaults.
type Config struct {
	// SafetyNet is how far ahead a step job is scheduled when the request
	// runs the step itself (provider delay 0): if that attempt fails, or
	// the process dies before it, the job does it (default 30s).
	SafetyNet time.Duration
	// Logger receives the failures of steps a request runs itself (the
	// job retries them); nil discards.
	Logger *slog.Logger
}

// Day is the charging period of an order.
const Day = 24 * time.Hour

// Service manages catalogs and orders.
type Service struct {
	ProjectHooks // what the reseller core asks of orders in its transactions
	store        Store
	res          Reseller
	provider     Provider
	clock        clock.Clock
	cfg          Config
}

// NewService returns an orders service.
func NewService(st Store, res Reseller, prov Provider, c clock.Clock, cfg Config) *Service {
	if cfg.SafetyNet <= 0 {
		cfg.SafetyNet = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: st, res: res, provider: prov, clock: c, cfg: cfg}
}

func (s *Service) now() time.Time { return clock.Micro(s.clock.Now()) }

// ---- catalogs ----

// GetCatalog returns the catalog document of kind, storing the embedded
// default the first time it is asked for.
func (s *Service) GetCatalog(ctx context.Context, kind string) (json.RawMessage, error) {
	def, err := DefaultCatalog(kind) // also validates kind
	if err != nil {
		return nil, err
	}
	body, _, err := s.store.GetResellerCatalog(ctx, kind)
	if errs.Is(err, errs.KindNotFound) {
		if _, err := s.store.InsertResellerCatalogIfAbsent(ctx, kind, def, s.now()); err != nil {
			return nil, err
		}
		body, _, err = s.store.GetResellerCatalog(ctx, kind)
	}
	return body, err
}

// PutCatalog replaces the catalog document of kind (operators: provider or
// distributor admins). The body must decode strictly into the kind's typed
// document with valid prices.
func (s *Service) PutCatalog(ctx context.Context, a actor.Actor, kind string, body json.RawMessage) (json.RawMessage, error) {
	if err := a.Require(actor.Admin); err != nil {
		return nil, err
	}
	// Catalogs are the provider's: one set for every distributor's
	// partners, so no distributor may change what the others sell at.
	if err := a.RequireKind(actor.Provider); err != nil {
		return nil, err
	}
	if _, err := decodeCatalog(kind, body); err != nil {
		return nil, err
	}
	c, err := compact(body)
	if err != nil {
		return nil, err
	}
	err = s.store.Tx(ctx, func(tx Store) error {
		now := s.now()
		if err := tx.PutResellerCatalog(ctx, kind, c, now); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "reseller.catalog.put", "reseller_catalog", kind, "/", ""))
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// typedCatalog reads a catalog into its typed document.
func typedCatalog[T any](ctx context.Context, s *Service, kind string) (T, error) {
	var zero T
	body, err := s.GetCatalog(ctx, kind)
	if err != nil {
		return zero, err
	}
	v, err := decodeCatalog(kind, body)
	if err != nil {
		return zero, errs.Wrap(errs.KindInternal, err, "stored catalog "+kind+" is invalid")
	}
	return *(v.(*T)), nil
}

// OneCConfigurations returns the 1C configurations on offer (IT-23).
func (s *Service) OneCConfigurations(ctx context.Context) ([]OneCConfiguration, error) {
	return typedCatalog[[]OneCConfiguration](ctx, s, Catalog1CConfigurations)
}

// OneCTariffs returns the 1C rate scale (IT-24).
func (s *Service) OneCTariffs(ctx context.Context) (OneCTariffs, error) {
	return typedCatalog[OneCTariffs](ctx, s, Catalog1CTariffs)
}

// Tariffs returns a plain rate scale: CatalogManagedTariffs,
// CatalogObjectStorage or CatalogCDNTariffs (IT-39, IT-40, IT-46).
func (s *Service) Tariffs(ctx context.Context, kind string) (Tariffs, error) {
	switch kind {
	case CatalogManagedTariffs, CatalogObjectStorage, CatalogCDNTariffs:
		return typedCatalog[Tariffs](ctx, s, kind)
	}
	return Tariffs{}, errs.Invalidf("kind", "%q is not a plain rate scale", kind)
}

// KubernetesTariffs returns the Kubernetes rate scale (IT-43).
func (s *Service) KubernetesTariffs(ctx context.Context) (KubernetesTariffs, error) {
	return typedCatalog[KubernetesTariffs](ctx, s, CatalogKubernetesTariffs)
}

// VStackPrices returns the vStack locations with configurations and
// prices (IT-37).
func (s *Service) VStackPrices(ctx context.Context) (VStackCatalog, error) {
	return typedCatalog[VStackCatalog](ctx, s, CatalogVStack)
}

// IaaSLocations returns the VMware locations (IT-26).
func (s *Service) IaaSLocations(ctx context.Context) ([]IaaSLocation, error) {
	c, err := typedCatalog[IaaSCatalog](ctx, s, CatalogIaaS)
	return c.Locations, err
}

// IaaSLocation returns one VMware location by technical name (IT-27).
func (s *Service) IaaSLocation(ctx context.Context, id string) (IaaSLocation, error) {
	list, err := s.IaaSLocations(ctx)
	if err != nil {
		return IaaSLocation{}, err
	}
	for _, l := range list {
		if l.Id == id {
			return l, nil
		}
	}
	return IaaSLocation{}, &errs.Error{Kind: errs.KindNotFound, Field: "location_id", Msg: "IaaS location not found"}
}

// SSLProducts returns the SSL products on sale (IT-41).
func (s *Service) SSLProducts(ctx context.Context) ([]SSLProduct, error) {
	c, err := typedCatalog[SSLCatalog](ctx, s, CatalogSSL)
	return c.Products, err
}

// SSLProduct returns one SSL product (IT-42).
func (s *Service) SSLProduct(ctx context.Context, id int64) (SSLProduct, error) {
	list, err := s.SSLProducts(ctx)
	if err != nil {
		return SSLProduct{}, err
	}
	for _, p := range list {
		if p.Id == id {
			return p, nil
		}
	}
	return SSLProduct{}, &errs.Error{Kind: errs.KindNotFound, Field: "product_id", Msg: "SSL product not found"}
}

// CloudDirector returns the VOrg locations and VDC prices.
func (s *Service) CloudDirector(ctx context.Context) (CloudDirectorCatalog, error) {
	return typedCatalog[CloudDirectorCatalog](ctx, s, CatalogCloudDirector)
}

// ---- creating orders ----

// CreateVMwareServer orders a VMware server (IT-28). Accounts need not be
// activated ("for active and inactive user").
func (s *Service) CreateVMwareServer(ctx context.Context, a actor.Actor, in VMwareServerInput) (Order, error) {
	return createFrom(ctx, s, a, CatalogIaaS, in.ProjectID, in.draft)
}

// createFrom orders, in project, what build makes of the catalog of kind.
func createFrom[C any](ctx context.Context, s *Service, a actor.Actor, kind string, project int64,
	build func(C) (draft, error)) (Order, error) {
	if err := a.Require(actor.Staff); err != nil {
		return Order{}, err
	}
	cat, err := typedCatalog[C](ctx, s, kind)
	if err != nil {
		return Order{}, err
	}
	d, err := build(cat)
	if err != nil {
		return Order{}, err
	}
	return s.create(ctx, a, project, d, nil)
}

// CreateVStackServer orders a vStack server (IT-38).
func (s *Service) CreateVStackServer(ctx context.Context, a actor.Actor, in VStackServerInput) (Order, error) {
	return createFrom(ctx, s, a, CatalogVStack, in.ProjectID, in.draft)
}

// CreateKubernetesCluster orders a Kubernetes cluster (IT-44).
func (s *Service) CreateKubernetesCluster(ctx context.Context, a actor.Actor, in KubernetesInput) (Order, error) {
	return createFrom(ctx, s, a, CatalogKubernetesTariffs, in.ProjectID, in.draft)
}

// Create1C orders 1C configurations (IT-25).
func (s *Service) Create1C(ctx context.Context, a actor.Actor, in OneCInput) (Order, error) {
	if err := a.Require(actor.Staff); err != nil {
		return Order{}, err
	}
	configs, err := s.OneCConfigurations(ctx)
	if err != nil {
		return Order{}, err
	}
	t, err := s.OneCTariffs(ctx)
	if err != nil {
		return Order{}, err
	}
	d, err := in.draft(configs, t)
	if err != nil {
		return Order{}, err
	}
	return s.create(ctx, a, in.ProjectID, d, nil)
}

// CreateVOrg orders a vCloud organization (IT-48). The admin password is
// kept only as an argon2id hash and never shown.
func (s *Service) CreateVOrg(ctx context.Context, a actor.Actor, in VOrgInput) (Order, error) {
	if err := a.Require(actor.Staff); err != nil {
		return Order{}, err
	}
	if err := in.check(); err != nil {
		return Order{}, err
	}
	return createFrom(ctx, s, a, CatalogCloudDirector, in.ProjectID, in.draft)
}

// CreateVDC orders a VDC in one of the partner's VOrgs (IT-50); it is
// charged to the VOrg's project.
func (s *Service) CreateVDC(ctx context.Context, a actor.Actor, in VDCInput) (Order, error) {
	if err := a.Require(actor.Staff); err != nil {
		return Order{}, err
	}
	if err := in.check(); err != nil {
		return Order{}, err
	}
	cat, err := s.CloudDirector(ctx)
	if err != nil {
		return Order{}, err
	}
	vorg, err := s.liveVOrg(ctx, s.store, a, in.OrgID)
	if err != nil {
		return Order{}, err
	}
	d, err := in.draft(cat, vorg)
	if err != nil {
		return Order{}, err
	}
	return s.create(ctx, a, vorg.ProjectID, d, func(tx Queries) error {
		_, err := s.liveVOrg(ctx, tx, a, in.OrgID) // not deleted meanwhile
		return err
	})
}

// liveVOrg returns a VOrg of the caller's partner that is not deleted.
func (s *Service) liveVOrg(ctx context.Context, q Queries, a actor.Actor, id int64) (Order, error) {
	o, err := q.GetResellerOrder(ctx, a.Scope(), id)
	if errs.Is(err, errs.KindNotFound) || (err == nil && (o.Kind != KindVOrg || o.State == StateDeleted)) {
		return Order{}, &errs.Error{Kind: errs.KindNotFound, Field: "OrgId", Msg: fmt.Sprintf("VOrg %d does not exist", id)}
	}
	return o, err
}

// create admits and stores an order, charges its first day and schedules
// its provider step, all in one transaction; check runs inside it first.
func (s *Service) create(ctx context.Context, a actor.Actor, projectID int64, d draft, check func(Queries) error) (Order, error) {
	if projectID <= 0 {
		return Order{}, errs.Invalid("id", "must be a positive project id")
	}
	spec, err := json.Marshal(d.spec)
	if err != nil {
		return Order{}, errs.Wrap(errs.KindInternal, err, "orders: spec")
	}
	var hash string
	if d.secret != "" {
		if hash, err = password.Hash(d.secret); err != nil {
			return Order{}, err
		}
	}
	var id int64
	err = s.store.Tx(ctx, func(tx Store) error {
		if check != nil {
			if err := check(tx); err != nil {
				return err
			}
		}
		proj, err := s.res.AdmitTx(ctx, tx, a, projectID)
		if err != nil {
			return err
		}
		cur, err := money.ParseCurrency("currency", proj.Currency)
		if err != nil {
			return errs.Wrap(errs.KindInternal, err, "project currency")
		}
		if id, err = tx.NextNumber(ctx, "reseller_order"); err != nil {
			return err
		}
		now := s.now()
		o := Order{ID: id, PartnerID: proj.PartnerID, PartnerPath: proj.PartnerPath, ProjectID: proj.ID, Kind: d.kind,
			Name: d.name, Location: d.location, Spec: spec, ParentID: d.parentID, State: StateCreating,
			Currency: proj.Currency, MonthlyPrice: d.monthly.String(), DailyPrice: DailyPrice(d.monthly, cur.Exponent()),
			NextChargeAt: now.Add(Day), SecretHash: hash, CreatedAt: now, UpdatedAt: now}
		if err := tx.InsertResellerOrder(ctx, o); err != nil {
			return err
		}
		// The first day is paid now; it may take the balance below zero,
		// which blocks the project (and, through the hook, this order).
		if err := s.chargeTx(ctx, tx, o, now); err != nil {
			return err
		}
		if err := s.enqueueTx(ctx, tx, id, OpCreate); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "reseller.order.create", "reseller_order",
			strconv.FormatInt(id, 10), o.PartnerPath, fmt.Sprintf("kind=%s project=%d location=%s monthly=%s daily=%d",
				o.Kind, o.ProjectID, o.Location, o.MonthlyPrice, o.DailyPrice)))
	})
	if err != nil {
		return Order{}, err
	}
	if s.inline() {
		// A failure leaves the order in Error for the job to retry.
		s.logStep(ctx, s.stepCreate(ctx, id), id, OpCreate)
	}
	return s.store.GetResellerOrder(ctx, "/", id)
}

// ChargeKey is the ledger idempotency key of an order's day starting at
// start.
func ChargeKey(orderID int64, start time.Time) string {
	return "reseller:charge:" + strconv.FormatInt(orderID, 10) + ":" + start.UTC().Format(time.RFC3339)
}

// chargeTx charges the order's day starting at start (free orders are
// not charged); it reports nothing else: the key makes it idempotent.
func (s *Service) chargeTx(ctx context.Context, tx Queries, o Order, start time.Time) error {
	_, err := s.chargeDayTx(ctx, tx, o, start)
	return err
}

func (s *Service) chargeDayTx(ctx context.Context, tx Queries, o Order, start time.Time) (bool, error) {
	if o.DailyPrice <= 0 {
		return false, nil
	}
	_, isNew, err := s.res.ChargeTx(ctx, tx, ChargeInput{ProjectID: o.ProjectID, Amount: o.DailyPrice,
		Key: ChargeKey(o.ID, start), Reference: strconv.FormatInt(o.ID, 10),
		Description: fmt.Sprintf("%s %q, day from %s", o.Kind, o.Name, start.UTC().Format(time.RFC3339))})
	return isNew, err
}

// ---- reads ----

func notFound(field string) error {
	return &errs.Error{Kind: errs.KindNotFound, Field: field, Msg: "order not found"}
}

// GetOrder returns an order of the caller's partner (Deleted too).
func (s *Service) GetOrder(ctx context.Context, a actor.Actor, id int64) (Order, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return Order{}, err
	}
	o, err := s.store.GetResellerOrder(ctx, a.Scope(), id)
	if errs.Is(err, errs.KindNotFound) {
		return Order{}, notFound("id")
	}
	return o, err
}

// ListOrders returns the caller's live orders, of one project unless 0,
// by id.
func (s *Service) ListOrders(ctx context.Context, a actor.Actor, projectID int64) ([]Order, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return nil, err
	}
	if projectID != 0 {
		// An unknown or foreign project is a 404, not an empty list.
		if _, err := s.store.GetResellerProject(ctx, a.Scope(), projectID); err != nil {
			if errs.Is(err, errs.KindNotFound) {
				return nil, notFound("id")
			}
			return nil, err
		}
	}
	return s.store.ListResellerOrders(ctx, OrderFilter{Scope: a.Scope(), ProjectID: projectID})
}

func (s *Service) getKind(ctx context.Context, a actor.Actor, id int64, kind string) (Order, error) {
	o, err := s.GetOrder(ctx, a, id)
	if err == nil && o.Kind != kind {
		return Order{}, notFound("id")
	}
	return o, err
}

// GetVOrg returns a VOrg (IT-47).
func (s *Service) GetVOrg(ctx context.Context, a actor.Actor, id int64) (Order, error) {
	return s.getKind(ctx, a, id, KindVOrg)
}

// GetVDC returns a VDC (IT-49).
func (s *Service) GetVDC(ctx context.Context, a actor.Actor, id int64) (Order, error) {
	return s.getKind(ctx, a, id, KindVDC)
}

// ActiveServices counts a project's orders that are not Deleted (the
// reseller core's Services hook: they block account deletion).
func (s *Service) ActiveServices(ctx context.Context, projectID int64) (int, error) {
	return s.store.CountLiveResellerOrders(ctx, projectID)
}

// ActiveServicesTx is ActiveServices read through the reseller core's
// transaction tx (its Services hook: the guard of a deletion).
func (ProjectHooks) ActiveServicesTx(ctx context.Context, tx reseller.Queries, projectID int64) (int, error) {
	q, ok := tx.(Queries)
	if !ok {
		return 0, errs.Newf(errs.KindInternal, "orders: the reseller transaction (%T) has no order queries", tx)
	}
	return q.CountLiveResellerOrders(ctx, projectID)
}

// ---- delete ----

// DeleteOrder deletes an order: Deleted at once (charging stops), the
// provider step removes the service. A VOrg with live VDCs cannot be
// deleted (KindConflict). Deleting a Deleted order returns it unchanged.
func (s *Service) DeleteOrder(ctx context.Context, a actor.Actor, id int64) (Order, error) {
	if err := a.Require(actor.Staff); err != nil {
		return Order{}, err
	}
	run := false
	err := s.store.Tx(ctx, func(tx Store) error {
		if _, err := tx.GetResellerOrder(ctx, a.Scope(), id); err != nil {
			if errs.Is(err, errs.KindNotFound) {
				return notFound("id")
			}
			return err
		}
		o, err := tx.LockResellerOrder(ctx, id)
		if err != nil || o.State == StateDeleted {
			return err
		}
		if o.Kind == KindVOrg {
			vdcs, err := tx.ListResellerOrders(ctx, OrderFilter{Scope: "/", ProjectID: o.ProjectID, Kind: KindVDC})
			if err != nil {
				return err
			}
			for _, v := range vdcs {
				if v.ParentID == o.ID {
					return errs.Newf(errs.KindConflict, "VOrg %d still has VDC %d", o.ID, v.ID)
				}
			}
		}
		now := s.now()
		o.State, o.DeletedAt, o.UpdatedAt = StateDeleted, &now, now
		if err := tx.UpdateResellerOrder(ctx, o); err != nil {
			return err
		}
		if err := s.enqueueTx(ctx, tx, id, OpDelete); err != nil {
			return err
		}
		run = true
		return tx.AppendAudit(ctx, audit.New(a, now, "reseller.order.delete", "reseller_order",
			strconv.FormatInt(id, 10), o.PartnerPath, ""))
	})
	if err != nil {
		return Order{}, err
	}
	if run && s.inline() {
		s.logStep(ctx, s.stepDelete(ctx, id), id, OpDelete)
	}
	return s.store.GetResellerOrder(ctx, "/", id)
}

// ---- steps ----

// Step operations of OrderStep.
const (
	OpCreate = "create"
	OpDelete = "delete"
)

// OrderStep is the job that runs one provider step of an order.
type OrderStep struct {
	OrderID int64  `json:"order_id"`
	Op      string `json:"op"`
}

// Kind implements jobs.Args.
func (OrderStep) Kind() string { return "orders.order_step" }

func (s *Service) enqueueTx(ctx context.Context, tx Queries, id int64, op string) error {
	d := s.provider.Delay()
	if d <= 0 {
		d = s.cfg.SafetyNet
	}
	return tx.EnqueueJob(ctx, OrderStep{OrderID: id, Op: op}, jobs.InsertOpts{RunAt: s.clock.Now().Add(d)})
}

func (s *Service) inline() bool { return s.provider.Delay() <= 0 }

// logStep logs the failure of a step a request ran itself: the job retries
// it, but the cause would otherwise be lost.
func (s *Service) logStep(ctx context.Context, err error, id int64, op string) {
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "order step failed; the job retries it", "order", id, "step", op, "err", err)
	}
}

// RunOrderStep is the worker of OrderStep (the lead registers it with
// jobs.AddWorker). Steps are idempotent; a provider failure is returned so
// River retries.
func (s *Service) RunOrderStep(ctx context.Context, args OrderStep) error {
	switch args.Op {
	case OpCreate:
		return s.stepCreate(ctx, args.OrderID)
	case OpDelete:
		return s.stepDelete(ctx, args.OrderID)
	}
	return fmt.Errorf("orders: unknown step %q", args.Op)
}

func provisioning(state string) bool { return state == StateCreating || state == StateError }

func (s *Service) stepCreate(ctx context.Context, id int64) error {
	o, err := s.store.GetResellerOrder(ctx, "/", id)
	if errs.Is(err, errs.KindNotFound) {
		return nil
	}
	if err != nil || !provisioning(o.State) {
		return err
	}
	ref, perr := s.provider.Create(ctx, Spec{OrderID: o.ID, Kind: o.Kind, Name: o.Name, Location: o.Location, Spec: o.Spec})
	orphan := false
	err = s.store.Tx(ctx, func(tx Store) error {
		o, err := tx.LockResellerOrder(ctx, id)
		if err != nil {
			return err
		}
		if !provisioning(o.State) {
			orphan = perr == nil && o.State == StateDeleted // deleted while the provider worked
			return nil
		}
		now := s.now()
		action := "reseller.order.active"
		switch {
		case perr != nil:
			if o.State == StateError {
				return nil // still failing: nothing changes
			}
			o.State, o.LastError, action = StateError, perr.Error(), "reseller.order.error"
		case o.ProjectBlocked:
			o.State, o.ProviderRef, o.LastError, action = StateBlocked, ref, "", "reseller.order.blocked"
		default:
			o.State, o.ProviderRef, o.LastError = StateActive, ref, ""
		}
		o.UpdatedAt = now
		if err := tx.UpdateResellerOrder(ctx, o); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(actor.System(""), now, action, "reseller_order",
			strconv.FormatInt(id, 10), o.PartnerPath, "state="+o.State))
	})
	if err != nil {
		return err
	}
	if orphan {
		return s.provider.Delete(ctx, id)
	}
	return perr
}

func (s *Service) stepDelete(ctx context.Context, id int64) error {
	o, err := s.store.GetResellerOrder(ctx, "/", id)
	if errs.Is(err, errs.KindNotFound) {
		return nil
	}
	if err != nil || o.State != StateDeleted {
		return err
	}
	return s.provider.Delete(ctx, id)
}
