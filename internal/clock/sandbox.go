package clock

import (
	"sync"
	"time"
)

// Sandbox is the clock of a sandbox: real time shifted by an offset that
// only grows. The operator moves it ahead (a month of billing in a second)
// and it keeps running from there at real speed.
type Sandbox struct {
	mu     sync.Mutex
	real   Clock
	offset time.Duration
}

// NewSandbox returns a sandbox clock that starts at real's time.
func NewSandbox(real Clock) *Sandbox { return &Sandbox{real: real} }

// Now returns the sandbox's time.
func (s *Sandbox) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.real.Now().Add(s.offset).UTC()
}

// Set moves the clock to t. Time never runs back in a sandbox (closed usage
// hours would reopen and issued invoices would predate their usage), so a
// t before Now leaves the clock where it is.
func (s *Sandbox) Set(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.real.Now()
	if d := t.Sub(now); d > s.offset {
		s.offset = d
	}
}
