package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/support"
)

// supportTickets exercises the ticket and review store methods (the
// service's rules are tested in internal/support).
func (s *suite) supportTickets(t *testing.T) {
	s.cover("InsertSupportTicket", "GetSupportTicket", "LockSupportTicket", "ListSupportTickets", "UpdateSupportTicket",
		"InsertSupportMessage", "CountOpenSupportTickets", "InsertReview", "ListReviews")
	now := db.Micro(t0)
	_, _, partner, _ := s.tree(t)
	_, _, other, _ := s.tree(t)
	proj := s.billingAccount(t, partner, 0)

	id := int64(700000)
	ticket := func(p, pid, kind string, at time.Time, project int64) support.Ticket {
		id++
		tk := support.Ticket{ID: id, PartnerID: pid, PartnerPath: p, Kind: kind, ProjectID: project, AccountID: "acc",
			Subject: "help", State: support.StateOpen, CreatedAt: at, UpdatedAt: at}
		must(t, s.st.InsertSupportTicket(s.ctx, tk))
		return tk
	}
	t1 := ticket(partner.Path, partner.ID, support.KindClient, now, proj.ID)
	t2 := ticket(partner.Path, partner.ID, support.KindClient, now.Add(time.Hour), proj.ID)
	t3 := ticket(partner.Path, partner.ID, support.KindSystem, now.Add(2*time.Hour), 0)
	t4 := ticket(other.Path, other.ID, support.KindClient, now, 0)
	wantKind(t, s.st.InsertSupportTicket(s.ctx, t1), errs.KindConflict)

	m1 := support.Message{ID: 800001, TicketID: t1.ID, Author: "a", Body: "first", CreatedAt: now}
	m2 := support.Message{ID: 800002, TicketID: t1.ID, Author: "b", Body: "second", CreatedAt: now.Add(time.Minute)}
	must(t, s.st.InsertSupportMessage(s.ctx, m2))
	must(t, s.st.InsertSupportMessage(s.ctx, m1))
	wantKind(t, s.st.InsertSupportMessage(s.ctx, m1), errs.KindConflict)

	got, err := s.st.GetSupportTicket(s.ctx, partner.Path, t1.ID)
	must(t, err)
	want := t1
	want.Messages = []support.Message{m1, m2}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("ticket round trip (-want +got):\n%s", d)
	}
	got, err = s.st.GetSupportTicket(s.ctx, partner.Path, t2.ID)
	must(t, err)
	if got.Messages == nil || len(got.Messages) != 0 {
		t.Fatalf("ticket without messages: %+v", got.Messages)
	}
	_, err = s.st.GetSupportTicket(s.ctx, other.Path, t1.ID)
	wantKind(t, err, errs.KindNotFound)

	ids := func(f support.TicketFilter) []int64 {
		t.Helper()
		list, err := s.st.ListSupportTickets(s.ctx, f)
		must(t, err)
		out := []int64{}
		for _, tk := range list {
			out = append(out, tk.ID)
		}
		return out
	}
	ptr := func(x time.Time) *time.Time { return &x }
	for _, tc := range []struct {
		f    support.TicketFilter
		want []int64
	}{
		{support.TicketFilter{Scope: partner.Path}, []int64{t1.ID, t2.ID, t3.ID}},
		{support.TicketFilter{Scope: partner.Path, Kind: support.KindClient}, []int64{t1.ID, t2.ID}},
		{support.TicketFilter{Scope: partner.Path, Kind: support.KindSystem}, []int64{t3.ID}},
		// From is inclusive, ToExclusive exclusive.
		{support.TicketFilter{Scope: partner.Path, From: ptr(now.Add(time.Hour))}, []int64{t2.ID, t3.ID}},
		{support.TicketFilter{Scope: partner.Path, ToExclusive: ptr(now.Add(time.Hour))}, []int64{t1.ID}},
		{support.TicketFilter{Scope: partner.Path, From: ptr(now), ToExclusive: ptr(now.Add(time.Hour + time.Microsecond))},
			[]int64{t1.ID, t2.ID}},
		{support.TicketFilter{Scope: "/"}, []int64{t1.ID, t4.ID, t2.ID, t3.ID}},
		{support.TicketFilter{Scope: "/%"}, []int64{}},
	} {
		if d := cmp.Diff(tc.want, ids(tc.f)); d != "" {
			t.Fatalf("ListSupportTickets %+v (-want +got):\n%s", tc.f, d)
		}
	}

	n, err := s.st.CountOpenSupportTickets(s.ctx, proj.ID)
	must(t, err)
	if n != 2 {
		t.Fatalf("CountOpenSupportTickets = %d, want 2", n)
	}
	locked, err := s.st.LockSupportTicket(s.ctx, t2.ID)
	must(t, err)
	if d := cmp.Diff(t2, locked); d != "" {
		t.Fatalf("LockSupportTicket (-want +got):\n%s", d)
	}
	_, err = s.st.LockSupportTicket(s.ctx, 1)
	wantKind(t, err, errs.KindNotFound)
	closed := now.Add(3 * time.Hour)
	t2.State, t2.UpdatedAt, t2.ClosedAt = support.StateClosed, closed, &closed
	must(t, s.st.UpdateSupportTicket(s.ctx, t2))
	got, err = s.st.GetSupportTicket(s.ctx, "/", t2.ID)
	must(t, err)
	got.Messages = nil
	if d := cmp.Diff(t2, got); d != "" {
		t.Fatalf("UpdateSupportTicket (-want +got):\n%s", d)
	}
	wantKind(t, s.st.UpdateSupportTicket(s.ctx, support.Ticket{ID: 1, State: support.StateOpen, UpdatedAt: now}),
		errs.KindNotFound)
	n, err = s.st.CountOpenSupportTickets(s.ctx, proj.ID)
	must(t, err)
	if n != 1 {
		t.Fatalf("CountOpenSupportTickets after closing = %d, want 1", n)
	}

	// Reviews.
	rs, err := s.st.ListReviews(s.ctx)
	must(t, err)
	base := len(rs)
	r1 := support.Review{ID: 900001, Author: "Anna", Text: "Good", Rating: 5, CreatedAt: now}
	r2 := support.Review{ID: 900002, Author: "Boris", Text: "Fine", Rating: 3, CreatedAt: now}
	must(t, s.st.InsertReview(s.ctx, r2))
	must(t, s.st.InsertReview(s.ctx, r1))
	wantKind(t, s.st.InsertReview(s.ctx, r1), errs.KindConflict)
	rs, err = s.st.ListReviews(s.ctx)
	must(t, err)
	if d := cmp.Diff([]support.Review{r1, r2}, rs[base:]); d != "" {
		t.Fatalf("ListReviews (-want +got):\n%s", d)
	}
}
