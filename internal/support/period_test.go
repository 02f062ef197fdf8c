package support_test

import (
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/support"
)

// TestListTicketsIn: a ticket list's bounds as the Partner API sends them
// are read by the service, inclusive, in the partner's time zone; each
// mistake names its bound, and an end before the start is refused.
func TestListTicketsIn(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		_, err := e.st.DB().Write().ExecContext(t.Context(), `UPDATE orgs SET time_zone = 'Europe/Moscow' WHERE id = $1`, e.partner.ID)
		must(t, err)
		// 2023-03-19 23:30 in Moscow (UTC+3) is 20:30 UTC.
		e.clk.Set(time.Date(2023, 3, 19, 20, 30, 0, 0, time.UTC))
		tk, err := e.svc.CreateTicket(t.Context(), e.pa, support.CreateTicketInput{Subject: "late", Body: "b"})
		must(t, err)
		s := func(v string) *string { return &v }
		ids := func(p support.TicketPeriod) []int64 {
			t.Helper()
			list, err := e.svc.ListTicketsIn(t.Context(), e.pa, support.KindClient, p)
			must(t, err)
			out := []int64{}
			for _, x := range list {
				out = append(out, x.ID)
			}
			return out
		}
		if got := ids(support.TicketPeriod{From: s("2023-03-19"), To: s("2023-03-19")}); len(got) != 1 || got[0] != tk.ID {
			t.Errorf("the partner's 19 March: %v, want [%d]", got, tk.ID)
		}
		if got := ids(support.TicketPeriod{From: s("2023-03-20")}); len(got) != 0 {
			t.Errorf("from the partner's 20 March: %v, want none", got)
		}
		if got := ids(support.TicketPeriod{To: s("2023-03-19T23:29:59")}); len(got) != 0 {
			t.Errorf("to 23:29:59 Moscow: %v, want none", got)
		}
		if got := ids(support.TicketPeriod{}); len(got) != 1 {
			t.Errorf("no bounds: %v", got)
		}
		for _, c := range []struct {
			p     support.TicketPeriod
			field string
		}{
			{support.TicketPeriod{From: s("2023-02-30")}, "createdFrom"},
			{support.TicketPeriod{From: s("")}, "createdFrom"},
			{support.TicketPeriod{To: s("19.03.2023")}, "createdTo"},
			{support.TicketPeriod{From: s("2023-03-20"), To: s("2023-03-19")}, "createdTo"},
		} {
			_, err := e.svc.ListTicketsIn(t.Context(), e.pa, support.KindClient, c.p)
			if !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != c.field {
				t.Errorf("%+v: %v, want Invalid naming %s", c.p, err, c.field)
			}
		}
	})
}
