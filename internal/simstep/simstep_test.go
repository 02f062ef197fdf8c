package simstep_test

import (
	"errors"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/simstep"
)

func TestSteps(t *testing.T) {
	t.Parallel()
	var s simstep.Steps // the zero value is ready to use
	if err := s.Begin("a"); err != nil {
		t.Fatal(err)
	}
	s.FailNext("a", 2)
	for i := range 2 {
		if err := s.Begin("a"); !errors.Is(err, simstep.ErrInjected) {
			t.Fatalf("call %d: got %v, want ErrInjected", i, err)
		}
	}
	if err := s.Begin("a"); err != nil {
		t.Fatal(err)
	}
	if got := s.Calls("a"); got != 4 {
		t.Fatalf("calls = %d, want 4", got)
	}
	if got := s.Calls("b"); got != 0 {
		t.Fatalf("calls of b = %d, want 0", got)
	}

	n := simstep.New(time.Second)
	if n.Delay() != time.Second {
		t.Fatalf("delay = %v", n.Delay())
	}
	n.SetDelay(0)
	if n.Delay() != 0 {
		t.Fatalf("delay after SetDelay = %v", n.Delay())
	}
}
