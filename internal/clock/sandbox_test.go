package clock

import (
	"testing"
	"time"
)

func TestSandboxMovesForwardOnly(t *testing.T) {
	t.Parallel()
	real := NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := NewSandbox(real)
	if got := s.Now(); !got.Equal(real.Now()) {
		t.Fatalf("a new sandbox reads %v, want the real time %v", got, real.Now())
	}
	target := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	s.Set(target)
	if got := s.Now(); !got.Equal(target) {
		t.Fatalf("after Set: %v, want %v", got, target)
	}
	real.Advance(time.Hour) // real time keeps flowing under the offset
	if got, want := s.Now(), target.Add(time.Hour); !got.Equal(want) {
		t.Fatalf("an hour later: %v, want %v", got, want)
	}
	s.Set(target) // back in time: refused
	if got, want := s.Now(), target.Add(time.Hour); !got.Equal(want) {
		t.Fatalf("after a backwards Set: %v, want it unchanged at %v", got, want)
	}
}
