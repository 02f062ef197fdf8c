package jobs

import (
	"context"
	"fmt"
	"time"
)

// Timed is work that does everything due at an instant. Billing's sweeps
// take the instant explicitly, so the sandbox can replay the hours it skips.
type Timed struct {
	Name string
	Run  func(ctx context.Context, at time.Time) error
}

// Movable is a clock that can be moved forward (clock.Fake, clock.Sandbox).
type Movable interface {
	Now() time.Time
	Set(t time.Time)
}

// RunAt runs work in order at the instant at, stopping at the first error.
func RunAt(ctx context.Context, at time.Time, work []Timed) error {
	for _, w := range work {
		if err := w.Run(ctx, at); err != nil {
			return fmt.Errorf("%s at %s: %w", w.Name, at.Format(time.RFC3339), err)
		}
	}
	return nil
}

// Advance moves clk to `to` one step at a time (at every multiple of step
// after the current time, then at `to`), setting the clock and running work
// in order at each stop. Work due in between therefore happens in the order,
// and at the instants, it would have in real time: the usage of a month is
// closed before its invoice is issued, the invoice before its due date
// passes, dunning before a later payment lifts it. It returns the number of
// stops. A `to` before the clock's time is refused.
func Advance(ctx context.Context, clk Movable, to time.Time, step time.Duration, work []Timed) (int, error) {
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
		if err := RunAt(ctx, at, work); err != nil {
			return stops, err
		}
	}
	if clk.Now().Before(to) {
		clk.Set(to)
		stops++
		if err := RunAt(ctx, to, work); err != nil {
			return stops, err
		}
	}
	return stops, nil
}
