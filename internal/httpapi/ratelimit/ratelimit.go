// Package ratelimit is a per-key token-bucket limiter (keys are typically an
// API key or a client address) with bounded memory.
package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

const (
	// idleTTL is how long a key must be unused before its bucket may be
	// dropped (longer if the bucket takes longer to refill; see New).
	idleTTL = 10 * time.Minute
	// sweepInterval spaces out the sweeps so their cost, a walk over all
	// keys, stays small per call however many keys there are.
	sweepInterval = time.Minute
)

// Limiter holds one token bucket per key. It is safe for concurrent use.
type Limiter struct {
	limit rate.Limit
	burst int
	now   func() time.Time
	ttl   time.Duration // idle time after which a key's bucket is full again and can be dropped

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// New returns a limiter allowing each key rps requests per second with bursts
// of burst (at least 1). rps <= 0 disables limiting. now is the clock, so
// tests can drive time; pass time.Now in production.
func New(rps float64, burst int, now func() time.Time) *Limiter {
	burst = max(burst, 1)
	l := &Limiter{
		limit:   rate.Limit(rps),
		burst:   burst,
		now:     now,
		buckets: make(map[string]*bucket),
	}
	if rps > 0 {
		// Dropping a bucket equals refilling it, so keep it at least until
		// it would be full anyway; otherwise a very slow rate could be
		// dodged by waiting out the TTL.
		l.ttl = max(idleTTL, time.Duration(float64(burst)/rps*float64(time.Second)))
	}
	l.lastSweep = now()
	return l
}

// Allow takes a token from key's bucket. If none is available it returns
// false and how long until one will be.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	if l.limit <= 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	// Read the clock under the lock so each bucket sees time move forward:
	// rate.Limiter rewinds its bookkeeping on an earlier time and would
	// then refill the same interval twice.
	now := l.now()
	if now.Sub(l.lastSweep) >= sweepInterval {
		l.sweep(now)
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now

	// Reserve rather than AllowN so a refusal can say when to retry, and
	// use the *At/*From variants so the injected clock is honoured.
	r := b.lim.ReserveN(now, 1)
	if !r.OK() { // only if n > burst, which New rules out
		return false, rate.InfDuration
	}
	if d := r.DelayFrom(now); d > 0 {
		// We are not going to wait: give the token back.
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep drops buckets idle for longer than the TTL. l.mu must be held.
func (l *Limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if now.Sub(b.seen) > l.ttl {
			delete(l.buckets, k)
		}
	}
	l.lastSweep = now
}

// RetryAfterSeconds converts a retry delay to a Retry-After header value:
// whole seconds, rounded up, at least 1 (0 would invite an immediate retry
// that is still refused).
func RetryAfterSeconds(d time.Duration) int {
	s := d / time.Second
	if d%time.Second != 0 {
		s++
	}
	return int(max(s, 1))
}

// Blocked reports, without taking a token, whether key's bucket is empty,
// and how long until it holds one again. A guard that counts only some
// events (failed authentications) asks this before the work and calls
// Allow after an event.
func (l *Limiter) Blocked(key string) (blocked bool, retryAfter time.Duration) {
	if l.limit <= 0 {
		return false, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		return false, 0
	}
	now := l.now()
	if tokens := b.lim.TokensAt(now); tokens < 1 {
		return true, time.Duration((1 - tokens) / float64(l.limit) * float64(time.Second))
	}
	return false, 0
}
