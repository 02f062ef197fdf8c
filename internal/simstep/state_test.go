package simstep_test

import (
	"testing"

	"github.com/trellis-cloud/trellis/internal/simstep"
	"github.com/trellis-cloud/trellis/internal/simstep/simsteptest"
)

func TestMemory(t *testing.T) {
	t.Parallel()
	simsteptest.Run(t, &simstep.Memory{})
}

func TestSpace(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	var sp simstep.Space // the zero value keeps its documents in memory
	if err := sp.Update(ctx, func(d simstep.Docs) error { return simstep.Put(d, "vm", "1", map[string]int{"n": 1}) }); err != nil {
		t.Fatal(err)
	}
	// A View's writes are discarded.
	if err := sp.View(ctx, func(d simstep.Docs) error { return d.Delete("vm", "1") }); err != nil {
		t.Fatal(err)
	}
	var got map[string]int
	var ok bool
	if err := sp.View(ctx, func(d simstep.Docs) (err error) { got, ok, err = simstep.Get[map[string]int](d, "vm", "1"); return err }); err != nil {
		t.Fatal(err)
	}
	if !ok || got["n"] != 1 {
		t.Fatalf("vm 1 = %v, %v; want n=1", got, ok)
	}
	all, err := func() (m map[string]map[string]int, err error) {
		err = sp.View(ctx, func(d simstep.Docs) (err error) { m, err = simstep.List[map[string]int](d, "vm"); return err })
		return m, err
	}()
	if err != nil || len(all) != 1 {
		t.Fatalf("list = %v, %v", all, err)
	}
}
