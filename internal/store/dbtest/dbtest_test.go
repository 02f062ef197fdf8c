package dbtest

import (
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/store/migrations"
)

// Every database is migrated to the last version and is its own: what one
// test writes, the next one does not see.
func TestEachDatabaseIsMigratedAndFresh(t *testing.T) {
	t.Parallel()
	for _, kind := range Kinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			want := lastVersion(t, kind)
			for i := range 2 {
				ds := Nodes(t, kind, 2)
				for _, d := range ds {
					got, err := migrations.Version(t.Context(), d)
					if err != nil {
						t.Fatal(err)
					}
					if got != want {
						t.Fatalf("database %d: schema version %d, want %d", i, got, want)
					}
				}
				var n int
				if err := ds[1].Read().QueryRowContext(t.Context(), "SELECT COUNT(*) FROM dbtest_marker").Scan(&n); err == nil {
					t.Fatalf("database %d already has the table a previous one made (%d rows)", i, n)
				}
				if _, err := ds[0].Write().ExecContext(t.Context(), "CREATE TABLE dbtest_marker (x INTEGER)"); err != nil {
					t.Fatal(err)
				}
				if err := ds[1].Read().QueryRowContext(t.Context(), "SELECT COUNT(*) FROM dbtest_marker").Scan(&n); err != nil {
					t.Fatalf("the second pool does not see the first's database: %v", err)
				}
			}
		})
	}
}

func lastVersion(t *testing.T, kind string) int64 {
	fsys, err := migrations.FS(kind)
	if err != nil {
		t.Fatal(err)
	}
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("no migrations: %v", err)
	}
	var last int64
	for _, n := range names {
		v, err := strconv.ParseInt(strings.SplitN(n, "_", 2)[0], 10, 64)
		if err != nil {
			t.Fatalf("migration %s: %v", n, err)
		}
		last = max(last, v)
	}
	return last
}

// BenchmarkOpen is a test's database setup (a copy of the template);
// BenchmarkMigrate is what it was before the template (a fresh file
// migrated).
func BenchmarkOpen(b *testing.B) {
	for _, kind := range Kinds() {
		b.Run(kind, func(b *testing.B) {
			for b.Loop() {
				Open(b, kind)
			}
		})
	}
}

func BenchmarkMigrate(b *testing.B) {
	for _, kind := range Kinds() {
		b.Run(kind, func(b *testing.B) {
			for b.Loop() {
				if kind == "sqlite" {
					OpenAt(b, kind, filepath.Join(b.TempDir(), "trellis.db"))
				} else {
					OpenAt(b, kind, NewPostgresDatabase(b))
				}
			}
		})
	}
}
