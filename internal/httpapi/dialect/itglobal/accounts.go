package itglobal

import (
	"context"
	"strconv"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/reseller"
)

// IT-1: every account, SimpleOne ones included; email is a substring; withAnInternalRole=true keeps only accounts
// with an internal role, false or absent applies no filter (IT-amb-10).
func (s *server) listAccounts(ctx context.Context, c *call) (any, error) {
	f := reseller.AccountFilter{}
	f.Email, _ = query(c.r, "email")
	if v, ok := query(c.r, "withAnInternalRole"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, errs.Invalid("withAnInternalRole", "must be true or false")
		}
		f.InternalOnly = b
	}
	list, err := s.d.Reseller.ListAccounts(ctx, c.a, f)
	if err != nil {
		return nil, err
	}
	return ok(accountsOf(list))
}

// IT-2.
func (s *server) createAccount(ctx context.Context, c *call) (any, error) {
	b, err := readBody(c.r)
	if err != nil {
		return nil, err
	}
	var in reseller.CreateAccountInput
	var e1, e2, e3 error
	in.Email, _, e1 = b.str("Email", true)
	in.State, _, e2 = b.str("State", true)
	in.AdditionalData, e3 = b.object("AdditionalData")
	if err := collect(e1, e2, e3); err != nil {
		return nil, err
	}
	if err := enum("State", in.State, reseller.StateNotActivated, reseller.StateActive); err != nil {
		return nil, err
	}
	acc, err := s.d.Reseller.CreateAccount(ctx, c.a, in)
	if err != nil {
		return nil, err
	}
	return ok(accountOf(acc))
}

// IT-3 (deprecated): integer ids, int64 because the seed's own sample
// overflows int32 (IT-amb-6); answered with Deprecation: true (IT-amb-23).
func (s *server) createSimpleOneLegacy(ctx context.Context, c *call) (any, error) {
	b, err := readBody(c.r)
	if err != nil {
		return nil, err
	}
	company, _, e1 := b.integer("CompanyId", true, 1, maxInt64)
	user, _, e2 := b.integer("UserId", true, 1, maxInt64)
	email, _, e3 := b.str("Email", true)
	if err := collect(e1, e2, e3); err != nil {
		return nil, err
	}
	c.w.Header().Set("Deprecation", "true")
	acc, err := s.d.Reseller.CreateSimpleOneAccount(ctx, c.a, reseller.CreateSimpleOneInput{
		CompanyID: itoa(company), UserID: itoa(user), Email: email})
	if err != nil {
		return nil, err
	}
	return ok(accountOf(acc))
}

// IT-4.
func (s *server) getAccount(ctx context.Context, c *call) (any, error) {
	acc, err := s.d.Reseller.GetAccount(ctx, c.a, c.r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return ok(accountOf(acc))
}

// IT-5: the guards are the service's; a failed one is a 409 naming it.
func (s *server) deleteAccount(ctx context.Context, c *call) (any, error) {
	id := c.r.PathValue("id")
	if err := s.d.Reseller.DeleteAccount(ctx, c.a, id); err != nil {
		return nil, err
	}
	return ok(deletedDTO{Id: id, Deleted: true})
}

// IT-17.
func (s *server) listSimpleOne(ctx context.Context, c *call) (any, error) {
	yes := true
	list, err := s.d.Reseller.ListAccounts(ctx, c.a, reseller.AccountFilter{SimpleOne: &yes})
	if err != nil {
		return nil, err
	}
	return ok(accountsOf(list))
}

// IT-18: string ids.
func (s *server) createSimpleOne(ctx context.Context, c *call) (any, error) {
	b, err := readBody(c.r)
	if err != nil {
		return nil, err
	}
	var in reseller.CreateSimpleOneInput
	var e1, e2, e3 error
	in.CompanyID, _, e1 = b.str("SimpleOneCompanyId", true)
	in.UserID, _, e2 = b.str("SimpleOneUserId", true)
	in.Email, _, e3 = b.str("Email", true)
	if err := collect(e1, e2, e3); err != nil {
		return nil, err
	}
	acc, err := s.d.Reseller.CreateSimpleOneAccount(ctx, c.a, in)
	if err != nil {
		return nil, err
	}
	return ok(accountOf(acc))
}

// IT-19.
func (s *server) getSimpleOne(ctx context.Context, c *call) (any, error) {
	acc, err := s.d.Reseller.GetSimpleOneAccount(ctx, c.a, c.r.PathValue("accountId"))
	if err != nil {
		return nil, err
	}
	return ok(accountOf(acc))
}

// IT-20.
func (s *server) deleteSimpleOne(ctx context.Context, c *call) (any, error) {
	id := c.r.PathValue("accountId")
	if err := s.d.Reseller.DeleteSimpleOneAccount(ctx, c.a, id); err != nil {
		return nil, err
	}
	return ok(deletedDTO{Id: id, Deleted: true})
}

// IT-21: a DELETE with a JSON body.
func (s *server) deleteSimpleOneByUser(ctx context.Context, c *call) (any, error) {
	b, err := readBody(c.r)
	if err != nil {
		return nil, err
	}
	user, _, err := b.str("SimpleOneUserId", true)
	if err != nil {
		return nil, err
	}
	if err := s.d.Reseller.DeleteSimpleOneAccountByUser(ctx, c.a, user); err != nil {
		return nil, err
	}
	return ok(deletedDTO{SimpleOneUserId: user, Deleted: true})
}

// IT-22: projectId is a string of digits here (IT-amb-22).
func (s *server) changeSimpleOneCompany(ctx context.Context, c *call) (any, error) {
	id, err := positiveID(c.r, "projectId")
	if err != nil {
		return nil, err
	}
	b, err := readBody(c.r)
	if err != nil {
		return nil, err
	}
	company, _, err := b.str("NewSimpleOneCompanyId", true)
	if err != nil {
		return nil, err
	}
	p, err := s.d.Reseller.ChangeSimpleOneCompany(ctx, c.a, id, company)
	if err != nil {
		return nil, err
	}
	return ok(projectOf(p))
}
