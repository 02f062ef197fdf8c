// Package jobstest records the jobs a service inserts, for tests that run
// the workers' functions themselves instead of a River client.
package jobstest

import (
	"context"
	"database/sql"
	"sync"

	"github.com/trellis-cloud/trellis/internal/jobs"
)

// Recorder is a job inserter (sqlstore.JobInserter) that keeps every job
// it is given. The zero value is ready to use.
type Recorder struct {
	mu   sync.Mutex
	args []jobs.Args
	opts []jobs.InsertOpts
}

// InsertTx records the job; the transaction is not touched.
func (r *Recorder) InsertTx(_ context.Context, _ *sql.Tx, args jobs.Args, opts jobs.InsertOpts) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.args = append(r.args, args)
	r.opts = append(r.opts, opts)
	return nil
}

// Count is the number of jobs recorded.
func (r *Recorder) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.args)
}

// All returns the recorded jobs in order.
func (r *Recorder) All() []jobs.Args {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]jobs.Args(nil), r.args...)
}

// Last returns the latest job and its options; it panics when there is
// none (a test bug).
func (r *Recorder) Last() (jobs.Args, jobs.InsertOpts) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.args[len(r.args)-1], r.opts[len(r.opts)-1]
}
