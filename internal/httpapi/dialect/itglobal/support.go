package itglobal

import (
	"context"

	"github.com/trellis-cloud/trellis/internal/support"
)

const (
	ticketClient = support.KindClient
	ticketSystem = support.KindSystem
)

type ticketMessageDTO struct {
	Author    string `json:"Author"`
	Body      string `json:"Body"`
	CreatedAt string `json:"CreatedAt"`
}

type ticketDTO struct {
	Id        int64              `json:"Id"`
	Type      string             `json:"Type"`
	ProjectId *int64             `json:"ProjectId"`
	AccountId *string            `json:"AccountId"`
	Subject   string             `json:"Subject"`
	State     string             `json:"State"`
	CreatedAt string             `json:"CreatedAt"`
	UpdatedAt string             `json:"UpdatedAt"`
	ClosedAt  *string            `json:"ClosedAt"`
	Messages  []ticketMessageDTO `json:"Messages,omitempty"`
}

func ticketOf(t support.Ticket) ticketDTO {
	d := ticketDTO{Id: t.ID, Type: "Client", AccountId: strPtr(t.AccountID), Subject: t.Subject, State: t.State,
		CreatedAt: stamp(t.CreatedAt), UpdatedAt: stamp(t.UpdatedAt), ClosedAt: stampPtr(t.ClosedAt)}
	if t.Kind == support.KindSystem {
		d.Type = "System"
	}
	if t.ProjectID != 0 {
		id := t.ProjectID
		d.ProjectId = &id
	}
	if t.Messages != nil {
		d.Messages = make([]ticketMessageDTO, len(t.Messages))
		for i, m := range t.Messages {
			d.Messages[i] = ticketMessageDTO{Author: m.Author, Body: m.Body, CreatedAt: stamp(m.CreatedAt)}
		}
	}
	return d
}

// IT-51, IT-53: createdFrom and createdTo are optional, inclusive, in the
// partner's time zone (yyyy-MM-dd or yyyy-MM-ddThh:mm:ss).
func (s *server) listTickets(kind string) func(context.Context, *call) (any, error) {
	return func(ctx context.Context, c *call) (any, error) {
		var p support.TicketPeriod
		if v, ok := query(c.r, "createdFrom"); ok {
			p.From = &v
		}
		if v, ok := query(c.r, "createdTo"); ok {
			p.To = &v
		}
		list, err := s.d.Support.ListTicketsIn(ctx, c.a, kind, p)
		if err != nil {
			return nil, err
		}
		out := make([]ticketDTO, len(list))
		for i, t := range list {
			out[i] = ticketOf(t)
		}
		return ok(out)
	}
}

// IT-52, IT-54: with its messages.
func (s *server) getTicket(kind string) func(context.Context, *call) (any, error) {
	return func(ctx context.Context, c *call) (any, error) {
		id, err := positiveID(c.r, "id")
		if err != nil {
			return nil, err
		}
		t, err := s.d.Support.GetTicket(ctx, c.a, kind, id)
		if err != nil {
			return nil, err
		}
		if t.Messages == nil {
			t.Messages = []support.Message{}
		}
		return ok(ticketOf(t))
	}
}

type reviewDTO struct {
	Id        int64  `json:"Id"`
	Author    string `json:"Author"`
	Text      string `json:"Text"`
	Rating    int    `json:"Rating"`
	CreatedAt string `json:"CreatedAt"`
}

// IT-45: 1 ≤ count ≤ 100 (checked by the service, IT-amb-21).
func (s *server) reviews(ctx context.Context, c *call) (any, error) {
	n, err := pathID(c.r, "count")
	if err != nil {
		return nil, err
	}
	list, err := s.d.Support.Reviews(ctx, int(n))
	if err != nil {
		return nil, err
	}
	out := make([]reviewDTO, len(list))
	for i, r := range list {
		out[i] = reviewDTO{Id: r.ID, Author: r.Author, Text: r.Text, Rating: r.Rating, CreatedAt: stamp(r.CreatedAt)}
	}
	return ok(out)
}
