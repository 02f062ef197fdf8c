package ratelimit

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// clock is a fake, settable time source safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestBurstThenRefuse(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := New(2, 3, c.Now) // a token every 500ms, 3 at once

	for i := range 3 {
		if ok, d := l.Allow("k"); !ok || d != 0 {
			t.Fatalf("request %d in burst refused (retry %v)", i, d)
		}
	}
	// Refusals must not consume tokens, so repeated refusals report the
	// same wait.
	for range 3 {
		ok, d := l.Allow("k")
		if ok {
			t.Fatal("request over burst allowed")
		}
		if d != 500*time.Millisecond {
			t.Fatalf("retryAfter = %v, want 500ms", d)
		}
		if s := RetryAfterSeconds(d); s != 1 {
			t.Fatalf("Retry-After = %d, want 1", s)
		}
	}
}

func TestRefill(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := New(1, 2, c.Now)
	l.Allow("k")
	l.Allow("k")
	if ok, d := l.Allow("k"); ok || d != time.Second {
		t.Fatalf("empty bucket: ok=%v retry=%v, want refused with 1s", ok, d)
	}

	c.Advance(400 * time.Millisecond)
	if ok, d := l.Allow("k"); ok || d != 600*time.Millisecond {
		t.Fatalf("partly refilled: ok=%v retry=%v, want refused with 600ms", ok, d)
	}

	c.Advance(600 * time.Millisecond)
	if ok, _ := l.Allow("k"); !ok {
		t.Fatal("not allowed after refill")
	}
	if ok, _ := l.Allow("k"); ok {
		t.Fatal("refill gave more than one token")
	}

	c.Advance(time.Hour) // refills to burst, no further
	for i := range 2 {
		if ok, _ := l.Allow("k"); !ok {
			t.Fatalf("request %d after long idle refused", i)
		}
	}
	if ok, _ := l.Allow("k"); ok {
		t.Fatal("bucket exceeded burst after long idle")
	}
}

func TestKeysIndependent(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := New(1, 1, c.Now)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("a refused")
	}
	if ok, _ := l.Allow("a"); ok {
		t.Fatal("a allowed twice")
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Fatal("b refused because of a")
	}
}

func TestDisabled(t *testing.T) {
	t.Parallel()
	for _, rps := range []float64{0, -1} {
		l := New(rps, 1, newClock().Now)
		for range 1000 {
			if ok, d := l.Allow("k"); !ok || d != 0 {
				t.Fatalf("rps=%v: refused", rps)
			}
		}
	}
}

func TestZeroBurstMeansOne(t *testing.T) {
	t.Parallel()
	l := New(1, 0, newClock().Now)
	if ok, _ := l.Allow("k"); !ok {
		t.Fatal("burst 0 should still allow one request")
	}
	if ok, d := l.Allow("k"); ok || d != time.Second {
		t.Fatalf("ok=%v retry=%v, want refused with 1s", ok, d)
	}
}

func TestIdleEviction(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := New(10, 5, c.Now)
	for i := range 100 {
		l.Allow(fmt.Sprint("old", i))
	}
	c.Advance(idleTTL - time.Second)
	l.Allow("recent")
	if n := len(l.buckets); n != 101 {
		t.Fatalf("evicted too early: %d buckets", n)
	}

	// Sweeps run at most once per sweepInterval; the next one is due now.
	c.Advance(sweepInterval)
	l.Allow("new")
	if n := len(l.buckets); n != 2 {
		t.Fatalf("after idle TTL: %d buckets, want recent+new", n)
	}
}

func TestSlowRateKeepsBucketUntilFull(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := New(1.0/3600, 1, c.Now) // one per hour
	l.Allow("k")
	c.Advance(idleTTL + sweepInterval)
	if ok, _ := l.Allow("k"); ok {
		t.Fatal("eviction reset a bucket that had not refilled")
	}
	c.Advance(time.Hour)
	if ok, _ := l.Allow("k"); !ok {
		t.Fatal("not refilled after an hour")
	}
}

func TestConcurrent(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := New(1, 10, c.Now)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := map[string]int{}
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				key := fmt.Sprint("k", i%4)
				if ok, _ := l.Allow(key); ok {
					mu.Lock()
					allowed[key]++
					mu.Unlock()
				}
				if g == 0 && i%50 == 0 {
					c.Advance(time.Minute) // also triggers sweeps
				}
			}
		})
	}
	wg.Wait()
	total := 0
	for _, n := range allowed {
		total += n
	}
	// Each key gets at most its burst plus refills: 4 keys × (10 + 4 advances × 10 capped at burst).
	if total == 0 || total > 4*10*5 {
		t.Fatalf("allowed %d requests, outside the possible range", total)
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want int
	}{
		{0, 1},
		{-time.Second, 1},
		{time.Nanosecond, 1},
		{time.Second, 1},
		{time.Second + time.Nanosecond, 2},
		{1500 * time.Millisecond, 2},
		{59 * time.Second, 59},
	}
	for _, tt := range tests {
		if got := RetryAfterSeconds(tt.d); got != tt.want {
			t.Errorf("RetryAfterSeconds(%v) = %d, want %d", tt.d, got, tt.want)
		}
	}
}
