package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
	"github.com/riverqueue/rivercontrib/otelriver"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"

	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/store/db"
)

// Args are a job's arguments: a JSON-serialisable struct whose Kind names
// the worker that runs it (River's JobArgs). Domain packages define their
// own and never import River.
type Args interface{ Kind() string }

// InsertOpts tune one job. The zero value runs it as soon as a worker is
// free, with DefaultMaxAttempts.
type InsertOpts struct {
	RunAt       time.Time // zero: now
	MaxAttempts int       // zero: DefaultMaxAttempts
}

// DefaultMaxAttempts is how often a job runs before River discards it. With
// RetryPolicy's backoff (capped at MaxBackoff) 25 attempts span about three
// hours.
const DefaultMaxAttempts = 25

// MaxBackoff caps the delay between two attempts of a job.
const MaxBackoff = 10 * time.Minute

// QueueConfig configures a Queue.
type QueueConfig struct {
	// Clock is the time River schedules by. A movable clock (the sandbox,
	// tests) is passed to River, so jobs scheduled in the future become due
	// when the clock moves; the real clock leaves River on its own time.
	Clock   clock.Clock
	Movable bool
	// Workers is the number of jobs run at once (default 10).
	Workers int
	// PollInterval is how often idle workers look for due jobs (default
	// 200ms; the database/sql drivers have no LISTEN/NOTIFY, so workers
	// poll).
	PollInterval time.Duration
	Logger       *slog.Logger
	// Tracer, when set, gives every job run a span ("river.work/<kind>",
	// with the kind, attempt and queue as attributes) and every insert one
	// ("river.insert_many"); a job carries its inserter's trace context
	// and its work span links to it. nil: no spans.
	Tracer trace.TracerProvider
}

// Queue is the durable job queue (River) on Trellis's database: jobs are
// inserted in the transaction of the change that needs them, so a job exists
// exactly when its change committed, and workers on any node run them.
type Queue struct {
	client  *river.Client[*sql.Tx]
	workers *river.Workers
	cfg     QueueConfig
}

// Driver returns River's driver for d (the write pool: on SQLite its single
// connection, so River's writes queue behind Trellis's like any other).
func Driver(d *db.DB) (riverdriver.Driver[*sql.Tx], error) {
	switch d.Dialect().Name() {
	case "sqlite":
		return riversqlite.New(d.Writer()), nil
	case "postgres":
		return riverdatabasesql.New(d.Writer()), nil
	}
	return nil, fmt.Errorf("jobs: no River driver for %q", d.Dialect().Name())
}

// NewQueue returns a queue on d. Register workers with AddWorker before
// Start; inserting works at once.
func NewQueue(d *db.DB, cfg QueueConfig) (*Queue, error) {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 10
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 200 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	driver, err := Driver(d)
	if err != nil {
		return nil, err
	}
	q := &Queue{workers: river.NewWorkers(), cfg: cfg}
	rc := &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}},
		Workers:           q.workers,
		FetchCooldown:     min(50*time.Millisecond, cfg.PollInterval),
		FetchPollInterval: cfg.PollInterval,
		MaxAttempts:       DefaultMaxAttempts,
		RetryPolicy:       retryPolicy{clock: cfg.Clock},
		Logger:            cfg.Logger,
		// A step has its own deadline, and a job left running by a dead
		// process is back in the queue minutes later, not after River's
		// default hour (Reconcile covers the moved clock, see StuckAfter).
		JobTimeout:           StepTimeout,
		RescueStuckJobsAfter: StuckAfter,
		// Jobs are keyed by the resource they act on: a job that failed
		// every attempt is kept for a week so an operator can see why.
		DiscardedJobRetentionPeriod: 7 * 24 * time.Hour,
	}
	if cfg.Tracer != nil {
		rc.Middleware = []rivertype.Middleware{otelriver.NewMiddleware(&otelriver.MiddlewareConfig{
			TracerProvider: cfg.Tracer,
			// Prometheus measures jobs; never the global meter.
			MeterProvider:               metricnoop.NewMeterProvider(),
			EnableTracePropagation:      true,
			EnableWorkSpanJobKindSuffix: true,
		})}
	}
	if cfg.Movable {
		rc.Test.Time = timeGen{clock: cfg.Clock}
	}
	c, err := river.NewClient(driver, rc)
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	q.client = c
	return q, nil
}

// AddWorker registers fn as the worker of T's kind. A returned error makes
// the job run again later (RetryPolicy); nil completes it.
func AddWorker[T Args](q *Queue, fn func(ctx context.Context, args T) error) {
	river.AddWorker(q.workers, river.WorkFunc(func(ctx context.Context, j *river.Job[T]) error {
		return fn(ctx, j.Args)
	}))
}

// InsertTx inserts a job in the transaction tx (a db.Querier handed out by
// db.DB.Tx): it becomes visible to workers when tx commits and vanishes if
// tx rolls back.
func (q *Queue) InsertTx(ctx context.Context, tx db.Querier, args Args, opts InsertOpts) error {
	stx, ok := db.SQLTx(tx)
	if !ok {
		return errors.New("jobs: InsertTx needs a transaction")
	}
	ro := &river.InsertOpts{MaxAttempts: opts.MaxAttempts}
	if !opts.RunAt.IsZero() {
		ro.ScheduledAt = opts.RunAt
	}
	if _, err := q.client.InsertTx(ctx, stx, args, ro); err != nil {
		return fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	return nil
}

// Start runs the workers until Stop (or ctx is done).
func (q *Queue) Start(ctx context.Context) error { return q.client.Start(ctx) }

// Stop waits for running jobs to finish (or ctx to end).
func (q *Queue) Stop(ctx context.Context) error { return q.client.Stop(ctx) }

// retryPolicy backs off 2^attempt seconds, capped at MaxBackoff, by the
// queue's clock (so the sandbox clock makes retries due).
type retryPolicy struct{ clock clock.Clock }

func (p retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	d := MaxBackoff
	if job.Attempt < 10 {
		d = min(time.Duration(1<<job.Attempt)*time.Second, MaxBackoff)
	}
	return p.clock.Now().Add(d)
}

// timeGen is River's time source on a movable clock.
type timeGen struct{ clock clock.Clock }

func (t timeGen) Now() time.Time { return t.clock.Now() }
func (t timeGen) NowOrNil() *time.Time {
	n := t.clock.Now()
	return &n
}
