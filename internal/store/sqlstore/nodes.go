package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/trellis-cloud/trellis/internal/nodes"
)

// Nodes is the nodes.Store.
type Nodes struct{ *Store }

var _ nodes.Store = Nodes{}

// RegisterNode implements nodes.Store: the insert takes over a row only if
// its node is stopped or its lease ended, in the same statement, so two
// processes starting with one id cannot both win.
func (s Nodes) RegisterNode(ctx context.Context, n nodes.Node) (bool, error) {
	res, err := s.w().ExecContext(ctx, `INSERT INTO nodes (id, host, started_at, renewed_at, expires_at)
		VALUES ($1, $2, $3, $3, $4)
		ON CONFLICT (id) DO UPDATE SET host = excluded.host, started_at = excluded.started_at,
			renewed_at = excluded.renewed_at, expires_at = excluded.expires_at, stopped_at = NULL
		WHERE nodes.stopped_at IS NOT NULL OR nodes.expires_at <= excluded.started_at`,
		n.ID, n.Host, n.StartedAt, n.ExpiresAt)
	return s.changed(res, err, "node")
}

// RenewNode implements nodes.Store. A fence (StopNode) and a renewal of the
// same row serialise on its lock; the later one re-checks its condition.
func (s Nodes) RenewNode(ctx context.Context, id string, at, expires time.Time) (bool, error) {
	res, err := s.w().ExecContext(ctx, `UPDATE nodes SET renewed_at = $2, expires_at = $3
		WHERE id = $1 AND stopped_at IS NULL`, id, at, expires)
	return s.changed(res, err, "node")
}

// StopNode implements nodes.Store.
func (s Nodes) StopNode(ctx context.Context, id string, at time.Time, onlyExpired bool) (bool, error) {
	res, err := s.w().ExecContext(ctx, `UPDATE nodes SET stopped_at = $2
		WHERE id = $1 AND stopped_at IS NULL AND (NOT $3 OR expires_at <= $2)`, id, at, onlyExpired)
	if ok, err := s.changed(res, err, "node"); ok || err != nil {
		return ok, err
	}
	var stopped bool
	err = s.r().QueryRowContext(ctx, `SELECT stopped_at IS NOT NULL FROM nodes WHERE id = $1`, id).Scan(&stopped)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil // never registered (or purged long after it died)
	}
	return stopped, s.mapErr(err, "node")
}

// PurgeNodes implements nodes.Store.
func (s Nodes) PurgeNodes(ctx context.Context, before time.Time) error {
	_, err := s.w().ExecContext(ctx, `DELETE FROM nodes WHERE COALESCE(stopped_at, expires_at) < $1`, before)
	return s.mapErr(err, "node")
}
