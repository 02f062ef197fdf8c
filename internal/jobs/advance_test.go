package jobs

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/clock"
)

func TestAdvanceStopsAtEveryStepInOrder(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 31, 22, 30, 0, 0, time.UTC)
	clk := clock.NewFake(start)
	var log []string
	work := []Timed{
		{Name: "first", Run: func(_ context.Context, at time.Time) error {
			if !clk.Now().Equal(at) {
				t.Errorf("clock reads %v while work runs at %v", clk.Now(), at)
			}
			log = append(log, "first@"+at.Format("15:04"))
			return nil
		}},
		{Name: "second", Run: func(_ context.Context, at time.Time) error {
			log = append(log, "second@"+at.Format("15:04"))
			return nil
		}},
	}
	to := time.Date(2026, 2, 1, 0, 45, 0, 0, time.UTC)
	n, err := Advance(t.Context(), clk, to, time.Hour, work, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"first@23:00", "second@23:00", "first@00:00", "second@00:00", "first@00:45", "second@00:45"}
	if n != 3 || len(log) != len(want) {
		t.Fatalf("stops %d, log %v; want 3 stops, %v", n, log, want)
	}
	for i := range want {
		if log[i] != want[i] {
			t.Fatalf("log %v, want %v", log, want)
		}
	}
	if !clk.Now().Equal(to) {
		t.Fatalf("clock at %v, want %v", clk.Now(), to)
	}
}

func TestAdvanceStopsOnErrorAndRefusesThePast(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := clock.NewFake(start)
	boom := errors.New("boom")
	calls := 0
	work := []Timed{{Name: "w", Run: func(context.Context, time.Time) error {
		calls++
		if calls == 2 {
			return boom
		}
		return nil
	}}}
	n, err := Advance(t.Context(), clk, start.Add(5*time.Hour), time.Hour, work, nil)
	if !errors.Is(err, boom) || n != 2 || calls != 2 {
		t.Fatalf("got n=%d calls=%d err=%v; want the advance to stop at the failing second stop", n, calls, err)
	}
	if !clk.Now().Equal(start.Add(2 * time.Hour)) {
		t.Fatalf("clock at %v; want it left at the failing stop", clk.Now())
	}
	if _, err := Advance(t.Context(), clk, start, time.Hour, work, nil); err == nil {
		t.Fatal("moving the clock back was accepted")
	}
}

func TestRunAtRunsEachStepOnItsOwn(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	boom := errors.New("boom")
	var ran []string
	step := func(name string, err error, after ...string) Timed {
		return Timed{Name: name, After: after, Run: func(context.Context, time.Time) error {
			ran = append(ran, name)
			return err
		}}
	}
	err := RunAt(t.Context(), at, []Timed{
		step("meter", boom), step("other", nil), step("invoice", nil, "meter", "other"),
		step("pay", nil, "invoice"), step("dunning", nil)}, nil)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "invoice") || !strings.Contains(err.Error(), "pay") {
		t.Fatalf("err %v; want the meter's failure and the two skips", err)
	}
	if strings.Join(ran, ",") != "meter,other,dunning" {
		t.Fatalf("ran %v; want meter, other, dunning (invoice and pay wait for the meter)", ran)
	}
}
