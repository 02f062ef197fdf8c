package metering_test

import (
	"context"
	"testing"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/pricing"
)

// accounts gives the store's billing accounts from a table (the rule
// under test is the service's, not the query's).
type accounts struct {
	metering.HourlyStore
	users map[int64]metering.AccountUser
}

func (a accounts) BillingAccountUser(_ context.Context, _ string, id int64) (metering.AccountUser, error) {
	u, ok := a.users[id]
	if !ok {
		return u, errs.NotFound("billing account")
	}
	return u, nil
}

// TestRecordForAccounts: an operator's record needs a live billing
// account; its user is the account's (named or left out) and its owner
// defaults to the resource. Each refusal names its record and field, and
// nothing is written.
func TestRecordForAccounts(t *testing.T) {
	each(t, func(e *env) {
		t := e.t
		st := accounts{HourlyStore: e.store, users: map[int64]metering.AccountUser{
			6: {UserID: 8}, 7: {UserID: 9, Deleted: true}}}
		svc := metering.NewHourlyService(st, e.prices, e.clk)
		in := func(account, user int64) metering.RecordInput {
			r := vmInput(account, "vm-op", hour, ubuntu(), "1")
			r.UserID, r.OwnerUUID = user, ""
			return r
		}
		for _, c := range []struct {
			name  string
			batch []metering.RecordInput
			kind  errs.Kind
			field string
		}{
			{"unknown account", []metering.RecordInput{in(6, 0), in(5, 0)}, errs.KindNotFound, "records[1].billing_account_id"},
			{"deleted account", []metering.RecordInput{in(7, 0)}, errs.KindPrecondition, "records[0].billing_account_id"},
			{"another user", []metering.RecordInput{in(6, 9)}, errs.KindInvalid, "records[0].user_id"},
		} {
			_, err := svc.RecordForAccounts(e.ctx, operator, c.batch)
			if !errs.Is(err, c.kind) || errs.FieldOf(err) != c.field {
				t.Errorf("%s: %v, want %v naming %q", c.name, err, c.kind, c.field)
			}
		}
		if _, err := e.store.GetHourlyUsage(e.ctx, "vm-op", pricing.MeterVM, hour); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("a refused batch wrote a record: %v", err)
		}
		_, err := svc.RecordForAccounts(e.ctx, customer, []metering.RecordInput{in(6, 0)})
		wantErr(t, err, errs.KindForbidden, "")

		out, err := svc.RecordForAccounts(e.ctx, operator, []metering.RecordInput{in(6, 0)})
		must(t, err)
		if len(out) != 1 || out[0].UserID != 8 || out[0].OwnerUUID != "vm-op" {
			t.Fatalf("recorded %+v, want user 8 and owner vm-op", out)
		}
		named := in(6, 8)
		named.OwnerUUID = "owner-1"
		out, err = svc.RecordForAccounts(e.ctx, operator, []metering.RecordInput{named})
		must(t, err)
		if out[0].UserID != 8 || out[0].OwnerUUID != "owner-1" {
			t.Fatalf("recorded %+v, want user 8 and owner owner-1", out)
		}
	})
}
