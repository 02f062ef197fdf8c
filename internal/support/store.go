package support

import (
	"context"

	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/reseller"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// Queries is the persistence the service needs, without Tx.
type Queries interface {
	// NextNumber takes the next number of a counter (billing's counters).
	NextNumber(ctx context.Context, name string) (int64, error)
	// GetOrg returns an org in scope (the ticket's partner).
	GetOrg(ctx context.Context, scope, id string) (tenancy.Org, error)
	// GetBillingAccount returns a billing account in scope (a project).
	GetBillingAccount(ctx context.Context, scope string, id int64) (billing.Account, error)
	// GetResellerAccount returns a reseller account in scope (a ticket's
	// author account).
	GetResellerAccount(ctx context.Context, scope, id string) (reseller.Account, error)
	AppendAudit(ctx context.Context, e audit.Entry) error

	InsertSupportTicket(ctx context.Context, t Ticket) error
	// GetSupportTicket returns a ticket in scope with its messages.
	GetSupportTicket(ctx context.Context, scope string, id int64) (Ticket, error)
	// LockSupportTicket takes the ticket's row lock and returns it (no
	// messages).
	LockSupportTicket(ctx context.Context, id int64) (Ticket, error)
	// ListSupportTickets returns tickets by creation time then id (no
	// messages).
	ListSupportTickets(ctx context.Context, f TicketFilter) ([]Ticket, error)
	// UpdateSupportTicket writes state, updated_at and closed_at.
	UpdateSupportTicket(ctx context.Context, t Ticket) error
	InsertSupportMessage(ctx context.Context, m Message) error
	// CountOpenSupportTickets counts a project's tickets that are not
	// Closed.
	CountOpenSupportTickets(ctx context.Context, projectID int64) (int, error)

	InsertReview(ctx context.Context, r Review) error
	// ListReviews returns every review by id.
	ListReviews(ctx context.Context) ([]Review, error)
}

// Store is Queries with transactions.
type Store interface {
	Queries
	Tx(ctx context.Context, fn func(Store) error) error
}
