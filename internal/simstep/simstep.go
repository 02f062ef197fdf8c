// Package simstep is what the simulated providers (compute/sim,
// network/sim, services/sim, orders/sim) share: the State their fake cloud
// lives in (the database, shared by every node, or memory for unit tests),
// the step delay a service schedules its step jobs by, failures a test
// injects per step, and how often each step was called. The last three
// are per process: they are test hooks. Steps has its own mutex, so a
// simulator may call Begin while holding its own lock (never the other
// way round).
package simstep

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrInjected is the error of a failure injected with FailNext.
var ErrInjected = errors.New("sim: injected failure")

// Steps counts calls and injects failures per step name. The zero value is
// ready to use (no delay).
type Steps struct {
	mu    sync.Mutex
	delay time.Duration
	fail  map[string]int
	calls map[string]int
}

// New returns Steps with the given step delay.
func New(delay time.Duration) Steps { return Steps{delay: delay} }

// Delay is the time each step takes.
func (s *Steps) Delay() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.delay
}

// SetDelay changes the step delay.
func (s *Steps) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// FailNext makes the next n calls of step fail with ErrInjected.
func (s *Steps) FailNext(step string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail == nil {
		s.fail = map[string]int{}
	}
	s.fail[step] = n
}

// Calls returns how many times step was called (failed calls included).
func (s *Steps) Calls(step string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[step]
}

// Begin counts a call of step and consumes an injected failure, which it
// returns wrapping ErrInjected.
func (s *Steps) Begin(step string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.calls == nil {
		s.calls = map[string]int{}
	}
	s.calls[step]++
	if s.fail[step] > 0 {
		s.fail[step]--
		return fmt.Errorf("%s: %w", step, ErrInjected)
	}
	return nil
}
