package sqlstore

import (
	"context"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/jobs"
	"github.com/trellis-cloud/trellis/internal/store/db"
)

// JobInserter inserts a job in a transaction (jobs.Queue).
type JobInserter interface {
	InsertTx(ctx context.Context, tx db.Querier, args jobs.Args, opts jobs.InsertOpts) error
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
	return s.tx(ctx, func(t *Store) error { return t.jobs.InsertTx(ctx, t.q, args, opts) })
}
