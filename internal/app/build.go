package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/bss"
	"github.com/trellis-cloud/trellis/internal/buckets"
	"github.com/trellis-cloud/trellis/internal/catalog"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/compute"
	computesim "github.com/trellis-cloud/trellis/internal/compute/sim"
	"github.com/trellis-cloud/trellis/internal/httpapi"
	"github.com/trellis-cloud/trellis/internal/httpapi/authn"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/idcloudhost"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/impossiblecloud"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/infiterra"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/itglobal"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/native"
	"github.com/trellis-cloud/trellis/internal/httpapi/ratelimit"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/jobs"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/network"
	netsim "github.com/trellis-cloud/trellis/internal/network/sim"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/orders"
	orderssim "github.com/trellis-cloud/trellis/internal/orders/sim"
	"github.com/trellis-cloud/trellis/internal/payment"
	"github.com/trellis-cloud/trellis/internal/payment/testprocessor"
	"github.com/trellis-cloud/trellis/internal/pricing"
	"github.com/trellis-cloud/trellis/internal/reseller"
	"github.com/trellis-cloud/trellis/internal/sealed"
	"github.com/trellis-cloud/trellis/internal/services"
	servicesim "github.com/trellis-cloud/trellis/internal/services/sim"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/migrations"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/support"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// New builds an instance on an open database, applying migrations. It
// runs the assembly steps in order; each builds its services with every
// dependency as a constructor argument (see docs/ARCHITECTURE.md, "Wiring"),
// so a missing one fails here, naming it.
func New(ctx context.Context, d *db.DB, cfg Config) (*App, error) {
	d, cfg = instrument(d, cfg)
	cfg, err := withDefaults(cfg)
	if err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, DB: d, closeDB: func() {}, Registry: prometheus.NewRegistry(), node: ids.New(), s3: &s3Plane{}}
	for _, step := range []struct {
		name string
		run  func(context.Context) error
	}{
		{"core", a.buildCore},
		{"money", a.buildMoney},
		{"resources", a.buildResources},
		{"object storage", a.buildObjectStorage},
		{"reseller and BSS", a.buildChannels},
		{"HTTP", a.buildHTTP},
		{"jobs", a.buildJobs},
	} {
		if err := step.run(ctx); err != nil {
			return nil, fmt.Errorf("app: %s: %w", step.name, err)
		}
	}
	return a, nil
}

// withDefaults fills the configuration's defaults.
func withDefaults(cfg Config) (Config, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
		if cfg.Sandbox {
			cfg.Clock = clock.NewSandbox(clock.Real{})
		}
	}
	if _, ok := cfg.Clock.(jobs.Movable); cfg.Sandbox && !ok {
		return cfg, errors.New("app: a sandbox needs a clock that can be moved")
	}
	if cfg.JobEvery <= 0 {
		cfg.JobEvery = time.Minute
	}
	// Files in the data dir (secret key, demo credentials) are found by an
	// absolute path, whatever the working directory is later.
	if cfg.DataDir != "" {
		abs, err := filepath.Abs(cfg.DataDir)
		if err != nil {
			return cfg, fmt.Errorf("data dir: %w", err)
		}
		cfg.DataDir = abs
	}
	return cfg, nil
}

// buildCore migrates the database and builds the job queue, the store and
// the services everything else stands on (tenancy, access, audit, usage,
// catalog, prices).
func (a *App) buildCore(ctx context.Context) error {
	cfg, d := a.cfg, a.DB
	if err := Migrate(ctx, d); err != nil {
		return err
	}
	if len(cfg.SecretKey) == 0 {
		key, err := loadOrCreateKey(filepath.Join(cfg.DataDir, "secret.key"))
		if err != nil {
			return err
		}
		a.cfg.SecretKey, cfg.SecretKey = key, key
	}
	_, movable := cfg.Clock.(jobs.Movable)
	queue, err := jobs.NewQueue(d, jobs.QueueConfig{Clock: cfg.Clock, Movable: movable, Logger: cfg.Logger, Tracer: cfg.Tracer})
	if err != nil {
		return err
	}
	st := sqlstore.New(d).WithJobs(queue)
	a.Queue, a.Store = queue, st
	a.Tenancy = tenancy.NewService(sqlstore.Tenancy{Store: st}, cfg.Clock)
	a.Access = access.NewService(sqlstore.Access{Store: st}, cfg.Clock)
	a.Audit = audit.NewService(st)
	a.Metering = metering.NewService(sqlstore.Metering{Store: st}, cfg.Clock)
	a.Identity = access.NewIdentity(sqlstore.Identity{Store: st}, cfg.Clock)
	a.Catalog = catalog.NewService(sqlstore.Catalog{Store: st}, cfg.Clock)
	a.Pricing = pricing.NewService(sqlstore.Pricing{Store: st}, cfg.Clock)
	return a.Pricing.EnsureDefault(ctx)
}

// buildMoney builds the ledger, hourly usage, billing and payments.
// Billing's deletion guard counts the resources through the deletion's
// transaction only (the ResourceCounter values need none of the resource
// services, which are built on billing); auto-pay is handed to the invoice
// run per call (payments is built on billing).
func (a *App) buildMoney(context.Context) error {
	cfg, st := a.cfg, a.Store
	a.Ledger = ledger.NewService(sqlstore.Ledger{Store: st}, cfg.Clock)
	a.Hourly = metering.NewHourlyService(sqlstore.MeteringHourly{Store: st}, a.Pricing, cfg.Clock)
	a.Segments = metering.NewSegmentMeter(st, a.Hourly, cfg.Logger)
	a.Billing = billing.NewService(sqlstore.Billing{Store: st}, a.Ledger, cfg.Clock, billing.Config{
		CloseGrace: a.Hourly.CloseGrace(), Usage: a.Hourly, Resources: resourceCounter{
			compute.ResourceCounter{}, network.ResourceCounter{}, services.ResourceCounter{}, buckets.ResourceCounter{}}})
	a.Processor = testprocessor.New(cfg.Clock)
	a.Payment = payment.NewService(sqlstore.Payment{Store: st}, a.Ledger, a.Billing, a.Processor, cfg.Clock,
		payment.Config{Logger: cfg.Logger})
	return nil
}

// buildResources builds the resource services on the sim providers (the
// fake hypervisor, whose state lives in the database: one for every node).
func (a *App) buildResources(context.Context) error {
	cfg, st := a.cfg, a.Store
	sims := sqlstore.SimState{Store: st}
	a.NetworkSim = netsim.NewWithState(cfg.ProviderDelay, sims)
	a.ComputeSim = computesim.NewWithState(cfg.ProviderDelay, sims)
	a.ServicesSim = servicesim.NewWithState(cfg.ProviderDelay, sims)
	a.Network = network.NewService(sqlstore.Network{Store: st}, a.Billing, a.NetworkSim, cfg.Clock, network.Config{Logger: cfg.Logger})
	a.Compute = compute.NewService(compute.Deps{Store: sqlstore.Compute{Store: st}, Clock: cfg.Clock,
		Provider: a.ComputeSim, Catalog: a.Catalog, Network: a.Network, Billing: a.Billing, Logger: cfg.Logger})
	var err error
	a.Services, err = services.NewService(sqlstore.Services{Store: st}, a.Billing, a.Network, a.Pricing,
		a.ServicesSim, cfg.Clock, services.Config{SecretKey: cfg.SecretKey, Logger: cfg.Logger})
	return err
}

// buildObjectStorage builds storage accounts (objstore) and buckets on this
// node's S3 slot (a.s3): the S3 server starts later (StartS3) and may not
// run at all, so both ask the slot at each call instead of being handed
// the server after it starts. Purging a storage account's buckets is handed
// to objstore per call (buckets is built on objstore).
func (a *App) buildObjectStorage(context.Context) error {
	cfg, st := a.cfg, a.Store
	box, err := sealed.New(cfg.SecretKey)
	if err != nil {
		return err
	}
	if a.Objstore, err = objstore.NewService(sqlstore.Objstore{Store: st}, cfg.Clock, box, a.s3); err != nil {
		return err
	}
	a.Buckets, err = buckets.NewService(buckets.Deps{Store: sqlstore.Buckets{Store: st}, Billing: a.Billing,
		Principals: a.Objstore, Recorder: a.Hourly, Clock: cfg.Clock, Logger: cfg.Logger, DataPlane: a.s3})
	return err
}

// buildChannels builds the reseller channel (support, the reseller core,
// orders on their sim provider) and the BSS. The core's hooks into orders
// (orders.ProjectHooks) work through its transaction alone, so the core is
// built before orders, which is built on it.
func (a *App) buildChannels(context.Context) error {
	cfg, st := a.cfg, a.Store
	public := strings.TrimRight(cfg.PublicURL, "/")
	if public == "" {
		public = "http://127.0.0.1:8080"
	}
	a.Support = support.NewService(sqlstore.Support{Store: st}, cfg.Clock)
	var err error
	a.Reseller, err = reseller.NewService(sqlstore.Reseller{Store: st}, a.Billing, a.Ledger, cfg.Clock,
		reseller.Deps{Services: orders.ProjectHooks{}, Tickets: a.Support, Blocks: orders.ProjectHooks{}},
		reseller.Config{VATPercent: cfg.ResellerVAT, ActivationURL: public + ActivationPath,
			MonthlyLimit: cfg.ResellerMonthlyLimit})
	if err != nil {
		return err
	}
	a.OrdersSim = orderssim.NewWithState(cfg.ProviderDelay, sqlstore.SimState{Store: st})
	a.Orders = orders.NewService(sqlstore.Orders{Store: st}, a.Reseller, a.OrdersSim, cfg.Clock, orders.Config{Logger: cfg.Logger})
	a.BSS, err = bss.NewService(sqlstore.BSS{Store: st}, a.Tenancy, a.Objstore, cfg.Clock, a.Access)
	return err
}

// buildHTTP registers the process metrics and builds the HTTP handler with
// every dialect.
func (a *App) buildHTTP(context.Context) error {
	cfg, d, st := a.cfg, a.DB, a.Store
	a.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(d.Writer(), "trellis_write"),
	)
	if d.Reader() != d.Writer() {
		a.Registry.MustRegister(collectors.NewDBStatsCollector(d.Reader(), "trellis_read"))
	}
	var sandbox native.Sandbox
	if cfg.Sandbox {
		sandbox = sandboxClock{a}
	}
	var limiter *ratelimit.Limiter
	if cfg.RateLimit > 0 {
		limiter = ratelimit.New(cfg.RateLimit, cfg.RateBurst, time.Now)
	}
	// One budget of failed authentications per client address across
	// every dialect, on the app's clock (tests inject it).
	var failures *authn.Failures
	if cfg.AuthFailureRate > 0 {
		failures = authn.NewFailures(ratelimit.New(cfg.AuthFailureRate, cfg.AuthFailureBurst, cfg.Clock.Now))
	}
	a.Handler = httpapi.New(httpapi.Config{
		Logger:       cfg.Logger,
		Registry:     a.Registry,
		BodyLimit:    cfg.BodyLimit,
		Ready:        d.Ping,
		MetricsToken: cfg.MetricsToken,
		AdminMetrics: cfg.AdminListener,
		Tracer:       cfg.Tracer,
		Native: native.Deps{Tenancy: a.Tenancy, Objstore: a.Objstore, Access: a.Access, Audit: a.Audit,
			Metering: a.Metering, Idem: st, Clock: cfg.Clock, Limiter: limiter, AuthFailures: failures, Logger: cfg.Logger,
			Sandbox: sandbox, Identity: a.Identity, Catalog: a.Catalog,
			Billing: a.Billing, Payment: a.Payment, Pricing: a.Pricing, Hourly: a.Hourly, Ledger: a.Ledger,
			Network: a.Network, Compute: a.Compute, Buckets: a.Buckets,
			Excess:   buckets.NewExcess(a.Tenancy, st, cfg.Clock),
			Reseller: a.Reseller, Orders: a.Orders, Support: a.Support, BSS: a.BSS},
		ImpossibleCloud: impossiblecloud.Deps{Tenancy: a.Tenancy, Objstore: a.Objstore, Access: a.Access,
			Metering: a.Metering, Idem: st, Clock: cfg.Clock, Limiter: limiter, AuthFailures: failures, Logger: cfg.Logger},
		IDCloudHost: idcloudhost.Deps{Identity: a.Identity, Locations: a.Catalog, Billing: a.Billing, Payments: a.Payment,
			Pricing: a.Pricing, Catalog: a.Catalog, Compute: a.Compute, Network: a.Network, Services: a.Services,
			Buckets: a.Buckets, ObjectStorage: a.Objstore,
			Idem: st, Clock: cfg.Clock,
			Limiter: limiter, AuthFailures: failures, Logger: cfg.Logger},
		ITGlobal: itglobal.Deps{Auth: a.Reseller, Reseller: a.Reseller, Orders: a.Orders, Support: a.Support,
			Idem: st, Clock: cfg.Clock, Limiter: limiter, AuthFailures: failures, Logger: cfg.Logger},
		Infiterra: infiterra.Deps{BSS: a.BSS, Logger: cfg.Logger, Limiter: limiter, AuthFailures: failures},
		ActivateResellerAccount: func(ctx context.Context, id, token string) error {
			_, err := a.Reseller.ActivateAccount(ctx, actor.System(""), id, token)
			return err
		},
	})
	return nil
}

// buildJobs registers the resource and order step workers on the queue
// and the timed steps' metrics (the periodic jobs are Jobs; Serve runs
// them).
func (a *App) buildJobs(context.Context) error {
	jobs.AddWorker(a.Queue, a.Network.RunNetworkStep)
	jobs.AddWorker(a.Queue, a.Network.RunLBStep)
	jobs.AddWorker(a.Queue, a.Compute.RunStep)
	jobs.AddWorker(a.Queue, a.Services.RunPackageStep)
	jobs.AddWorker(a.Queue, a.Orders.RunOrderStep)
	a.jobMetrics = jobs.NewMetrics(a.Registry)
	return nil
}

// Migrate brings the database schema up to date: Trellis's own (goose),
// then River's (its own migrator).
func Migrate(ctx context.Context, d *db.DB) error {
	if err := migrations.Up(ctx, d); err != nil {
		return err
	}
	return jobs.Migrate(ctx, d)
}

// ActivationPath is where a reseller account's activation link points
// (served without a key: the token is the proof).
const ActivationPath = "/itglobal/activate"

// resourceCounter sums the live resources of a billing account over the
// resource kinds (billing refuses to delete an account that has any).
type resourceCounter []billing.ResourceCounter

func (r resourceCounter) ActiveResourcesTx(ctx context.Context, tx billing.Store, id int64) (int, error) {
	total := 0
	for _, c := range r {
		n, err := c.ActiveResourcesTx(ctx, tx, id)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}
