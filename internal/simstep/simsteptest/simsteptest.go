// Package simsteptest is the conformance suite of simstep.State: the
// in-memory State and the database's run the same checks, so the sim
// providers behave the same on either.
package simsteptest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/trellis-cloud/trellis/internal/simstep"
)

// Run checks st, which must be empty.
func Run(t *testing.T, st simstep.State) {
	ctx := context.Background()
	update := func(space string, fn func(simstep.Docs) error) {
		t.Helper()
		if err := st.Update(ctx, space, fn); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("documents", func(t *testing.T) {
		update("a", func(d simstep.Docs) error {
			return errors.Join(d.Put("vm", "1", []byte(`{"n":1}`)), d.Put("vm", "2", []byte(`{"n":2}`)),
				d.Put("disk", "1", []byte(`"x"`)))
		})
		update("a", func(d simstep.Docs) error {
			if doc, ok, err := d.Get("vm", "1"); err != nil || !ok || string(doc) != `{"n":1}` {
				return fmt.Errorf("get vm 1 = %s, %v, %v", doc, ok, err)
			}
			if _, ok, err := d.Get("vm", "3"); err != nil || ok {
				return fmt.Errorf("get vm 3 = %v, %v; want absent", ok, err)
			}
			if all, err := d.List("vm"); err != nil || len(all) != 2 || string(all["2"]) != `{"n":2}` {
				return fmt.Errorf("list vm = %s, %v", all, err)
			}
			if err := d.Put("vm", "1", []byte(`{"n":10}`)); err != nil {
				return err
			}
			return d.Delete("vm", "2")
		})
		update("a", func(d simstep.Docs) error {
			if all, err := d.List("vm"); err != nil || len(all) != 1 || string(all["1"]) != `{"n":10}` {
				return fmt.Errorf("after put and delete: %s, %v", all, err)
			}
			return d.Delete("vm", "missing") // deleting what is gone is no error
		})
		// Spaces are apart.
		update("b", func(d simstep.Docs) error {
			if all, err := d.List("vm"); err != nil || len(all) != 0 {
				return fmt.Errorf("space b sees %s, %v", all, err)
			}
			return nil
		})
	})
	t.Run("a failed update keeps nothing", func(t *testing.T) {
		boom := errors.New("boom")
		err := st.Update(ctx, "c", func(d simstep.Docs) error {
			if err := d.Put("vm", "1", []byte(`{}`)); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("update = %v, want boom", err)
		}
		update("c", func(d simstep.Docs) error {
			if _, ok, err := d.Get("vm", "1"); err != nil || ok {
				return fmt.Errorf("the failed update's document is there (%v, %v)", ok, err)
			}
			return nil
		})
	})
	t.Run("updates of one space do not lose each other's changes", func(t *testing.T) {
		// Every update reads a counter and writes it back plus one; with
		// two updates interleaved, one increment would be lost.
		const n = 24
		var wg sync.WaitGroup
		errc := make(chan error, n)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errc <- st.Update(ctx, "d", func(d simstep.Docs) error {
					doc, _, err := d.Get("counter", "c")
					if err != nil {
						return err
					}
					v, _ := strconv.Atoi(string(doc))
					return d.Put("counter", "c", []byte(strconv.Itoa(v+1)))
				})
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatal(err)
			}
		}
		update("d", func(d simstep.Docs) error {
			if doc, _, err := d.Get("counter", "c"); err != nil || string(doc) != strconv.Itoa(n) {
				return fmt.Errorf("counter = %s (%v), want %d", doc, err, n)
			}
			return nil
		})
	})
}
