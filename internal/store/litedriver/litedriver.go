// Package litedriver opens SQLite (modernc, pure Go) the way Trellis needs
// it: WAL, one writer connection taking the write lock at BEGIN, a pool of
// readers, and a busy timeout, so concurrent requests queue instead of
// failing.
package litedriver

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/trellis-cloud/trellis/internal/store/db"
)

// Options tune how the database is opened.
type Options struct {
	// SingleConnection sends reads to the writer's one connection too
	// (no reader pool). Tests use it to prove that no code path reads on
	// the pool while it holds a transaction: with one connection such a
	// read waits for ever.
	SingleConnection bool
}

// Open opens (creating if needed) the SQLite database at path.
func Open(path string) (*db.DB, error) { return OpenWith(path, Options{}) }

// OpenWith is Open with options.
func OpenWith(path string, o Options) (*db.DB, error) {
	// The database holds key hashes, sealed secrets and the ledger: a
	// directory made here is the owner's only, and the file is created
	// 0600 before SQLite opens it (SQLite creates it 0644, and gives the
	// -wal and -shm files the database file's mode).
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("sqlite: create %s: %w", dir, err)
		}
	}
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		_ = f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	pragmas := url.Values{}
	for _, p := range []string{
		"busy_timeout(10000)",
		"journal_mode(WAL)",
		"synchronous(NORMAL)",
		"foreign_keys(ON)",
	} {
		pragmas.Add("_pragma", p)
	}
	// The writer takes the write lock at BEGIN (IMMEDIATE) so two
	// transactions never both read and then fail to upgrade; in-process
	// writers queue on the single connection, other processes on the busy
	// timeout.
	wq := url.Values{}
	for k, v := range pragmas {
		wq[k] = v
	}
	wq.Set("_txlock", "immediate")
	// Connections are opened lazily, long after Open: an absolute path
	// keeps them on this file even if the process's working directory
	// changes (an embedded component may chdir).
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	path = abs
	// In a file: URI, "?" starts the options and "#" a fragment: a path
	// holding them (a test's temp dir named after "sub#01") is escaped.
	uriPath := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	w, err := sql.Open("sqlite", "file:"+uriPath+"?"+wq.Encode())
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	if o.SingleConnection {
		d := db.New(w, w, dialect{})
		d.CacheStatements()
		if err := w.Ping(); err != nil {
			_ = d.Close()
			return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
		}
		return d, nil
	}
	r, err := sql.Open("sqlite", "file:"+uriPath+"?"+pragmas.Encode())
	if err != nil {
		_ = w.Close()
		return nil, err
	}
	n := max(4, runtime.NumCPU())
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	d := db.New(w, r, dialect{})
	d.CacheStatements()
	if err := w.Ping(); err != nil {
		_ = d.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return d, nil
}

type dialect struct{}

func (dialect) Name() string { return "sqlite" }

func (dialect) IsUniqueViolation(err error) bool {
	var e *sqlite.Error
	if errors.As(err, &e) {
		c := e.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

func (dialect) IsRetryable(err error) bool {
	var e *sqlite.Error
	if errors.As(err, &e) {
		switch e.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return true
		}
	}
	return false
}

// Timeout reports a database still busy after busy_timeout (db.Tx retries
// it; what is left when the retries are spent is a 503).
func (d dialect) Timeout(err error) string {
	if d.IsRetryable(err) {
		return "database busy"
	}
	return ""
}

func (dialect) Arg(v any) any {
	switch t := v.(type) {
	case time.Time:
		return t.UTC().Format(db.TimeLayout)
	case *time.Time:
		if t == nil {
			return nil
		}
		return t.UTC().Format(db.TimeLayout)
	case db.NullTime:
		if !t.Valid {
			return nil
		}
		return t.Time.UTC().Format(db.TimeLayout)
	}
	return v
}
