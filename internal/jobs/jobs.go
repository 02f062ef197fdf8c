// Package jobs runs Trellis's periodic work and its durable queue (River).
// Every periodic job is an idempotent sweep (each row it changes is claimed
// by a conditional write), so nodes running one at once do no harm; the
// database-wide sweeps are also claimed per period (OncePerPeriod), so with
// N nodes they run once per period, not N times.
package jobs

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Job is a periodic task.
type Job struct {
	Name  string
	Every time.Duration
	Run   func(ctx context.Context) error
}

// Run starts every job on its own ticker, runs each once at start, and
// returns when ctx is done and all running jobs have returned.
func Run(ctx context.Context, logger *slog.Logger, jobs []Job) {
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(j.Every)
			defer t.Stop()
			for {
				start := time.Now()
				if err := j.Run(ctx); err != nil && ctx.Err() == nil {
					logger.ErrorContext(ctx, "job failed", "job", j.Name, "err", err)
				} else {
					logger.DebugContext(ctx, "job ran", "job", j.Name, "took", time.Since(start))
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}()
	}
	wg.Wait()
}
