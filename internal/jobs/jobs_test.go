package jobs

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunRepeatsAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var a, b atomic.Int64
	done := make(chan struct{})
	go func() {
		Run(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), []Job{
			{Name: "a", Every: 5 * time.Millisecond, Run: func(context.Context) error { a.Add(1); return nil }},
			{Name: "b", Every: time.Hour, Run: func(context.Context) error { b.Add(1); return errors.New("failing job keeps running") }},
		})
		close(done)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for a.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if a.Load() < 3 || b.Load() != 1 {
		t.Fatalf("job a ran %d times (want ≥ 3), job b %d (want 1: once at start)", a.Load(), b.Load())
	}
}
