package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// StepTimeout is a provider step's own deadline: River cancels a job's
// context after it, so a hung provider call ends in an error and a retry.
const StepTimeout = time.Minute

// StuckAfter is how long a job may be "running" before it is taken for the
// job of a dead process (a kill -9 leaves it so), and how long a resource
// may sit in a transitional state before Reconcile looks at it. River's
// rescuer returns such a job to the queue after it, on River's time.
// Reconcile does not wait for the rescuer: on the real clock it takes a job
// attempted before `at` minus StuckAfter for dead; on a movable clock
// River's attempted_at (its own time) says nothing about the app clock, and
// a sandbox is one process, so a running job that this process is not
// running is dead.
const StuckAfter = 2 * time.Minute

// PendingLister lists the step jobs of the resources left in a transitional
// state since before an instant (sqlstore.Store).
type PendingLister interface {
	PendingSteps(ctx context.Context, before time.Time) ([]Args, error)
}

// liveStates are the states of a job that will still run.
var liveStates = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
	rivertype.JobStateScheduled, rivertype.JobStateRetryable, rivertype.JobStateRunning}

// Reconcile moves on every resource stuck in a transitional state: one
// whose state has not changed for StuckAfter and whose step has no live job
// (none waiting, and none running but attempted within StuckAfter: a job
// "running" longer than that belongs to a dead process) gets its step job
// again. Steps are idempotent, so the job brings the resource to its final
// state, or to error when the provider fails (then River retries it). It
// returns how many steps it enqueued.
func (q *Queue) Reconcile(ctx context.Context, at time.Time, pending PendingLister) (int, error) {
	bound := at.Add(-StuckAfter)
	steps, err := pending.PendingSteps(ctx, bound)
	if err != nil || len(steps) == 0 {
		return 0, err
	}
	live, err := q.liveJobs(ctx, bound)
	if err != nil {
		return 0, err
	}
	n := 0
	var failed error
	for _, s := range steps {
		key, err := jobKey(s.Kind(), s)
		if err != nil {
			return n, err
		}
		if live[key] {
			continue
		}
		if _, err := q.client.Insert(ctx, s, q.insertOpts(at, 0)); err != nil {
			failed = errors.Join(failed, fmt.Errorf("jobs: re-enqueue %s: %w", key, err))
			continue
		}
		live[key] = true
		n++
		q.cfg.Logger.WarnContext(ctx, "re-enqueued the step of a resource stuck in a transitional state", "job", key)
	}
	return n, failed
}

// liveJobs is the set of job keys (kind and arguments) that will still run:
// a running job attempted before bound is counted as dead.
func (q *Queue) liveJobs(ctx context.Context, bound time.Time) (map[string]bool, error) {
	live := map[string]bool{}
	params := river.NewJobListParams().States(liveStates...).First(10_000)
	for {
		res, err := q.client.JobList(ctx, params)
		if err != nil {
			return nil, fmt.Errorf("jobs: list live jobs: %w", err)
		}
		for _, j := range res.Jobs {
			if j.State == rivertype.JobStateRunning && q.dead(j, bound) {
				continue
			}
			var args any
			if err := json.Unmarshal(j.EncodedArgs, &args); err != nil {
				return nil, fmt.Errorf("jobs: job %d arguments: %w", j.ID, err)
			}
			key, err := jobKey(j.Kind, args)
			if err != nil {
				return nil, err
			}
			live[key] = true
		}
		if len(res.Jobs) < 10_000 {
			return live, nil
		}
		params = params.After(res.LastCursor)
	}
}

// dead reports whether a running job belongs to a process that is gone.
func (q *Queue) dead(j *rivertype.JobRow, bound time.Time) bool {
	if q.cfg.Movable {
		_, mine := q.running.Load(j.ID)
		return !mine
	}
	return j.AttemptedAt != nil && j.AttemptedAt.Before(bound)
}

// jobKey is a job's kind and its arguments in one canonical JSON form (a
// struct and the map decoded from its stored JSON give the same text).
func jobKey(kind string, args any) (string, error) {
	b, err := json.Marshal(args)
	if err != nil {
		return "", err
	}
	var m any
	if err := json.Unmarshal(b, &m); err != nil {
		return "", err
	}
	if b, err = json.Marshal(m); err != nil {
		return "", err
	}
	return kind + string(b), nil
}
