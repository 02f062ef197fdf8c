package litedriver_test

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/trellis-cloud/trellis/internal/store/litedriver"
)

// TestPathWithURICharacters: a database path holding "#", "?" or "%" opens
// that file, not a truncated name (subtests named twice get "#01" in their
// temp dirs).
func TestPathWithURICharacters(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "a#01?b%20c")
	path := filepath.Join(dir, "x.db")
	d, err := litedriver.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Write().ExecContext(t.Context(), "CREATE TABLE t (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	var file string
	if err := d.Read().QueryRowContext(t.Context(), "SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&file); err != nil {
		t.Fatal(err)
	}
	if file != path {
		t.Fatalf("opened %q, want %q", file, path)
	}
}

// TestRelativePathSurvivesChdir: a database opened by a relative path
// stays that file for connections opened after the working directory
// changed.
func TestRelativePathSurvivesChdir(t *testing.T) {
	ctx := t.Context()
	t.Chdir(t.TempDir())
	d, err := litedriver.Open(filepath.Join("data", "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Write().ExecContext(ctx, "CREATE TABLE t (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	// Readers are opened lazily: several at once force new connections.
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var n int
			if err := d.Read().QueryRowContext(ctx, "SELECT COUNT(*) FROM t").Scan(&n); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}
