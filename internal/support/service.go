package support

import (
	"context"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/reseller"
)

// Service runs the support desk and the reviews.
type Service struct {
	store Store
	clock clock.Clock
}

// NewService returns a support service.
func NewService(st Store, c clock.Clock) *Service { return &Service{store: st, clock: c} }

func (s *Service) now() time.Time { return clock.Micro(s.clock.Now()) }

func text(field, v string, max int, required bool) error {
	switch {
	case required && strings.TrimSpace(v) == "":
		return errs.Invalid(field, "is required")
	case utf8.RuneCountInString(v) > max:
		return errs.Invalidf(field, "must be at most %d characters", max)
	case !utf8.ValidString(v) || strings.ContainsRune(v, 0):
		return errs.Invalid(field, "must be valid text")
	}
	return nil
}

func checkKind(kind string) error {
	if kind != KindClient && kind != KindSystem {
		return errs.Invalid("kind", `must be "client" or "system"`)
	}
	return nil
}

func ticketNotFound() error {
	return &errs.Error{Kind: errs.KindNotFound, Field: "id", Msg: "ticket not found"}
}

// partner resolves the partner a ticket is for: a partner's key is its
// own partner; operators name one they can see.
func (s *Service) partner(ctx context.Context, q Queries, a actor.Actor, id string) (string, string, error) {
	switch a.OrgKind {
	case actor.Partner:
		if id != "" && id != a.OrgID {
			return "", "", &errs.Error{Kind: errs.KindNotFound, Field: "partner_id", Msg: "partner not found"}
		}
		return a.OrgID, a.OrgPath, nil
	case actor.Provider, actor.Distributor:
		if id == "" {
			return "", "", errs.Invalid("partner_id", "is required")
		}
		o, err := q.GetOrg(ctx, a.Scope(), id)
		if err == nil && o.Kind != actor.Partner {
			err = errs.NotFound("partner")
		}
		if errs.Is(err, errs.KindNotFound) {
			return "", "", &errs.Error{Kind: errs.KindNotFound, Field: "partner_id", Msg: "partner not found"}
		}
		return o.ID, o.Path, err
	}
	return "", "", errs.New(errs.KindForbidden, "support tickets are for partners and their operators")
}

// ListTickets returns the caller's tickets of kind created in [from,
// toExclusive) — either bound may be nil; the caller turned the API's
// inclusive partner-local bounds into these instants — by creation time
// (IT-51, IT-53).
func (s *Service) ListTickets(ctx context.Context, a actor.Actor, kind string, from, toExclusive *time.Time) ([]Ticket, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return nil, err
	}
	if err := checkKind(kind); err != nil {
		return nil, err
	}
	if from != nil && toExclusive != nil && from.After(*toExclusive) {
		return nil, errs.Invalid("createdTo", "must not be before createdFrom")
	}
	return s.store.ListSupportTickets(ctx, TicketFilter{Scope: a.Scope(), Kind: kind, From: from, ToExclusive: toExclusive})
}

// TicketPeriod is the optional inclusive bounds of a ticket list as the
// Partner API sends them (nil when absent; ParseReportDate's forms), in
// the partner's time zone unless they name one (IT-51, IT-53).
type TicketPeriod struct {
	From, To *string
}

// ListTicketsIn is ListTickets over the bounds a request sends; errors
// name them createdFrom and createdTo, and an end before the start is
// refused.
func (s *Service) ListTicketsIn(ctx context.Context, a actor.Actor, kind string, p TicketPeriod) ([]Ticket, error) {
	var from, to *time.Time
	if p.From != nil || p.To != nil {
		loc, err := reseller.PartnerLocation(ctx, s.store, a)
		if err != nil {
			return nil, err
		}
		if p.From != nil {
			t, err := reseller.ParseReportDate("createdFrom", *p.From, loc, false)
			if err != nil {
				return nil, err
			}
			from = &t
		}
		if p.To != nil {
			t, err := reseller.ParseReportDate("createdTo", *p.To, loc, true)
			if err != nil {
				return nil, err
			}
			to = &t
		}
		// Inclusive bounds: the end's exclusive instant must pass the start.
		if from != nil && to != nil && !from.Before(*to) {
			return nil, errs.Invalid("createdTo", "must not be before createdFrom")
		}
	}
	return s.ListTickets(ctx, a, kind, from, to)
}

// GetTicket returns a ticket of kind with its messages (IT-52, IT-54).
func (s *Service) GetTicket(ctx context.Context, a actor.Actor, kind string, id int64) (Ticket, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return Ticket{}, err
	}
	if err := checkKind(kind); err != nil {
		return Ticket{}, err
	}
	t, err := s.store.GetSupportTicket(ctx, a.Scope(), id)
	if errs.Is(err, errs.KindNotFound) || (err == nil && t.Kind != kind) {
		return Ticket{}, ticketNotFound()
	}
	return t, err
}

// CreateTicket opens a ticket with its first message.
func (s *Service) CreateTicket(ctx context.Context, a actor.Actor, in CreateTicketInput) (Ticket, error) {
	if err := a.Require(actor.Staff); err != nil {
		return Ticket{}, err
	}
	if in.Kind == "" {
		in.Kind = KindClient
	}
	if in.Author == "" {
		in.Author = a.ID
	}
	switch {
	case checkKind(in.Kind) != nil:
		return Ticket{}, checkKind(in.Kind)
	case text("subject", in.Subject, MaxSubject, true) != nil:
		return Ticket{}, text("subject", in.Subject, MaxSubject, true)
	case text("body", in.Body, MaxBody, true) != nil:
		return Ticket{}, text("body", in.Body, MaxBody, true)
	case text("author", in.Author, MaxAuthor, true) != nil:
		return Ticket{}, text("author", in.Author, MaxAuthor, true)
	case text("account_id", in.AccountID, 64, false) != nil:
		return Ticket{}, text("account_id", in.AccountID, 64, false)
	case in.ProjectID < 0:
		return Ticket{}, errs.Invalid("project_id", "must be a project id")
	}
	var id int64
	err := s.store.Tx(ctx, func(tx Store) error {
		pid, path, err := s.partner(ctx, tx, a, in.PartnerID)
		if err != nil {
			return err
		}
		if in.ProjectID != 0 {
			acct, err := tx.GetBillingAccount(ctx, path, in.ProjectID)
			if errs.Is(err, errs.KindNotFound) || (err == nil && (acct.OrgID != pid || acct.DeletedAt != nil)) {
				return errs.Invalidf("project_id", "project %d does not exist", in.ProjectID)
			}
			if err != nil {
				return err
			}
		}
		if in.AccountID != "" {
			acct, err := tx.GetResellerAccount(ctx, path, in.AccountID)
			if errs.Is(err, errs.KindNotFound) || (err == nil && acct.PartnerID != pid) {
				return errs.Invalidf("account_id", "account %s does not exist", in.AccountID)
			}
			if err != nil {
				return err
			}
		}
		if id, err = tx.NextNumber(ctx, "support_ticket"); err != nil {
			return err
		}
		now := s.now()
		t := Ticket{ID: id, PartnerID: pid, PartnerPath: path, Kind: in.Kind, ProjectID: in.ProjectID,
			AccountID: in.AccountID, Subject: in.Subject, State: StateOpen, CreatedAt: now, UpdatedAt: now}
		if err := tx.InsertSupportTicket(ctx, t); err != nil {
			return err
		}
		if err := s.addMessageTx(ctx, tx, id, in.Author, in.Body, now); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "support.ticket.create", "support_ticket",
			strconv.FormatInt(id, 10), path, "kind="+t.Kind))
	})
	if err != nil {
		return Ticket{}, err
	}
	return s.store.GetSupportTicket(ctx, "/", id)
}

func (s *Service) addMessageTx(ctx context.Context, tx Queries, ticketID int64, author, body string, at time.Time) error {
	mid, err := tx.NextNumber(ctx, "support_message")
	if err != nil {
		return err
	}
	return tx.InsertSupportMessage(ctx, Message{ID: mid, TicketID: ticketID, Author: author, Body: body, CreatedAt: at})
}

// lockVisible locks a ticket the caller can see.
func lockVisible(ctx context.Context, tx Queries, a actor.Actor, id int64) (Ticket, error) {
	if _, err := tx.GetSupportTicket(ctx, a.Scope(), id); err != nil {
		if errs.Is(err, errs.KindNotFound) {
			return Ticket{}, ticketNotFound()
		}
		return Ticket{}, err
	}
	return tx.LockSupportTicket(ctx, id)
}

// AddMessage appends a message; a message on a Closed ticket reopens it.
func (s *Service) AddMessage(ctx context.Context, a actor.Actor, id int64, author, body string) (Ticket, error) {
	if err := a.Require(actor.Staff); err != nil {
		return Ticket{}, err
	}
	if author == "" {
		author = a.ID
	}
	if err := text("body", body, MaxBody, true); err != nil {
		return Ticket{}, err
	}
	if err := text("author", author, MaxAuthor, true); err != nil {
		return Ticket{}, err
	}
	err := s.store.Tx(ctx, func(tx Store) error {
		t, err := lockVisible(ctx, tx, a, id)
		if err != nil {
			return err
		}
		now := s.now()
		if err := s.addMessageTx(ctx, tx, id, author, body, now); err != nil {
			return err
		}
		if t.State == StateClosed {
			t.State, t.ClosedAt = StateOpen, nil
		}
		t.UpdatedAt = now
		if err := tx.UpdateSupportTicket(ctx, t); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "support.ticket.message", "support_ticket",
			strconv.FormatInt(id, 10), t.PartnerPath, ""))
	})
	if err != nil {
		return Ticket{}, err
	}
	return s.store.GetSupportTicket(ctx, "/", id)
}

// SetState moves a ticket to state (any state to any other; setting the
// current state changes nothing).
func (s *Service) SetState(ctx context.Context, a actor.Actor, id int64, state string) (Ticket, error) {
	if err := a.Require(actor.Staff); err != nil {
		return Ticket{}, err
	}
	if state != StateOpen && state != StateInProgress && state != StateClosed {
		return Ticket{}, errs.Invalid("state", `must be "Open", "InProgress" or "Closed"`)
	}
	err := s.store.Tx(ctx, func(tx Store) error {
		t, err := lockVisible(ctx, tx, a, id)
		if err != nil || t.State == state {
			return err
		}
		now := s.now()
		from := t.State
		t.State, t.UpdatedAt, t.ClosedAt = state, now, nil
		if state == StateClosed {
			t.ClosedAt = &now
		}
		if err := tx.UpdateSupportTicket(ctx, t); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "support.ticket.state", "support_ticket",
			strconv.FormatInt(id, 10), t.PartnerPath, from+"→"+state))
	})
	if err != nil {
		return Ticket{}, err
	}
	return s.store.GetSupportTicket(ctx, "/", id)
}

// OpenTickets counts a project's tickets that are not Closed (the
// reseller core's Tickets hook).
func (s *Service) OpenTickets(ctx context.Context, projectID int64) (int, error) {
	return s.store.CountOpenSupportTickets(ctx, projectID)
}

// OpenTicketsTx is OpenTickets read through the reseller core's
// transaction tx (its Tickets hook: the guard of a deletion).
func (s *Service) OpenTicketsTx(ctx context.Context, tx reseller.Queries, projectID int64) (int, error) {
	q, ok := tx.(Queries)
	if !ok {
		return 0, errs.Newf(errs.KindInternal, "support: the reseller transaction (%T) has no ticket queries", tx)
	}
	return q.CountOpenSupportTickets(ctx, projectID)
}

// ---- reviews ----

// Reviews returns count reviews in random order (IT-45): 1 ≤ count ≤ 100
// (IT-amb-21); fewer when fewer exist.
func (s *Service) Reviews(ctx context.Context, count int) ([]Review, error) {
	if count < 1 || count > MaxReviewCount {
		return nil, errs.Invalidf("count", "must be between 1 and %d", MaxReviewCount)
	}
	all, err := s.store.ListReviews(ctx)
	if err != nil {
		return nil, err
	}
	rand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	return all[:min(count, len(all))], nil
}

// AddReview adds a review (operators: provider or distributor staff).
func (s *Service) AddReview(ctx context.Context, a actor.Actor, in ReviewInput) (Review, error) {
	if err := a.Require(actor.Staff); err != nil {
		return Review{}, err
	}
	// Reviews are shown to every partner: the provider's to write.
	if err := a.RequireKind(actor.Provider); err != nil {
		return Review{}, err
	}
	switch {
	case text("author", in.Author, MaxAuthor, true) != nil:
		return Review{}, text("author", in.Author, MaxAuthor, true)
	case text("text", in.Text, MaxReviewText, true) != nil:
		return Review{}, text("text", in.Text, MaxReviewText, true)
	case in.Rating < 1 || in.Rating > 5:
		return Review{}, errs.Invalid("rating", "must be between 1 and 5")
	}
	var r Review
	err := s.store.Tx(ctx, func(tx Store) error {
		id, err := tx.NextNumber(ctx, "review")
		if err != nil {
			return err
		}
		r = Review{ID: id, Author: in.Author, Text: in.Text, Rating: in.Rating, CreatedAt: s.now()}
		if err := tx.InsertReview(ctx, r); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, r.CreatedAt, "review.create", "review", strconv.FormatInt(id, 10), "/", ""))
	})
	return r, err
}
