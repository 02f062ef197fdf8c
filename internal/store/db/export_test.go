package db

// Cached reports whether the statement cache holds a prepared statement
// for query on d's reader pool (tests only).
func Cached(d *DB, query string) bool {
	if d.stmts == nil {
		return false
	}
	st, release := d.stmts.lookup(d.read, query)
	release()
	return st != nil
}
