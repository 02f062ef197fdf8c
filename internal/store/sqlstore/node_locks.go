package sqlstore

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/nodelock"
)

// NodeLocks is the nodelock.Store. Each method is one statement outside
// any transaction.
type NodeLocks struct{ *Store }

var _ nodelock.Store = NodeLocks{}

// liveNode is the condition "the lock row l's node holds its registration".
const liveNode = `EXISTS (SELECT 1 FROM nodes WHERE nodes.id = l.node AND nodes.stopped_at IS NULL)`

// TakeLock implements nodelock.Store: an insert when nobody holds the lock
// (one statement, the usual case), else a conditional update of the
// holder's row, which the database locks and re-checks, so two nodes
// cannot both take it over.
func (s NodeLocks) TakeLock(ctx context.Context, lk nodelock.Lock, now time.Time) (taken, tookOver bool, err error) {
	res, err := s.w().ExecContext(ctx, `INSERT INTO node_locks (name, slot, token, node, expires_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name, slot) DO NOTHING`,
		lk.Name, lk.Slot, lk.Token, lk.Node, lk.ExpiresAt)
	if ok, err := s.changed(res, err, "node lock"); ok || err != nil {
		return ok, false, err
	}
	res, err = s.w().ExecContext(ctx, `UPDATE node_locks AS l SET token = $3, node = $4, expires_at = $5
		WHERE l.name = $1 AND l.slot = $2 AND (l.expires_at <= $6 OR NOT `+liveNode+`)`,
		lk.Name, lk.Slot, lk.Token, lk.Node, lk.ExpiresAt, now)
	ok, err := s.changed(res, err, "node lock")
	return ok, ok, err
}

// LockHolders implements nodelock.Store.
func (s NodeLocks) LockHolders(ctx context.Context, name string, shared bool, now time.Time) ([]nodelock.Holder, error) {
	slot := `l.slot = ''`
	if shared {
		slot = `l.slot <> ''`
	}
	rows, err := s.w().QueryContext(ctx, `SELECT l.node, n.expires_at <= $2 FROM node_locks l
		JOIN nodes n ON n.id = l.node AND n.stopped_at IS NULL
		WHERE l.name = $1 AND `+slot+` AND l.expires_at > $2`, name, now)
	if err != nil {
		return nil, s.mapErr(err, "node lock")
	}
	defer rows.Close()
	var hs []nodelock.Holder
	for rows.Next() {
		var h nodelock.Holder
		if err := rows.Scan(&h.Node, &h.Lapsed); err != nil {
			return nil, s.mapErr(err, "node lock")
		}
		hs = append(hs, h)
	}
	return hs, s.mapErr(rows.Err(), "node lock")
}

// RenewLock implements nodelock.Store.
func (s NodeLocks) RenewLock(ctx context.Context, name, slot, token string, expires time.Time) (bool, error) {
	res, err := s.w().ExecContext(ctx, `UPDATE node_locks SET expires_at = $4
		WHERE name = $1 AND slot = $2 AND token = $3`, name, slot, token, expires)
	return s.changed(res, err, "node lock")
}

// DropLock implements nodelock.Store.
func (s NodeLocks) DropLock(ctx context.Context, name, slot, token string) error {
	_, err := s.w().ExecContext(ctx, `DELETE FROM node_locks WHERE name = $1 AND slot = $2 AND token = $3`,
		name, slot, token)
	return s.mapErr(err, "node lock")
}

// PurgeLocks implements nodelock.Store.
func (s NodeLocks) PurgeLocks(ctx context.Context, now time.Time) error {
	_, err := s.w().ExecContext(ctx, `DELETE FROM node_locks AS l WHERE l.expires_at <= $1 OR NOT `+liveNode, now)
	return s.mapErr(err, "node lock")
}
