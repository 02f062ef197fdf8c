// Package support is the reseller channel's support desk (the ITGLOBAL
// Partner API v2): client and system tickets of a partner, with messages
// and a state (Open → InProgress → Closed, reopenable), listed by an
// inclusive creation period; open tickets block the deletion of their
// project's account (the reseller core's Tickets hook). It also keeps the
// customer reviews the API hands out in random order.
package support

import "time"

// Ticket kinds: raised by a customer, or by the provider's systems.
const (
	KindClient = "client"
	KindSystem = "system"
)

// Ticket states.
const (
	StateOpen       = "Open"
	StateInProgress = "InProgress"
	StateClosed     = "Closed"
)

// Ticket is a support ticket.
type Ticket struct {
	ID          int64 // counter "support_ticket"
	PartnerID   string
	PartnerPath string
	Kind        string // KindClient or KindSystem
	ProjectID   int64  // 0 = none
	AccountID   string // "" = none
	Subject     string
	State       string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	ClosedAt    *time.Time
	Messages    []Message // oldest first (GetTicket; ListTickets leaves it nil)
}

// Message is one message of a ticket.
type Message struct {
	ID        int64
	TicketID  int64
	Author    string
	Body      string
	CreatedAt time.Time
}

// TicketFilter selects tickets for ListSupportTickets.
type TicketFilter struct {
	Scope       string     // org path prefix
	Kind        string     // "" = both
	From        *time.Time // created_at ≥ From
	ToExclusive *time.Time // created_at < ToExclusive
}

// CreateTicketInput opens a ticket with its first message.
type CreateTicketInput struct {
	// PartnerID is required for operators; a partner's own key may leave
	// it "" (or name itself).
	PartnerID string
	Kind      string // client (default) or system
	ProjectID int64  // 0 = none; else a project of the partner
	AccountID string
	Subject   string
	Author    string // "" = the caller's id
	Body      string
}

// Review is a customer review.
type Review struct {
	ID        int64 // counter "review"
	Author    string
	Text      string
	Rating    int // 1..5
	CreatedAt time.Time
}

// ReviewInput adds a review.
type ReviewInput struct {
	Author string
	Text   string
	Rating int
}

// Limits.
const (
	MaxSubject     = 255
	MaxBody        = 64 << 10
	MaxAuthor      = 255
	MaxReviewText  = 4096
	MaxReviewCount = 100
)
