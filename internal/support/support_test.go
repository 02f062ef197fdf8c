package support_test

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/support"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

var (
	t0 = time.Date(2026, 3, 19, 12, 30, 0, 0, time.UTC)
)

type env struct {
	st            *sqlstore.Store
	clk           *clock.Fake
	svc           *support.Service
	op, pa, other actor.Actor
	partner       tenancy.Org
	project       int64 // a billing account of the partner
	otherProject  int64 // one of the other partner
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err error, kind errs.Kind, field string) {
	t.Helper()
	if !errs.Is(err, kind) || errs.FieldOf(err) != field {
		t.Fatalf("error %v (kind %v, field %q), want %v naming %q", err, errs.KindOf(err), errs.FieldOf(err), kind, field)
	}
}

func newEnv(t *testing.T, d *db.DB) *env {
	t.Helper()
	ctx := t.Context()
	e := &env{clk: clock.NewFake(t0), st: sqlstore.New(d)}
	e.svc = support.NewService(sqlstore.Support{Store: e.st}, e.clk)
	now := db.Micro(t0)
	org := func(kind actor.OrgKind, parent *tenancy.Org) tenancy.Org {
		id := ids.New()
		o := tenancy.Org{ID: id, Kind: kind, Path: "/" + id + "/", Name: string(kind), TimeZone: "UTC", CreatedAt: now, UpdatedAt: now}
		if parent != nil {
			o.ParentID, o.Path = parent.ID, parent.Path+id+"/"
		}
		must(t, e.st.InsertOrg(ctx, o))
		return o
	}
	root := org(actor.Provider, nil)
	dist := org(actor.Distributor, &root)
	e.partner = org(actor.Partner, &dist)
	p2 := org(actor.Partner, &dist)
	key := func(o tenancy.Org) actor.Actor {
		return actor.Actor{Type: actor.TypeAPIKey, ID: "key-" + o.ID[:8], OrgID: o.ID, OrgPath: o.Path, OrgKind: actor.Partner,
			Role: actor.Staff}
	}
	e.pa, e.other = key(e.partner), key(p2)
	e.op = actor.Actor{Type: actor.TypeUser, ID: "op", OrgID: root.ID, OrgPath: root.Path, OrgKind: actor.Provider, Role: actor.Admin}
	led := ledger.NewService(sqlstore.Ledger{Store: e.st}, e.clk)
	bil := billing.NewService(sqlstore.Billing{Store: e.st}, led, e.clk, billing.Config{})
	acct := func(o tenancy.Org) int64 {
		a, err := bil.CreateAccount(ctx, actor.System(""), billing.CreateAccountInput{OrgID: o.ID,
			Data: billing.AccountData{Title: "p", Email: "p@example.com"}})
		must(t, err)
		return a.ID
	}
	e.project, e.otherProject = acct(e.partner), acct(p2)
	return e
}

func (e *env) count(t *testing.T, table string) int {
	t.Helper()
	ctx := t.Context()
	var n int
	must(t, e.st.DB().Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n))
	return n
}

func ptr(t time.Time) *time.Time { return &t }

func TestTickets(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		open := func(a actor.Actor, in support.CreateTicketInput, at time.Time) support.Ticket {
			t.Helper()
			e.clk.Set(at)
			tk, err := e.svc.CreateTicket(ctx, a, in)
			must(t, err)
			return tk
		}
		// Tickets at 2023-03-19 00:00, 12:30, 23:59:59.999999, 03-20 00:00.
		day := time.Date(2023, 3, 19, 0, 0, 0, 0, time.UTC)
		c1 := open(e.pa, support.CreateTicketInput{Subject: "VM down", Body: "help", ProjectID: e.project}, day)
		c2 := open(e.pa, support.CreateTicketInput{Subject: "b", Body: "b"}, day.Add(12*time.Hour+30*time.Minute))
		c3 := open(e.op, support.CreateTicketInput{PartnerID: e.partner.ID, Subject: "c", Body: "c"},
			day.Add(24*time.Hour-time.Microsecond))
		c4 := open(e.pa, support.CreateTicketInput{Subject: "d", Body: "d"}, day.Add(24*time.Hour))
		s1 := open(e.op, support.CreateTicketInput{PartnerID: e.partner.ID, Kind: support.KindSystem, Subject: "maintenance",
			Body: "tonight", Author: "noc"}, day.Add(time.Hour))
		open(e.other, support.CreateTicketInput{Subject: "x", Body: "x"}, day)

		if c1.State != support.StateOpen || c1.Kind != support.KindClient || c1.PartnerID != e.partner.ID ||
			len(c1.Messages) != 1 || c1.Messages[0].Body != "help" || c1.Messages[0].Author != e.pa.ID {
			t.Fatalf("ticket: %+v", c1)
		}
		listIDs := func(from, to *time.Time, kind string) []int64 {
			t.Helper()
			list, err := e.svc.ListTickets(ctx, e.pa, kind, from, to)
			must(t, err)
			out := []int64{}
			for _, tk := range list {
				out = append(out, tk.ID)
			}
			return out
		}
		next := day.Add(24 * time.Hour)
		for _, c := range []struct {
			name     string
			from, to *time.Time
			want     []int64
		}{
			{"none", nil, nil, []int64{c1.ID, c2.ID, c3.ID, c4.ID}},
			// createdFrom=2023-03-19&createdTo=2023-03-19: the whole day,
			// both ends included.
			{"one day", &day, &next, []int64{c1.ID, c2.ID, c3.ID}},
			{"from 12:30 inclusive", ptr(day.Add(12*time.Hour + 30*time.Minute)), nil, []int64{c2.ID, c3.ID, c4.ID}},
			{"to 12:30 inclusive", nil, ptr(day.Add(12*time.Hour + 30*time.Minute + time.Microsecond)), []int64{c1.ID, c2.ID}},
			{"empty", &next, &next, []int64{}},
		} {
			if got := listIDs(c.from, c.to, support.KindClient); !slices.Equal(got, c.want) {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
			}
		}
		if got := listIDs(nil, nil, support.KindSystem); !slices.Equal(got, []int64{s1.ID}) {
			t.Fatalf("system tickets: %v", got)
		}
		_, err := e.svc.ListTickets(ctx, e.pa, "user", nil, nil)
		wantErr(t, err, errs.KindInvalid, "kind")
		_, err = e.svc.ListTickets(ctx, e.pa, support.KindClient, &next, &day)
		wantErr(t, err, errs.KindInvalid, "createdTo")

		// Get: by kind, in scope.
		got, err := e.svc.GetTicket(ctx, e.pa, support.KindSystem, s1.ID)
		must(t, err)
		if got.Subject != "maintenance" || got.Messages[0].Author != "noc" {
			t.Fatalf("system ticket: %+v", got)
		}
		_, err = e.svc.GetTicket(ctx, e.pa, support.KindClient, s1.ID)
		wantErr(t, err, errs.KindNotFound, "id")
		_, err = e.svc.GetTicket(ctx, e.other, support.KindClient, c1.ID)
		wantErr(t, err, errs.KindNotFound, "id")

		// Open tickets of a project; closing and reopening by a message.
		if n, err := e.svc.OpenTickets(ctx, e.project); err != nil || n != 1 {
			t.Fatalf("OpenTickets = %d, %v", n, err)
		}
		e.clk.Set(t0)
		closed, err := e.svc.SetState(ctx, e.pa, c1.ID, support.StateClosed)
		must(t, err)
		if closed.State != support.StateClosed || closed.ClosedAt == nil || !closed.ClosedAt.Equal(t0) {
			t.Fatalf("closed: %+v", closed)
		}
		if n, _ := e.svc.OpenTickets(ctx, e.project); n != 0 {
			t.Fatalf("OpenTickets after closing = %d", n)
		}
		re, err := e.svc.AddMessage(ctx, e.pa, c1.ID, "", "still broken")
		must(t, err)
		if re.State != support.StateOpen || re.ClosedAt != nil || len(re.Messages) != 2 || re.Messages[1].Body != "still broken" {
			t.Fatalf("reopened: %+v", re)
		}
		inProg, err := e.svc.SetState(ctx, e.op, c1.ID, support.StateInProgress)
		must(t, err)
		if inProg.State != support.StateInProgress {
			t.Fatalf("state %s", inProg.State)
		}
		if n, _ := e.svc.OpenTickets(ctx, e.project); n != 1 {
			t.Fatalf("OpenTickets in progress = %d", n)
		}
		_, err = e.svc.SetState(ctx, e.pa, c1.ID, "Done")
		wantErr(t, err, errs.KindInvalid, "state")
		_, err = e.svc.SetState(ctx, e.other, c1.ID, support.StateClosed)
		wantErr(t, err, errs.KindNotFound, "id")
		_, err = e.svc.AddMessage(ctx, e.other, c1.ID, "", "x")
		wantErr(t, err, errs.KindNotFound, "id")

		// Bad input changes nothing.
		tickets, messages := e.count(t, "support_tickets"), e.count(t, "support_messages")
		for _, c := range []struct {
			in    support.CreateTicketInput
			a     actor.Actor
			kind  errs.Kind
			field string
		}{
			{support.CreateTicketInput{Body: "b"}, e.pa, errs.KindInvalid, "subject"},
			{support.CreateTicketInput{Subject: "s"}, e.pa, errs.KindInvalid, "body"},
			{support.CreateTicketInput{Subject: strings.Repeat("s", 256), Body: "b"}, e.pa, errs.KindInvalid, "subject"},
			{support.CreateTicketInput{Subject: "s", Body: "b", Kind: "other"}, e.pa, errs.KindInvalid, "kind"},
			{support.CreateTicketInput{Subject: "s", Body: "b", ProjectID: e.otherProject}, e.pa, errs.KindInvalid, "project_id"},
			{support.CreateTicketInput{Subject: "s", Body: "b", ProjectID: 999999}, e.pa, errs.KindInvalid, "project_id"},
			{support.CreateTicketInput{Subject: "s", Body: "b", AccountID: ids.New()}, e.pa, errs.KindInvalid, "account_id"},
			{support.CreateTicketInput{Subject: "s", Body: "b"}, e.op, errs.KindInvalid, "partner_id"},
			{support.CreateTicketInput{Subject: "s", Body: "b", PartnerID: e.other.OrgID}, e.pa, errs.KindNotFound, "partner_id"},
			{support.CreateTicketInput{Subject: "s", Body: "b", PartnerID: ids.New()}, e.op, errs.KindNotFound, "partner_id"},
		} {
			_, err := e.svc.CreateTicket(ctx, c.a, c.in)
			wantErr(t, err, c.kind, c.field)
		}
		_, err = e.svc.AddMessage(ctx, e.pa, c2.ID, "", " ")
		wantErr(t, err, errs.KindInvalid, "body")
		if e.count(t, "support_tickets") != tickets || e.count(t, "support_messages") != messages {
			t.Fatal("refused input changed the tickets")
		}
		viewer := e.pa
		viewer.Role = actor.Viewer
		_, err = e.svc.CreateTicket(ctx, viewer, support.CreateTicketInput{Subject: "s", Body: "b"})
		wantErr(t, err, errs.KindForbidden, "")
	})
}

func TestReviews(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		for _, n := range []int{0, -1, 101} {
			_, err := e.svc.Reviews(ctx, n)
			wantErr(t, err, errs.KindInvalid, "count")
		}
		none, err := e.svc.Reviews(ctx, 5)
		must(t, err)
		if len(none) != 0 {
			t.Fatalf("reviews of an empty table: %v", none)
		}
		_, err = e.svc.AddReview(ctx, e.pa, support.ReviewInput{Author: "a", Text: "t", Rating: 5})
		wantErr(t, err, errs.KindForbidden, "")
		for _, c := range []struct {
			in    support.ReviewInput
			field string
		}{
			{support.ReviewInput{Text: "t", Rating: 5}, "author"},
			{support.ReviewInput{Author: "a", Rating: 5}, "text"},
			{support.ReviewInput{Author: "a", Text: "t", Rating: 0}, "rating"},
			{support.ReviewInput{Author: "a", Text: "t", Rating: 6}, "rating"},
		} {
			_, err := e.svc.AddReview(ctx, e.op, c.in)
			wantErr(t, err, errs.KindInvalid, c.field)
		}
		const total = 12
		var wg sync.WaitGroup
		for i := range total {
			wg.Go(func() {
				_, err := e.svc.AddReview(ctx, e.op, support.ReviewInput{Author: "a", Text: "t", Rating: 1 + i%5})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		all, err := e.svc.Reviews(ctx, 100)
		must(t, err)
		seen := map[int64]bool{}
		for _, r := range all {
			seen[r.ID] = true
		}
		if len(all) != total || len(seen) != total {
			t.Fatalf("Reviews(100) = %d (%d distinct), want %d", len(all), len(seen), total)
		}
		three, err := e.svc.Reviews(ctx, 3)
		must(t, err)
		if len(three) != 3 {
			t.Fatalf("Reviews(3) = %d", len(three))
		}
		// Random order: over many draws every review comes first at some
		// point and the order is not always the same (the chance that 200
		// shuffles of 12 miss a review in first place is 12·(11/12)^200 ≈
		// 3e-7).
		first := map[int64]bool{}
		orders := map[string]bool{}
		for range 200 {
			got, err := e.svc.Reviews(ctx, total)
			must(t, err)
			first[got[0].ID] = true
			key := ""
			for _, r := range got {
				key += string(rune('a' + r.ID%26))
			}
			orders[key] = true
		}
		if len(first) != total || len(orders) < 100 {
			t.Fatalf("not random: %d distinct first reviews, %d distinct orders", len(first), len(orders))
		}
	})
}
