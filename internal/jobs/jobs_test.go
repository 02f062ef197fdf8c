package jobs

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// Run's tickers run on synctest's fake clock: 12 ms pass at once, and a
// job every 5 ms has run exactly three times (at 0, 5 and 10 ms).
func TestRunRepeatsAndStops(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		var a, b atomic.Int64
		done := make(chan struct{})
		go func() {
			Run(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), []Job{
				{Name: "a", Every: 5 * time.Millisecond, Run: func(context.Context) error { a.Add(1); return nil }},
				{Name: "b", Every: time.Hour, Run: func(context.Context) error { b.Add(1); return errors.New("failing job keeps running") }},
			})
			close(done)
		}()
		time.Sleep(12 * time.Millisecond)
		synctest.Wait()
		if a.Load() != 3 || b.Load() != 1 {
			t.Errorf("after 12 ms job a ran %d times (want 3: at 0, 5, 10 ms), job b %d (want 1: once at start)", a.Load(), b.Load())
		}
		cancel()
		<-done // a Run that does not return leaves the bubble deadlocked: synctest fails the test
	})
}
