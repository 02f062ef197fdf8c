package migrations_test

import (
	"io/fs"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/store/migrations"
)

// Both databases must go through the same schema versions, so a node can
// move between them and storetest compares like with like.
func TestSameVersionsOnBothDatabases(t *testing.T) {
	t.Parallel()
	list := func(dialect string) []string {
		fsys, err := migrations.FS(dialect)
		if err != nil {
			t.Fatal(err)
		}
		names, err := fs.Glob(fsys, "*.sql")
		if err != nil {
			t.Fatal(err)
		}
		if len(names) == 0 {
			t.Fatalf("%s: no migrations", dialect)
		}
		return names
	}
	pg, lite := list("postgres"), list("sqlite")
	if d := cmp.Diff(pg, lite); d != "" {
		t.Fatalf("migration files differ between postgres and sqlite (-postgres +sqlite):\n%s", d)
	}
}
