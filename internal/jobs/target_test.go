package jobs

import (
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/errs"
)

// TestAdvanceTarget: a sandbox's clock moves forward only, by a duration
// or to an instant (one of them), at most a leap year at once; each
// refusal names its field.
func TestAdvanceTarget(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { x := now.Add(d); return &x }
	for _, c := range []struct {
		name  string
		in    AdvanceRequest
		want  time.Time
		field string
	}{
		{"by a duration", AdvanceRequest{Advance: "720h"}, now.Add(720 * time.Hour), ""},
		{"to an instant", AdvanceRequest{To: at(time.Hour)}, now.Add(time.Hour), ""},
		{"to now", AdvanceRequest{To: at(0)}, now, ""},
		{"by a leap year", AdvanceRequest{Advance: "8784h"}, now.Add(MaxAdvance), ""},
		{"neither", AdvanceRequest{}, time.Time{}, "advance"},
		{"both", AdvanceRequest{Advance: "1h", To: at(time.Hour)}, time.Time{}, "advance"},
		{"not a duration", AdvanceRequest{Advance: "a month"}, time.Time{}, "advance"},
		{"zero", AdvanceRequest{Advance: "0s"}, time.Time{}, "advance"},
		{"backwards", AdvanceRequest{Advance: "-1h"}, time.Time{}, "advance"},
		{"too far", AdvanceRequest{Advance: "8785h"}, time.Time{}, "advance"},
		{"to the past", AdvanceRequest{To: at(-time.Second)}, time.Time{}, "to"},
		{"to too far", AdvanceRequest{To: at(MaxAdvance + time.Second)}, time.Time{}, "to"},
	} {
		got, err := c.in.Target(now)
		if c.field == "" {
			if err != nil || !got.Equal(c.want) {
				t.Errorf("%s: %v, %v; want %v", c.name, got, err, c.want)
			}
			continue
		}
		if !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != c.field {
			t.Errorf("%s: %v, want Invalid naming %q", c.name, err, c.field)
		}
	}
}
