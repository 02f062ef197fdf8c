package native

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/jobs"
)

// fixtureSandbox moves the fixture's fake clock with the real jobs.Advance
// and records the instants its one piece of work ran at.
type fixtureSandbox struct {
	clk *clock.Fake
	ran []time.Time
}

func (f *fixtureSandbox) Now() time.Time { return f.clk.Now() }

func (f *fixtureSandbox) Advance(ctx context.Context, to time.Time) (int, error) {
	return jobs.Advance(ctx, f.clk, to, time.Hour, []jobs.Timed{{Name: "record", Run: func(_ context.Context, at time.Time) error {
		f.ran = append(f.ran, at)
		return nil
	}}}, nil)
}

func (e *env) scenarioSandbox(t *testing.T) {
	sb := e.deps.Sandbox.(*fixtureSandbox)
	start := e.clock.Now()
	got := e.ok(t, http.StatusOK, "GET", "/sandbox/clock", aViewer, "")
	if got["sandbox"] != true || got["now"] != start.Format(time.RFC3339) {
		t.Fatalf("GET clock = %v, want sandbox at %v", got, start)
	}

	// Only provider admins move the clock.
	for _, key := range []string{aAdmin, provViewer} {
		wantProblem(t, e.do(t, e.req("POST", "/sandbox/clock", key, `{"advance":"1h"}`)), http.StatusForbidden, "")
	}
	for _, c := range []struct{ body, field string }{
		{`{}`, "advance"},
		{`{"advance":"-1h"}`, "advance"},
		{`{"advance":"soon"}`, "advance"},
		{`{"advance":"8785h"}`, "advance"},
		{`{"advance":"1h","to":"2030-01-01T00:00:00Z"}`, "advance"},
		{`{"to":"2000-01-01T00:00:00Z"}`, "to"},
	} {
		wantProblem(t, e.do(t, e.req("POST", "/sandbox/clock", provAdmin, c.body)), http.StatusBadRequest, c.field)
	}
	if len(sb.ran) != 0 || !e.clock.Now().Equal(start) {
		t.Fatalf("refused advances moved the clock to %v or ran work %v", e.clock.Now(), sb.ran)
	}

	got = e.ok(t, http.StatusOK, "POST", "/sandbox/clock", provAdmin, `{"advance":"2h30m"}`)
	want := start.Add(150 * time.Minute)
	if got["now"] != want.Format(time.RFC3339) || got["stops"] != 3.0 {
		t.Fatalf("advance = %v, want now %v after 3 stops", got, want)
	}
	if len(sb.ran) != 3 || !sb.ran[0].Equal(start.Truncate(time.Hour).Add(time.Hour)) || !sb.ran[2].Equal(want) {
		t.Fatalf("work ran at %v", sb.ran)
	}
	to := want.Add(time.Hour).Truncate(time.Hour)
	got = e.ok(t, http.StatusOK, "POST", "/sandbox/clock", provAdmin, `{"to":"`+to.Format(time.RFC3339)+`"}`)
	if got["now"] != to.Format(time.RFC3339) || got["stops"] != 1.0 || !e.clock.Now().Equal(to) {
		t.Fatalf("advance to %v = %v (clock %v)", to, got, e.clock.Now())
	}
}
