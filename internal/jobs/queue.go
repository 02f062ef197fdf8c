package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
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
	// Clock is the app's clock: a job's RunAt and a retry's backoff are on
	// it. With the real clock River schedules them on its own time, which
	// is the same. A movable clock (the sandbox, tests: Movable) may run
	// ahead of River's time or stand still, so the queue keeps those jobs
	// parked and releases them itself when they are due on the app clock
	// (see "Time" on Queue).
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
//
// Time. River runs on its own time (the database's and the process's wall
// clock), with no test hooks: River documents Config.Test.Time as
// test-only. What Trellis schedules is on the app clock. In production the
// app clock is the wall clock, so a job's ScheduledAt is its RunAt and a
// retry is due at the app clock's now plus the backoff, and River does the
// rest. On a movable clock (--sandbox, tests) the app's "later" may be
// years from River's, or never come on its own; there the queue parks a job
// that must wait (a future RunAt, a retry) at its due instant shifted by
// ParkShift, far beyond anything River's scheduler reaches, and its release
// loop (every PollInterval, and Release when the sandbox moves the clock)
// makes every parked job whose due instant the app clock has reached
// available with River's documented JobRetry. A parked job never runs by
// River's own doing, so releasing it cannot race a run of it.
type Queue struct {
	client  *river.Client[*sql.Tx]
	workers *river.Workers
	cfg     QueueConfig

	// running is the set of job ids this process is running (a movable
	// clock's Reconcile: see liveJobs).
	running sync.Map
	// stopRelease ends the release loop (movable clock only).
	mu          sync.Mutex
	stopRelease func()
}

// DB is the database the queue runs on (store/db.DB; the queue reaches it
// through this interface so that it does not depend on the store).
type DB interface {
	// Writer is the write pool (on SQLite its single connection, so
	// River's writes queue behind Trellis's like any other).
	Writer() *sql.DB
	// DialectName is "postgres" or "sqlite".
	DialectName() string
}

// Driver returns River's driver for d.
func Driver(d DB) (riverdriver.Driver[*sql.Tx], error) {
	switch d.DialectName() {
	case "sqlite":
		return riversqlite.New(d.Writer()), nil
	case "postgres":
		return riverdatabasesql.New(d.Writer()), nil
	}
	return nil, fmt.Errorf("jobs: no River driver for %q", d.DialectName())
}

// NewQueue returns a queue on d. Register workers with AddWorker before
// Start; inserting works at once.
func NewQueue(d DB, cfg QueueConfig) (*Queue, error) {
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
		RetryPolicy:       retryPolicy{clock: cfg.Clock, park: cfg.Movable},
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
		q.running.Store(j.ID, true)
		defer q.running.Delete(j.ID)
		return fn(ctx, j.Args)
	}))
}

// InsertTx inserts a job in the transaction tx: it becomes visible to
// workers when tx commits and vanishes if tx rolls back.
func (q *Queue) InsertTx(ctx context.Context, tx *sql.Tx, args Args, opts InsertOpts) error {
	if tx == nil {
		return errors.New("jobs: InsertTx needs a transaction")
	}
	if _, err := q.client.InsertTx(ctx, tx, args, q.insertOpts(opts.RunAt, opts.MaxAttempts)); err != nil {
		return fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	return nil
}

// insertOpts schedules a job due at runAt on the app clock (zero: now).
func (q *Queue) insertOpts(runAt time.Time, maxAttempts int) *river.InsertOpts {
	ro := &river.InsertOpts{MaxAttempts: maxAttempts}
	switch {
	case runAt.IsZero():
	case !q.cfg.Movable:
		ro.ScheduledAt = runAt // the app clock is River's
	case runAt.After(q.cfg.Clock.Now()):
		ro.ScheduledAt = park(runAt) // released when the app clock gets there
	}
	return ro
}

// Start runs the workers (and, on a movable clock, the release loop) until
// Stop (or ctx is done).
func (q *Queue) Start(ctx context.Context) error {
	if err := q.client.Start(ctx); err != nil {
		return err
	}
	if q.cfg.Movable {
		lctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			q.releaseLoop(lctx)
		}()
		q.mu.Lock()
		q.stopRelease = func() { cancel(); <-done }
		q.mu.Unlock()
	}
	return nil
}

// Stop waits for running jobs to finish (or ctx to end).
func (q *Queue) Stop(ctx context.Context) error {
	q.mu.Lock()
	stop := q.stopRelease
	q.stopRelease = nil
	q.mu.Unlock()
	if stop != nil {
		stop()
	}
	return q.client.Stop(ctx)
}

// ParkShift is how far beyond its due instant a job waiting on a movable
// clock is scheduled in River: 400 years, the Gregorian calendar's cycle,
// so the shift is exact both ways (AddDate) and no River scheduler reaches
// a parked job in this life.
const ParkShift = 400

func park(due time.Time) time.Time  { return due.AddDate(ParkShift, 0, 0) }
func unpark(at time.Time) time.Time { return at.AddDate(-ParkShift, 0, 0) }

// parked tells a parked job by its scheduled_at, on River's (wall) time.
func parked(at time.Time) bool { return at.After(time.Now().AddDate(ParkShift/2, 0, 0)) }

// releaseLoop releases the parked jobs that are due on the app clock, every
// PollInterval until ctx is done.
func (q *Queue) releaseLoop(ctx context.Context) {
	t := time.NewTicker(q.cfg.PollInterval)
	defer t.Stop()
	for {
		if _, err := q.Release(ctx); err != nil && ctx.Err() == nil {
			q.cfg.Logger.Warn("releasing due jobs", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Release makes every parked job whose due instant the app clock has
// reached available now (River's JobRetry), returning how many it
// released. Only a movable clock parks jobs; on the real clock it does
// nothing. The sandbox calls it after moving the clock.
func (q *Queue) Release(ctx context.Context) (int, error) {
	if !q.cfg.Movable {
		return 0, nil
	}
	now := q.cfg.Clock.Now()
	n := 0
	for {
		res, err := q.client.JobList(ctx, river.NewJobListParams().
			States(rivertype.JobStateScheduled, rivertype.JobStateRetryable).
			OrderBy(river.JobListOrderByScheduledAt, river.SortOrderAsc).First(1000))
		if err != nil {
			return n, fmt.Errorf("jobs: list parked jobs: %w", err)
		}
		released := 0
		for _, j := range res.Jobs {
			if !parked(j.ScheduledAt) {
				continue // River's own (none is inserted so on a movable clock)
			}
			if unpark(j.ScheduledAt).After(now) {
				return n, nil // the rest are later still
			}
			if _, err := q.client.JobRetry(ctx, j.ID); err != nil {
				return n, fmt.Errorf("jobs: release job %d: %w", j.ID, err)
			}
			released++
		}
		n += released
		if len(res.Jobs) < 1000 || released == 0 {
			return n, nil
		}
	}
}

// retryPolicy backs off 2^attempt seconds, capped at MaxBackoff, on the
// app clock; on a movable clock the retry is parked (see Queue).
type retryPolicy struct {
	clock clock.Clock
	park  bool
}

func (p retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	d := MaxBackoff
	if job.Attempt < 10 {
		d = min(time.Duration(1<<job.Attempt)*time.Second, MaxBackoff)
	}
	due := p.clock.Now().Add(d)
	if p.park {
		return park(due)
	}
	return due
}
