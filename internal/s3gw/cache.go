package s3gw

import (
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/trellis-cloud/trellis/internal/clock"
)

// cacheSize bounds each cache: a flood of random access keys or bucket
// names evicts the least recently used entries instead of growing it.
const cacheSize = 100_000

// ttlCache keeps answers for ttl on the app clock (so tests and the sandbox
// move time instead of waiting), each entry expiring on its own. A nil
// *ttlCache (ttl ≤ 0) caches nothing.
type ttlCache[V any] struct {
	clk clock.Clock
	ttl time.Duration
	lru *lru.Cache[string, stamped[V]]
}

type stamped[V any] struct {
	v       V
	expires time.Time
}

func newTTLCache[V any](clk clock.Clock, ttl time.Duration) *ttlCache[V] {
	if ttl <= 0 {
		return nil
	}
	l, err := lru.New[string, stamped[V]](cacheSize)
	if err != nil {
		panic(err) // only for a size ≤ 0
	}
	return &ttlCache[V]{clk: clk, ttl: ttl, lru: l}
}

// get returns the entry of k while it is fresh.
func (c *ttlCache[V]) get(k string) (V, bool) {
	var zero V
	if c == nil {
		return zero, false
	}
	e, ok := c.lru.Get(k)
	if !ok {
		return zero, false
	}
	if !c.clk.Now().Before(e.expires) {
		c.lru.Remove(k)
		return zero, false
	}
	return e.v, true
}

// put keeps v for k for the cache's ttl from now.
func (c *ttlCache[V]) put(k string, v V) {
	if c == nil {
		return
	}
	c.lru.Add(k, stamped[V]{v: v, expires: c.clk.Now().Add(c.ttl)})
}

// forget drops k at once.
func (c *ttlCache[V]) forget(k string) {
	if c == nil {
		return
	}
	c.lru.Remove(k)
}
