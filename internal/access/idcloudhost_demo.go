package access

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/errs"
)

// The seed's example user (idcloudhost Get User Info) and tokens (List
// Tokens), with their numbers, ids and times, for --demo.
const (
	DemoIDCHUserID           = 8
	DemoIDCHEmail            = "user@example.com"
	DemoIDCHUnrestrictedKey  = "vYNKd8VWHg583sTkAZ8vKbyVtyXWILXn" // token 2
	DemoIDCHRestrictedKey    = "PS2vfOCKuU52be83QZhMMndqOusfFkHr" // token 7, restricted to billing account 6
	DemoIDCHBillingAccountID = 6
)

func demoTime(s string) time.Time {
	t, err := time.Parse(time.DateTime, s)
	if err != nil {
		panic(err) // constants below
	}
	return t.UTC()
}

// LoadDemoUser loads the seed's user 8 (profile 22, user@example.com) as
// the user of a customer org. It is idempotent: an existing user 8 is
// returned as it is.
func (s *Identity) LoadDemoUser(ctx context.Context, orgID string) (IDCHUser, error) {
	sys := actor.System("demo")
	var u IDCHUser
	err := s.store.Tx(ctx, func(tx IdentityStore) error {
		var err error
		if u, err = tx.GetIDCHUser(ctx, "/", DemoIDCHUserID); err == nil || !errs.Is(err, errs.KindNotFound) {
			return err
		}
		o, err := tx.GetOrg(ctx, "/", orgID)
		if err != nil {
			return err
		}
		if o.Kind != actor.Customer {
			return errs.Invalid("orgId", "must be a customer org")
		}
		u = IDCHUser{ID: DemoIDCHUserID, OrgID: o.ID, OrgPath: o.Path, Email: DemoIDCHEmail,
			CookieID: "61b0378574974ae88dbfec0feb9917bc", ConsumerID: "9b68f9e5-34a5-41bb-8938-944c17e38723",
			LastActivity: demoTime("2018-02-22 14:18:47"), CreatedAt: demoTime("2018-02-21 13:58:00"),
			Profile: IDCHProfile{ID: 22, FirstName: "Cloudia", LastName: "Iaas", PhoneNumber: "+111111111",
				PersonalIDNumber: "123456", Avatar: Gravatar(DemoIDCHEmail),
				CreatedAt: demoTime("2018-10-25 11:02:59"), UpdatedAt: demoTime("2021-05-18 11:07:00")}}
		if err := tx.InsertIDCHUser(ctx, u); err != nil {
			return userConflict(err)
		}
		if err := tx.RaiseNumber(ctx, counterUser, u.ID); err != nil {
			return err
		}
		if err := tx.RaiseNumber(ctx, counterProfile, u.Profile.ID); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(sys, s.now(), "idcloudhost_user.create", "idcloudhost_user",
			strconv.FormatInt(u.ID, 10), o.Path, "demo"))
	})
	return u, err
}

// LoadDemoTokens loads the seed's tokens 2 (unrestricted) and 7 (restricted
// to billing account 6, which must exist by then) for user 8, with the
// seed's secrets, and returns them. Idempotent.
func (s *Identity) LoadDemoTokens(ctx context.Context) ([]CreatedIDCHToken, error) {
	sys := actor.System("demo")
	demo := []struct {
		t      IDCHToken
		secret string
	}{
		{IDCHToken{ID: 2, Description: "hea token", KongID: "a7540e94-bc84-4f18-a391-002c9b31eb34",
			CreatedAt: demoTime("2018-02-21 14:00:07")}, DemoIDCHUnrestrictedKey},
		{IDCHToken{ID: 7, Description: "Token Description", Restricted: true, BillingAccountID: DemoIDCHBillingAccountID,
			KongID: "1dd6f9f7-f679-4ad0-a44d-9343c37a7dfb", CreatedAt: demoTime("2018-02-22 14:24:02")}, DemoIDCHRestrictedKey},
	}
	var out []CreatedIDCHToken
	err := s.store.Tx(ctx, func(tx IdentityStore) error {
		out = out[:0]
		u, err := tx.GetIDCHUser(ctx, "/", DemoIDCHUserID)
		if err != nil {
			return fmt.Errorf("demo tokens need the demo user: %w", err)
		}
		for _, d := range demo {
			t := d.t
			t.UserID, t.OrgID, t.OrgPath, t.ConsumerID = u.ID, u.OrgID, u.OrgPath, u.ConsumerID
			t.Hash, t.Prefix = HashKey(d.secret), d.secret[:IDCHTokenShown]
			if got, err := tx.GetIDCHToken(ctx, u.ID, t.ID); err == nil {
				out = append(out, CreatedIDCHToken{IDCHToken: got, Secret: d.secret})
				continue
			} else if !errs.Is(err, errs.KindNotFound) {
				return err
			}
			if err := s.checkAccount(ctx, tx, u, t.BillingAccountID); err != nil {
				return fmt.Errorf("demo token %d: %w", t.ID, err)
			}
			if err := tx.InsertIDCHToken(ctx, t); err != nil {
				return err
			}
			if err := tx.RaiseNumber(ctx, counterToken, t.ID); err != nil {
				return err
			}
			if err := tx.AppendAudit(ctx, audit.New(sys, s.now(), "idcloudhost_token.create", "idcloudhost_token",
				strconv.FormatInt(t.ID, 10), u.OrgPath, "demo")); err != nil {
				return err
			}
			out = append(out, CreatedIDCHToken{IDCHToken: t, Secret: d.secret})
		}
		return nil
	})
	return out, err
}
