package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Timed is work that does everything due at an instant. Billing's sweeps
// take the instant explicitly, so the sandbox can replay the hours it skips.
type Timed struct {
	Name string
	// After names the steps this one needs to have succeeded at the same
	// instant (a real data dependency: invoices need the hours metered).
	// A step whose dependency failed is skipped until the next run; every
	// other step runs whatever its neighbours do.
	After []string
	Run   func(ctx context.Context, at time.Time) error
}

// Movable is a clock that can be moved forward (clock.Fake, clock.Sandbox).
type Movable interface {
	Now() time.Time
	Set(t time.Time)
}

// RunAt runs work in order at the instant at. Each step runs, fails and is
// measured (m, which may be nil) on its own: a failure skips only the steps
// that name it in After, and all failures are returned together.
func RunAt(ctx context.Context, at time.Time, work []Timed, m *Metrics) error {
	var failed []error
	bad := map[string]bool{} // failed or skipped at this instant
	for _, w := range work {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(failed, err)...)
		}
		if dep := firstBad(w.After, bad); dep != "" {
			bad[w.Name] = true
			m.skipped(w.Name)
			failed = append(failed, fmt.Errorf("%s at %s: skipped: %s did not succeed", w.Name, at.Format(time.RFC3339), dep))
			continue
		}
		start := time.Now()
		err := w.Run(ctx, at)
		m.observe(w.Name, at, time.Since(start), err)
		if err != nil {
			bad[w.Name] = true
			failed = append(failed, fmt.Errorf("%s at %s: %w", w.Name, at.Format(time.RFC3339), err))
		}
	}
	return errors.Join(failed...)
}

func firstBad(deps []string, bad map[string]bool) string {
	for _, d := range deps {
		if bad[d] {
			return d
		}
	}
	return ""
}

// Advance moves clk to `to` one step at a time (at every multiple of step
// after the current time, then at `to`), setting the clock and running work
// in order at each stop (RunAt). Work due in between therefore happens in the order,
// and at the instants, it would have in real time: the usage of a month is
// closed before its invoice is issued, the invoice before its due date
// passes, dunning before a later payment lifts it. It returns the number of
// stops. A stop where a step failed is the last (the other steps of that stop
// have run). A `to` before the clock's time is refused.
func Advance(ctx context.Context, clk Movable, to time.Time, step time.Duration, work []Timed, m *Metrics) (int, error) {
	if step <= 0 {
		return 0, fmt.Errorf("jobs: advance step must be positive, got %v", step)
	}
	from := clk.Now()
	if to.Before(from) {
		return 0, fmt.Errorf("jobs: cannot move the clock back from %s to %s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	stops := 0
	for at := from.Truncate(step).Add(step); !at.After(to); at = at.Add(step) {
		if err := ctx.Err(); err != nil {
			return stops, err
		}
		clk.Set(at)
		stops++
		if err := RunAt(ctx, at, work, m); err != nil {
			return stops, err
		}
	}
	if clk.Now().Before(to) {
		clk.Set(to)
		stops++
		if err := RunAt(ctx, to, work, m); err != nil {
			return stops, err
		}
	}
	return stops, nil
}
