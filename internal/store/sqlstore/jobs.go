package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/jobs"
	"github.com/trellis-cloud/trellis/internal/store/db"
)

// JobInserter inserts a job in a database/sql transaction (jobs.Queue).
type JobInserter interface {
	InsertTx(ctx context.Context, tx *sql.Tx, args jobs.Args, opts jobs.InsertOpts) error
}

// WithJobs returns a store whose EnqueueJob inserts through q.
func (s *Store) WithJobs(q JobInserter) *Store {
	c := *s
	c.jobs = q
	return &c
}

// EnqueueJob inserts a job in the store's transaction (outside one, in a
// transaction of its own): the job exists exactly when the change that
// needs it commits. Every domain that runs steps through the queue declares
// this method in its Queries.
func (s *Store) EnqueueJob(ctx context.Context, args jobs.Args, opts jobs.InsertOpts) error {
	if s.jobs == nil {
		return errs.New(errs.KindInternal, "sqlstore: no job queue is configured")
	}
	return s.tx(ctx, func(t *Store) error {
		stx, ok := db.SQLTx(t.q)
		if !ok {
			return errs.New(errs.KindInternal, "sqlstore: a job is inserted only in a transaction")
		}
		return t.jobs.InsertTx(ctx, stx, args, opts)
	})
}

// ClaimPeriod implements jobs.Claimer: the row of the sweep `name` moves
// to `period` only from an earlier one, so of the nodes that try one
// period exactly one wins.
func (s *Store) ClaimPeriod(ctx context.Context, name string, period time.Time, node string, at time.Time) (bool, error) {
	res, err := s.w().ExecContext(ctx, `INSERT INTO job_periods (name, period_at, node, claimed_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (name) DO UPDATE SET period_at = excluded.period_at, node = excluded.node, claimed_at = excluded.claimed_at
		WHERE job_periods.period_at < excluded.period_at`, name, db.Micro(period), node, db.Micro(at))
	return s.changed(res, err, "job period")
}
