package sqlstore

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/support"
)

// Support is the support.Store.
type Support struct{ *Store }

// Tx implements support.Store.
func (v Support) Tx(ctx context.Context, fn func(support.Store) error) error {
	return v.tx(ctx, func(s *Store) error { return fn(Support{s}) })
}

var _ support.Store = Support{}

const supportTicketCols = `id, partner_id, partner_path, kind, project_id, account_id, subject, state, created_at,
	updated_at, closed_at`

func scanSupportTicket(sc interface{ Scan(...any) error }) (support.Ticket, error) {
	var t support.Ticket
	var created, updated db.Time
	var closed db.NullTime
	err := sc.Scan(&t.ID, &t.PartnerID, &t.PartnerPath, &t.Kind, &t.ProjectID, &t.AccountID, &t.Subject, &t.State,
		&created, &updated, &closed)
	t.CreatedAt, t.UpdatedAt, t.ClosedAt = created.Time, updated.Time, closed.Ptr()
	return t, err
}

// InsertSupportTicket implements support.Queries.
func (s *Store) InsertSupportTicket(ctx context.Context, t support.Ticket) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO support_tickets (`+supportTicketCols+`) VALUES ($1, $2, $3, $4, $5,
		$6, $7, $8, $9, $10, $11)`, t.ID, t.PartnerID, t.PartnerPath, t.Kind, t.ProjectID, t.AccountID, t.Subject,
		t.State, t.CreatedAt, t.UpdatedAt, db.TimePtr(t.ClosedAt))
	return s.mapErr(err, "ticket")
}

// GetSupportTicket implements support.Queries.
func (s *Store) GetSupportTicket(ctx context.Context, scope string, id int64) (support.Ticket, error) {
	t, err := scanSupportTicket(s.r().QueryRowContext(ctx, `SELECT `+supportTicketCols+` FROM support_tickets
		WHERE id = $1 AND `+scoped("partner_path", "$2"), id, scope))
	if err != nil {
		return t, s.mapErr(err, "ticket")
	}
	rows, err := s.r().QueryContext(ctx, `SELECT id, ticket_id, author, body, created_at FROM support_messages
		WHERE ticket_id = $1 ORDER BY created_at, id`, id)
	if err != nil {
		return t, s.mapErr(err, "ticket message")
	}
	t.Messages, err = collect(rows, func(sc interface{ Scan(...any) error }) (support.Message, error) {
		var m support.Message
		var at db.Time
		err := sc.Scan(&m.ID, &m.TicketID, &m.Author, &m.Body, &at)
		m.CreatedAt = at.Time
		return m, err
	})
	return t, err
}

// LockSupportTicket implements support.Queries.
func (s *Store) LockSupportTicket(ctx context.Context, id int64) (support.Ticket, error) {
	t, err := scanSupportTicket(s.w().QueryRowContext(ctx, `UPDATE support_tickets SET updated_at = updated_at
		WHERE id = $1 RETURNING `+supportTicketCols, id))
	return t, s.mapErr(err, "ticket")
}

// ListSupportTickets implements support.Queries.
func (s *Store) ListSupportTickets(ctx context.Context, f support.TicketFilter) ([]support.Ticket, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+supportTicketCols+` FROM support_tickets
		WHERE `+scoped("partner_path", "$1")+` AND ($2 = '' OR kind = $2)
		AND ($3 OR created_at >= $4) AND ($5 OR created_at < $6)
		ORDER BY created_at, id`, f.Scope, f.Kind, f.From == nil, bound(f.From), f.ToExclusive == nil, bound(f.ToExclusive))
	if err != nil {
		return nil, s.mapErr(err, "ticket")
	}
	return collect(rows, scanSupportTicket)
}

// UpdateSupportTicket implements support.Queries.
func (s *Store) UpdateSupportTicket(ctx context.Context, t support.Ticket) error {
	res, err := s.w().ExecContext(ctx, `UPDATE support_tickets SET state = $2, updated_at = $3, closed_at = $4
		WHERE id = $1`, t.ID, t.State, t.UpdatedAt, db.TimePtr(t.ClosedAt))
	return s.affected(res, err, "ticket")
}

// InsertSupportMessage implements support.Queries.
func (s *Store) InsertSupportMessage(ctx context.Context, m support.Message) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO support_messages (id, ticket_id, author, body, created_at)
		VALUES ($1, $2, $3, $4, $5)`, m.ID, m.TicketID, m.Author, m.Body, m.CreatedAt)
	return s.mapErr(err, "ticket message")
}

// CountOpenSupportTickets implements support.Queries.
func (s *Store) CountOpenSupportTickets(ctx context.Context, projectID int64) (int, error) {
	var n int
	err := s.r().QueryRowContext(ctx, `SELECT COUNT(*) FROM support_tickets WHERE project_id = $1 AND state <> 'Closed'`,
		projectID).Scan(&n)
	return n, s.mapErr(err, "ticket")
}

// InsertReview implements support.Queries.
func (s *Store) InsertReview(ctx context.Context, r support.Review) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO reviews (id, author, text, rating, created_at) VALUES ($1, $2, $3,
		$4, $5)`, r.ID, r.Author, r.Text, r.Rating, r.CreatedAt)
	return s.mapErr(err, "review")
}

// ListReviews implements support.Queries.
func (s *Store) ListReviews(ctx context.Context) ([]support.Review, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT id, author, text, rating, created_at FROM reviews ORDER BY id`)
	if err != nil {
		return nil, s.mapErr(err, "review")
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (support.Review, error) {
		var r support.Review
		var at db.Time
		err := sc.Scan(&r.ID, &r.Author, &r.Text, &r.Rating, &at)
		r.CreatedAt = at.Time
		return r, err
	})
}

// bound is an optional time bound as a query argument (the zero time when
// absent: the condition beside it is then already true).
func bound(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
