package db

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStatements bounds the cache: the stores use a fixed set of SQL
// texts, plus a few built with a variable number of placeholders, which run
// unprepared once the cache is full.
const maxCachedStatements = 512

type stmtKey struct {
	pool  *sql.DB
	query string
}

// stmtCache holds one prepared statement per pool and SQL text. database/sql
// prepares it on each connection the first time that connection runs it.
type stmtCache struct {
	mu    sync.Mutex
	stmts map[stmtKey]*sql.Stmt
}

func newStmtCache() *stmtCache { return &stmtCache{stmts: map[stmtKey]*sql.Stmt{}} }

// lookup returns a cached statement without preparing one.
func (c *stmtCache) lookup(pool *sql.DB, query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stmts[stmtKey{pool, query}]
}

// get returns the statement, preparing it if needed; nil means "run the
// query unprepared" (cache full, or the query failed to prepare, in which
// case running it reports the error). It takes a connection of pool, so it
// must not be called while the caller holds the pool's only connection (a
// transaction on SQLite's writer): transactions use lookup and prepare what
// they missed after they end.
func (c *stmtCache) get(ctx context.Context, pool *sql.DB, query string) *sql.Stmt {
	k := stmtKey{pool, query}
	c.mu.Lock()
	st, ok := c.stmts[k]
	full := len(c.stmts) >= maxCachedStatements
	c.mu.Unlock()
	if ok || full {
		return st
	}
	st, err := pool.PrepareContext(context.WithoutCancel(ctx), query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.stmts[k]; ok {
		_ = st.Close() // another goroutine prepared it first
		return prev
	}
	c.stmts[k] = st
	return st
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, st := range c.stmts {
		_ = st.Close()
		delete(c.stmts, k)
	}
}
