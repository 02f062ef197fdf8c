package sqlstore

import (
	"context"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/simstep"
	"github.com/trellis-cloud/trellis/internal/store/db"
)

// SimState is the simstep.State of the built-in sim providers: their fake
// cloud in the sim_state table, one for every node on the database.
type SimState struct{ *Store }

var _ simstep.State = SimState{}

// Update implements simstep.State. It is a short transaction of its own on
// the pool, never the caller's (a provider call happens outside the
// request's transaction). It first upserts the space's lock row, which
// holds that row's lock to the end: on PostgreSQL a concurrent Update of
// the space waits there; on SQLite the single writer serialises anyway.
func (s SimState) Update(ctx context.Context, space string, fn func(simstep.Docs) error) error {
	return s.db.Tx(ctx, func(q db.Querier) error {
		if _, err := q.ExecContext(ctx, `INSERT INTO sim_state (space, kind, id, doc) VALUES ($1, '', '', '')
			ON CONFLICT (space, kind, id) DO UPDATE SET doc = ''`, space); err != nil {
			return s.mapErr(err, "sim state")
		}
		return fn(simDocs{s: s.Store, q: q, ctx: ctx, space: space})
	})
}

// simDocs are one space's documents inside an Update's transaction.
type simDocs struct {
	s     *Store
	q     db.Querier
	ctx   context.Context
	space string
}

func (d simDocs) Get(kind, id string) ([]byte, bool, error) {
	var doc string
	err := d.q.QueryRowContext(d.ctx, `SELECT doc FROM sim_state WHERE space = $1 AND kind = $2 AND id = $3`,
		d.space, kind, id).Scan(&doc)
	if err != nil {
		if err = d.s.mapErr(err, "sim document"); errs.Is(err, errs.KindNotFound) {
			return nil, false, nil
		}
		return nil, false, err
	}
	return []byte(doc), true, nil
}

func (d simDocs) Put(kind, id string, doc []byte) error {
	_, err := d.q.ExecContext(d.ctx, `INSERT INTO sim_state (space, kind, id, doc) VALUES ($1, $2, $3, $4)
		ON CONFLICT (space, kind, id) DO UPDATE SET doc = excluded.doc`, d.space, kind, id, string(doc))
	return d.s.mapErr(err, "sim document")
}

func (d simDocs) Delete(kind, id string) error {
	_, err := d.q.ExecContext(d.ctx, `DELETE FROM sim_state WHERE space = $1 AND kind = $2 AND id = $3`,
		d.space, kind, id)
	return d.s.mapErr(err, "sim document")
}

func (d simDocs) List(kind string) (map[string][]byte, error) {
	rows, err := d.q.QueryContext(d.ctx, `SELECT id, doc FROM sim_state WHERE space = $1 AND kind = $2`, d.space, kind)
	if err != nil {
		return nil, d.s.mapErr(err, "sim documents")
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var id, doc string
		if err := rows.Scan(&id, &doc); err != nil {
			return nil, d.s.mapErr(err, "sim documents")
		}
		out[id] = []byte(doc)
	}
	return out, d.s.mapErr(rows.Err(), "sim documents")
}
