package metering

import (
	"context"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/errs"
)

// RecordForAccounts records an operator's batch (the native API): each
// record's billing account must be a live one in the caller's tree, its
// user is the record's user unless the record names one (which must be
// that user), and its owner defaults to the resource. Field names are
// RecordBatch's ("records[i].billing_account_id").
func (s *HourlyService) RecordForAccounts(ctx context.Context, a actor.Actor, ins []RecordInput) ([]HourlyRecord, error) {
	if err := recorder(a); err != nil {
		return nil, err
	}
	users := map[int64]int64{} // billing account → its user
	for i := range ins {
		in := &ins[i]
		user, seen := users[in.BillingAccountID]
		if !seen {
			var err error
			if user, err = s.accountUser(ctx, a, in.BillingAccountID); err != nil {
				return nil, inRecord(i, err)
			}
			users[in.BillingAccountID] = user
		}
		if in.UserID == 0 {
			in.UserID = user
		} else if in.UserID != user {
			return nil, inRecord(i, errs.Invalidf("user_id", "must be the billing account's user (%d) or left out", user))
		}
		if in.OwnerUUID == "" {
			in.OwnerUUID = in.ResourceID
		}
	}
	return s.RecordBatch(ctx, a, ins)
}

// accountUser returns the user of a live billing account in a's tree.
func (s *HourlyService) accountUser(ctx context.Context, a actor.Actor, id int64) (int64, error) {
	acct, err := s.store.BillingAccountUser(ctx, a.Scope(), id)
	if errs.Is(err, errs.KindNotFound) {
		return 0, &errs.Error{Kind: errs.KindNotFound, Field: "billing_account_id", Msg: "billing account not found"}
	}
	if err != nil {
		return 0, err
	}
	if acct.Deleted {
		return 0, &errs.Error{Kind: errs.KindPrecondition, Field: "billing_account_id", Msg: "the billing account is deleted"}
	}
	return acct.UserID, nil
}
