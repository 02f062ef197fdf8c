package jobs

import (
	"time"

	"github.com/trellis-cloud/trellis/internal/errs"
)

// MaxAdvance bounds how far one request moves a sandbox's clock (a leap
// year), and so the catch-up work it runs.
const MaxAdvance = 8784 * time.Hour

// AdvanceRequest asks to move a sandbox's clock: by a Go duration
// (Advance, "720h") or to an instant (To), exactly one of them.
type AdvanceRequest struct {
	Advance string
	To      *time.Time
}

// Target returns the instant the request moves a clock reading now to:
// forward only, by at most MaxAdvance. Errors name "advance" or "to".
func (r AdvanceRequest) Target(now time.Time) (time.Time, error) {
	switch {
	case r.Advance != "" && r.To != nil:
		return time.Time{}, errs.Invalid("advance", "give advance or to, not both")
	case r.Advance != "":
		d, err := time.ParseDuration(r.Advance)
		if err != nil || d <= 0 {
			return time.Time{}, errs.Invalid("advance", "must be a positive Go duration such as 720h")
		}
		if d > MaxAdvance {
			return time.Time{}, errs.Invalid("advance", "moves at most 8784h (a leap year) at once")
		}
		return now.Add(d), nil
	case r.To != nil:
		to := r.To.UTC()
		if to.Before(now) {
			return time.Time{}, errs.Invalid("to", "is before the current time "+now.Format(time.RFC3339)+"; time never moves back")
		}
		if to.Sub(now) > MaxAdvance {
			return time.Time{}, errs.Invalid("to", "is more than 8784h (a leap year) ahead")
		}
		return to, nil
	}
	return time.Time{}, errs.Invalid("advance", "give advance or to")
}
