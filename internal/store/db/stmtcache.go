package db

import (
	"container/list"
	"context"
	"database/sql"
	"strings"
	"sync"
)

// maxCachedStatements bounds the cache. The stores use a fixed set of SQL
// texts; when more are seen the least recently used statement is closed,
// so a new text is always prepared.
const maxCachedStatements = 512

type stmtKey struct {
	pool  *sql.DB
	query string
}

// stmtEntry is one cached statement. refs counts the callers using it: an
// evicted statement is closed when the last of them is done, never under a
// running query.
type stmtEntry struct {
	key     stmtKey
	st      *sql.Stmt
	refs    int
	evicted bool
	elem    *list.Element
}

// stmtCache holds one prepared statement per pool and SQL text, least
// recently used first out. database/sql prepares it on each connection the
// first time that connection runs it.
type stmtCache struct {
	mu    sync.Mutex
	max   int
	stmts map[stmtKey]*stmtEntry
	lru   *list.List // front: most recently used
}

func newStmtCache() *stmtCache {
	return &stmtCache{max: maxCachedStatements, stmts: map[stmtKey]*stmtEntry{}, lru: list.New()}
}

// cacheable reports whether query is worth a prepared statement: texts
// built with a variable number of placeholders are marked Varying and
// would only push the fixed ones out.
func cacheable(query string) bool { return !strings.HasPrefix(query, Varying) }

// lookup returns a cached statement without preparing one, and the
// function to call when the caller is done with it.
func (c *stmtCache) lookup(pool *sql.DB, query string) (*sql.Stmt, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.stmts[stmtKey{pool, query}]
	if !ok {
		return nil, func() {}
	}
	return e.st, c.hold(e)
}

// hold marks e used and returns its release; c.mu is held.
func (c *stmtCache) hold(e *stmtEntry) func() {
	e.refs++
	c.lru.MoveToFront(e.elem)
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			e.refs--
			closeNow := e.evicted && e.refs == 0
			c.mu.Unlock()
			if closeNow {
				_ = e.st.Close()
			}
		})
	}
}

// get returns the statement, preparing it if needed, and its release; a
// nil statement means "run the query unprepared" (a varying text, or the
// query failed to prepare, in which case running it reports the error).
// It takes a connection of pool, so it must not be called while the
// caller holds the pool's only connection (a transaction on SQLite's
// writer): transactions use lookup and prepare what they missed after
// they end.
func (c *stmtCache) get(ctx context.Context, pool *sql.DB, query string) (*sql.Stmt, func()) {
	if !cacheable(query) {
		return nil, func() {}
	}
	if st, release := c.lookup(pool, query); st != nil {
		return st, release
	}
	st, err := pool.PrepareContext(context.WithoutCancel(ctx), query)
	if err != nil {
		return nil, func() {}
	}
	k := stmtKey{pool, query}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.stmts[k]; ok {
		_ = st.Close() // another goroutine prepared it first
		return prev.st, c.hold(prev)
	}
	e := &stmtEntry{key: k, st: st}
	e.elem = c.lru.PushFront(e)
	c.stmts[k] = e
	for c.lru.Len() > c.max {
		c.evict(c.lru.Back().Value.(*stmtEntry))
	}
	return st, c.hold(e)
}

// evict drops e from the cache, closing it now or when its last user is
// done; c.mu is held.
func (c *stmtCache) evict(e *stmtEntry) {
	c.lru.Remove(e.elem)
	delete(c.stmts, e.key)
	e.evicted = true
	if e.refs == 0 {
		_ = e.st.Close()
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.stmts {
		c.evict(e)
	}
}
