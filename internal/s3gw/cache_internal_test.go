package s3gw

import (
	"strconv"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/clock"
)

// Each entry expires ttl after it was put, on the injected clock; forget
// drops one at once; a ttl ≤ 0 caches nothing.
func TestTTLCache(t *testing.T) {
	clk := clock.NewFake(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC))
	c := newTTLCache[int](clk, 2*time.Second)
	c.put("a", 1)
	clk.Advance(time.Second)
	c.put("b", 2)
	if v, ok := c.get("a"); !ok || v != 1 {
		t.Fatalf("a after 1 s: %d %t", v, ok)
	}
	clk.Advance(time.Second - time.Nanosecond)
	if _, ok := c.get("a"); !ok {
		t.Fatal("a expired before its 2 s")
	}
	clk.Advance(time.Nanosecond)
	if _, ok := c.get("a"); ok {
		t.Fatal("a still there after its 2 s")
	}
	if v, ok := c.get("b"); !ok || v != 2 {
		t.Fatalf("b expired with a: %d %t", v, ok)
	}
	c.forget("b")
	if _, ok := c.get("b"); ok {
		t.Fatal("b still there after forget")
	}
	c.put("a", 3)
	if v, ok := c.get("a"); !ok || v != 3 {
		t.Fatalf("a put again: %d %t", v, ok)
	}
	for _, ttl := range []time.Duration{0, -1} {
		off := newTTLCache[int](clk, ttl)
		off.put("a", 1)
		if _, ok := off.get("a"); ok {
			t.Fatalf("ttl %v cached", ttl)
		}
		off.forget("a")
	}
}

// The cache holds at most cacheSize entries: the least recently used go
// first (a flood of random keys cannot grow it).
func TestTTLCacheBounded(t *testing.T) {
	clk := clock.NewFake(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC))
	c := newTTLCache[int](clk, time.Hour)
	c.put("first", 1)
	for i := range cacheSize {
		if i == cacheSize/2 {
			c.get("first") // recently used: stays
		}
		c.put(strconv.Itoa(i), i)
	}
	if _, ok := c.get("first"); !ok {
		t.Fatal("a recently used entry was evicted")
	}
	if n := c.lru.Len(); n != cacheSize {
		t.Fatalf("%d entries, want %d", n, cacheSize)
	}
}
