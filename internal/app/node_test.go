package app_test

import (
	"testing"

	"github.com/trellis-cloud/trellis/internal/app"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// Every start is a node of its own, whatever data dir it shares; a node id
// given twice is refused while its first holder is alive, and free again
// after that one stops.
func TestNodeIdentity(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		dir := t.TempDir()
		start := func(id string) (*app.App, error) {
			t.Helper()
			a, err := app.New(ctx, d, app.Config{DataDir: dir, NodeID: id})
			if err != nil {
				t.Fatal(err)
			}
			return a, a.StartNode(ctx)
		}
		a1, err := start("")
		if err != nil {
			t.Fatal(err)
		}
		a2, err := start("")
		if err != nil {
			t.Fatal(err)
		}
		if a1.Node.ID() == a2.Node.ID() || !ids.Valid(a1.Node.ID()) {
			t.Fatalf("two nodes on one data dir: ids %q and %q", a1.Node.ID(), a2.Node.ID())
		}
		given := "node-" + ids.New()
		b1, err := start(given)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := start(given); !errs.Is(err, errs.KindConflict) {
			t.Fatalf("a second live node with id %s: %v", given, err)
		}
		b1.Close()
		b2, err := start(given)
		if err != nil {
			t.Fatalf("the id after its holder stopped: %v", err)
		}
		if alive, err := a1.Nodes.Alive(ctx, b2.Node.ID()); err != nil || !alive {
			t.Fatalf("alive %v %v", alive, err)
		}
		id2 := a2.Node.ID()
		a2.Close()
		if alive, err := a1.Nodes.Alive(ctx, id2); err != nil || alive {
			t.Fatalf("a stopped node alive: %v %v", alive, err)
		}
		b2.Close()
		a1.Close()
	})
}
