// Package app is the composition root: it opens the database, applies
// migrations, builds the services and the HTTP surface, and runs them.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/bss"
	"github.com/trellis-cloud/trellis/internal/buckets"
	"github.com/trellis-cloud/trellis/internal/catalog"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/compute"
	computesim "github.com/trellis-cloud/trellis/internal/compute/sim"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/idcloudhost"
	"github.com/trellis-cloud/trellis/internal/httpapi/idempotency"
	"github.com/trellis-cloud/trellis/internal/jobs"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/network"
	netsim "github.com/trellis-cloud/trellis/internal/network/sim"
	"github.com/trellis-cloud/trellis/internal/nodes"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/orders"
	orderssim "github.com/trellis-cloud/trellis/internal/orders/sim"
	"github.com/trellis-cloud/trellis/internal/payment"
	"github.com/trellis-cloud/trellis/internal/payment/testprocessor"
	"github.com/trellis-cloud/trellis/internal/pricing"
	"github.com/trellis-cloud/trellis/internal/reseller"
	"github.com/trellis-cloud/trellis/internal/s3gw"
	"github.com/trellis-cloud/trellis/internal/services"
	servicesim "github.com/trellis-cloud/trellis/internal/services/sim"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/litedriver"
	"github.com/trellis-cloud/trellis/internal/store/pgdriver"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/support"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// Config configures a Trellis instance.
type Config struct {
	DataDir   string  // where SQLite and the sandbox files live
	DB        string  // "" for SQLite in DataDir; postgres://… for PostgreSQL
	RateLimit float64 // requests per second per key; 0 disables
	RateBurst int
	// AuthFailureRate is how many failed authentications per second a
	// client address may make, with bursts of AuthFailureBurst; past
	// that it gets 429 before any key is looked up. 0 disables.
	AuthFailureRate  float64
	AuthFailureBurst int
	// MetricsToken, when set, is the bearer token /metrics requires (from
	// any address); empty: /metrics answers loopback clients only.
	MetricsToken string
	BodyLimit    int64
	JobEvery     time.Duration // how often periodic jobs run
	Logger       *slog.Logger
	Clock        clock.Clock
	// SecretKey (32 bytes) seals secrets Trellis must keep readable (managed
	// database passwords). Empty: the key in DataDir/secret.key, created on
	// first start. Nodes sharing a PostgreSQL database must share it.
	SecretKey []byte
	// ProviderDelay is how long the built-in sim provider takes for each
	// step (default 0: done before the request returns, as the vendor's
	// clients expect).
	ProviderDelay time.Duration
	// S3Addr is where the embedded S3 server listens (StartS3); "" runs
	// none. S3Region is the SigV4 region (default us-east-1), S3Domain
	// enables virtual-host-style addressing under it.
	S3Addr, S3Region, S3Domain string
	// S3Backend is an opened object store; nil opens one under DataDir.
	// versitygw's posix store changes the process's working directory to
	// its root, so a process holds one: tests share it.
	S3Backend *s3gw.Backend
	// S3Upstream, when its URL is set, keeps the objects in that S3 store
	// instead (serve --s3-backend s3): nodes share only it and the database.
	S3Upstream s3gw.UpstreamConfig
	// NodeID is this process's id among the nodes sharing the database
	// (internal/nodes); "" gives each start a fresh UUIDv7. Two live nodes
	// cannot hold one id: the second start is refused.
	NodeID string
	// PublicURL is where clients reach the HTTP API (links in e-mails,
	// e.g. a reseller account's activation link); default
	// http://127.0.0.1:8080.
	PublicURL string
	// ResellerVAT is the VAT rate, in percent, of the reseller channel's
	// invoices and charges (the "system settings" of the Partner API);
	// nil takes reseller.DefaultVATPercent.
	ResellerVAT *int
	// ResellerMonthlyLimit is the default monthly limit of money a partner
	// may record through the Partner API (minor units, reseller.Unlimited
	// for none); nil takes reseller.DefaultMonthlyLimit.
	ResellerMonthlyLimit *int64
	// Sandbox lets the provider admin move the clock forward through the
	// native API (POST /api/v1/sandbox/clock); the periodic work catches up
	// hour by hour. With no Clock given, a sandbox runs on clock.Sandbox.
	Sandbox bool
	// AdminListener: /metrics is served by AdminHandler on the operator's
	// listener, not by Handler (unless MetricsToken is set).
	AdminListener bool
	// Tracer, when set, makes spans of HTTP requests, database
	// transactions and statements, and jobs (telemetry.FromEnv); nil: none.
	Tracer trace.TracerProvider
}

// App is an assembled Trellis instance.
type App struct {
	cfg      Config
	DB       *db.DB
	closeDB  func()
	Store    *sqlstore.Store
	Tenancy  *tenancy.Service
	Objstore *objstore.Service
	Buckets  *buckets.Service
	S3       *s3gw.Server // nil until StartS3
	// Node is this process's lease in the node registry Nodes (nil until
	// StartNode; StartS3 starts it).
	Node     *nodes.Lease
	Nodes    *nodes.Registry
	stopNode func()
	Access   *access.Service
	Audit    *audit.Service
	Metering *metering.Service
	Identity *access.Identity // idcloudhost users and tokens
	Catalog  *catalog.Service
	Ledger   *ledger.Service
	Pricing  *pricing.Service
	Hourly   *metering.HourlyService // hourly usage records
	Billing  *billing.Service
	Payment  *payment.Service
	// Processor is the payment processor: the built-in test processor
	// (Stripe's test-token behaviour) until a real one is configured.
	Processor *testprocessor.Processor
	Registry  *prometheus.Registry
	Handler   http.Handler
	// Queue is the durable job queue (River): resource steps are inserted
	// in the request's transaction and run by its workers (StartWorkers).
	Queue *jobs.Queue
	// Segments turns resources' usage segments into hourly records.
	Segments *metering.SegmentMeter
	// Resources: networks and addresses, VMs and disks, managed services,
	// each on the built-in sim provider (the fake hypervisor).
	Network     *network.Service
	Compute     *compute.Service
	Services    *services.Service
	NetworkSim  *netsim.Provider
	ComputeSim  *computesim.Provider
	ServicesSim *servicesim.Provider
	// The reseller channel (ITGLOBAL Partner API v2): accounts, projects
	// and money; catalogs and orders (on the sim provider); support.
	Reseller  *reseller.Service
	Orders    *orders.Service
	OrdersSim *orderssim.Provider
	Support   *support.Service
	// BSS is the Infiterra service manager: BSS installations and the
	// subscriptions they provision onto partners and storage accounts.
	BSS *bss.Service

	advanceMu sync.Mutex // one clock advance at a time
	// jobMetrics measures each timed step; node names this process in the
	// periodic sweeps' claims (job_periods).
	jobMetrics *jobs.Metrics
	node       string
	// s3 is this node's S3 slot: the S3 server while it runs (StartS3 to
	// Close), which buckets and objstore ask for at each call.
	s3 *s3Plane
}

// OpenDB opens the configured database without migrating it.
func OpenDB(ctx context.Context, cfg Config) (*db.DB, func(), error) {
	if strings.HasPrefix(cfg.DB, "postgres://") || strings.HasPrefix(cfg.DB, "postgresql://") {
		d, pool, err := pgdriver.Open(ctx, cfg.DB)
		if err != nil {
			return nil, nil, err
		}
		return d, func() { _ = d.Close(); pool.Close() }, nil
	}
	path := cfg.DB
	if path == "" {
		path = filepath.Join(cfg.DataDir, "trellis.db")
	}
	path = strings.TrimPrefix(path, "sqlite://")
	d, err := litedriver.Open(path)
	if err != nil {
		return nil, nil, err
	}
	return d, func() { _ = d.Close() }, nil
}

// Open opens the database, applies migrations and builds the services.
func Open(ctx context.Context, cfg Config) (*App, error) {
	d, closeDB, err := OpenDB(ctx, cfg)
	if err != nil {
		return nil, err
	}
	a, err := New(ctx, d, cfg)
	if err != nil {
		closeDB()
		return nil, err
	}
	a.closeDB = closeDB
	return a, nil
}

// Close releases the database.
func (a *App) Close() {
	if err := a.stopS3(context.Background()); err != nil {
		a.cfg.Logger.Warn("s3 server did not stop cleanly", "err", err)
	}
	a.leaveNodes()
	a.closeDB()
}

// StartWorkers runs the job queue's workers until ctx is done; the returned
// function stops them, waiting up to grace for running jobs. Serve calls
// it; in-process tests that need retries call it themselves.
func (a *App) StartWorkers(ctx context.Context, grace time.Duration) (stop func(), err error) {
	if err := a.Queue.Start(ctx); err != nil {
		return nil, err
	}
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
		defer cancel()
		if err := a.Queue.Stop(sctx); err != nil {
			a.cfg.Logger.WarnContext(ctx, "job workers did not stop in time", "err", err)
		}
	}, nil
}

// timed is the work that follows the clock, in the order it must run at
// any instant: the sandbox replays it at every hour it skips, and the
// periodic "billing" job runs it at the current time.
func (a *App) timed() []jobs.Timed {
	return []jobs.Timed{
		// Resources' usage of the hours that just ended becomes hourly
		// records first, so the month's last hour is on its invoice.
		{Name: "meter-resources", Run: func(ctx context.Context, at time.Time) error {
			_, err := a.Segments.MeterSegments(ctx, at)
			return err
		}},
		// Buckets' GB-hours of the hours that ended, and the storage
		// accounts' usage of the days that ended.
		{Name: "meter-object-storage", Run: a.Buckets.MeterHours},
		{Name: "object-storage-days", Run: a.Buckets.SnapshotDays},
		// Usage hours close by themselves (a record for an hour whose end
		// plus the grace has passed is refused), so the month's invoices
		// come first; they are auto-paid as they are issued.
		// Daily backups of VMs with backups on (taken before the hour is
		// metered, so a backup is billed from its first hour).
		{Name: "vm-backups", Run: func(ctx context.Context, at time.Time) error {
			_, err := a.Compute.RunBackups(ctx, at)
			return err
		}},
		// Reseller orders pay each day as it starts; a charge that takes a
		// project below its limit blocks it (and suspends its orders).
		{Name: "reseller-charges", Run: func(ctx context.Context, at time.Time) error {
			n, err := a.Orders.ChargeDue(ctx, at)
			if n > 0 {
				a.cfg.Logger.DebugContext(ctx, "charged reseller orders", "days", n, "at", at)
			}
			return err
		}},
		// The only real order: an invoice needs its month's hours metered
		// (a closed hour can no longer be recorded), and auto-pay needs the
		// invoice. Every other step runs whatever the others do.
		{Name: "issue-invoices", After: []string{"meter-resources", "meter-object-storage"}, Run: func(ctx context.Context, at time.Time) error {
			n, err := a.Billing.IssueInvoices(ctx, at, a.Payment)
			if n > 0 {
				a.cfg.Logger.InfoContext(ctx, "issued invoices", "count", n, "at", at)
			}
			return err
		}},
		// Invoices whose auto-payment did not run (a crash between issue
		// and charge) are charged now.
		{Name: "auto-pay", After: []string{"issue-invoices"}, Run: func(ctx context.Context, at time.Time) error {
			_, err := a.Payment.AutoPayIssued(ctx, at)
			return err
		}},
		// Charges left pending by a crash are settled with the processor.
		{Name: "resolve-pending-charges", Run: func(ctx context.Context, at time.Time) error {
			_, err := a.Payment.ResolvePending(ctx, at)
			return err
		}},
		{Name: "dunning", Run: func(ctx context.Context, at time.Time) error {
			frozen, lifted, err := a.Billing.Dunning(ctx, at)
			if frozen+lifted > 0 {
				a.cfg.Logger.InfoContext(ctx, "dunning", "frozen", frozen, "lifted", lifted, "at", at)
			}
			return err
		}},
		{Name: "recurring-top-up", Run: func(ctx context.Context, at time.Time) error {
			_, err := a.Payment.RecurringTopUp(ctx, at)
			return err
		}},
		// Resources left in a transitional state by a crash get their step
		// again (the step then reaches the final state or error).
		{Name: "reconcile-resources", Run: func(ctx context.Context, at time.Time) error {
			_, err := a.Queue.Reconcile(ctx, at, a.Store)
			return err
		}},
		{Name: "purge-storage-accounts", Run: func(ctx context.Context, _ time.Time) error {
			n, err := a.Objstore.PurgeDue(ctx, a.Buckets)
			if n > 0 {
				a.cfg.Logger.InfoContext(ctx, "deleted storage accounts whose deletion came due", "count", n)
			}
			return err
		}},
	}
}

// Advance moves a sandbox's clock to `to`, running the timed work at every
// hour in between and at `to`.
func (a *App) Advance(ctx context.Context, to time.Time) (int, error) {
	clk, ok := a.cfg.Clock.(jobs.Movable)
	if !a.cfg.Sandbox || !ok {
		return 0, errs.New(errs.KindPrecondition, "the clock can only be moved in sandbox mode")
	}
	a.advanceMu.Lock()
	defer a.advanceMu.Unlock()
	n, err := jobs.Advance(ctx, clk, to, time.Hour, a.timed(), a.jobMetrics)
	// Step jobs and retries that came due on the moved clock run now
	// rather than at the queue's next poll.
	if _, rerr := a.Queue.Release(ctx); rerr != nil && err == nil {
		err = rerr
	}
	return n, err
}

// sandboxClock is the native API's view of a sandbox.
type sandboxClock struct{ a *App }

func (s sandboxClock) Now() time.Time { return s.a.cfg.Clock.Now() }

func (s sandboxClock) Advance(ctx context.Context, to time.Time) (int, error) {
	return s.a.Advance(ctx, to)
}

// Jobs returns the periodic jobs. Every node ticks; the database-wide
// sweeps run on the node that claims the period (jobs.OncePerPeriod).
func (a *App) Jobs() []jobs.Job {
	return []jobs.Job{
		{Name: "billing", Every: a.cfg.JobEvery, Run: jobs.OncePerPeriod(a.Store, a.cfg.Clock, a.node, "billing", a.cfg.JobEvery,
			func(ctx context.Context, at time.Time) error { return jobs.RunAt(ctx, at, a.timed(), a.jobMetrics) })},
		{Name: "s3-reconcile", Every: ReconcileEvery, Run: func(ctx context.Context) error {
			if a.S3 == nil {
				return nil
			}
			_, err := a.S3.Reconcile(ctx)
			return err
		}},
		{Name: "purge-idempotency-keys", Every: a.cfg.JobEvery, Run: jobs.OncePerPeriod(a.Store, a.cfg.Clock, a.node,
			"purge-idempotency-keys", a.cfg.JobEvery, func(ctx context.Context, at time.Time) error {
				var st idempotency.Store = a.Store
				_, err := st.PurgeIdempotency(ctx, at.Add(-idempotency.TTL))
				return err
			})},
	}
}

// Listener is an extra address Trellis serves, with its own handler (a
// dialect on a dedicated port, served at /).
type Listener struct {
	Name     string
	Listener net.Listener
	Handler  http.Handler
}

// IDCloudHostHandler serves the idcloudhost API at /v1/… for a dedicated
// listener, so a client whose URLs are fixed (https://api.idcloudhost.com/v1/…)
// only needs its host changed.
func (a *App) IDCloudHostHandler() http.Handler { return idcloudhost.Dedicated(a.Handler) }

// Serve serves HTTP on ln (and on every extra listener) and runs the
// periodic jobs until ctx is done, then shuts down gracefully: in-flight
// requests finish (up to grace) before it returns.
func (a *App) Serve(ctx context.Context, ln net.Listener, grace time.Duration, extra ...Listener) error {
	all := append([]Listener{{Name: "http", Listener: ln, Handler: a.Handler}}, extra...)
	servers := make([]*http.Server, len(all))
	for i, l := range all {
		servers[i] = &http.Server{
			Handler:           l.Handler,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       60 * time.Second,
			WriteTimeout:      60 * time.Second,
			IdleTimeout:       120 * time.Second,
			ErrorLog:          slog.NewLogLogger(a.cfg.Logger.Handler(), slog.LevelWarn),
		}
	}
	jobCtx, stopJobs := context.WithCancel(ctx)
	stopWorkers, err := a.StartWorkers(jobCtx, grace)
	if err != nil {
		stopJobs()
		return fmt.Errorf("jobs: %w", err)
	}
	jobsDone := make(chan struct{})
	go func() {
		jobs.Run(jobCtx, a.cfg.Logger, a.Jobs())
		close(jobsDone)
	}()
	errc := make(chan error, len(all))
	for i, l := range all {
		go func() {
			if err := servers[i].Serve(l.Listener); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("%s: %w", l.Name, err)
				return
			}
			errc <- nil
		}()
	}
	// Run until ctx is done or a listener fails, then shut every server down.
	remaining := len(all)
	select {
	case err = <-errc:
		remaining--
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	for _, srv := range servers {
		if e := srv.Shutdown(sctx); e != nil && err == nil {
			err = e
		}
	}
	for range remaining {
		if e := <-errc; e != nil && err == nil {
			err = e
		}
	}
	stopWorkers()
	stopJobs()
	<-jobsDone
	if e := a.stopS3(sctx); e != nil && err == nil {
		err = e
	}
	if err != nil {
		return fmt.Errorf("http: %w", err)
	}
	return nil
}
