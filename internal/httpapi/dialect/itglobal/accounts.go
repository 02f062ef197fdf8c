package itglobal

import (
	"context"
	"encoding/json"

	"github.com/trellis-cloud/trellis/internal/httpapi/decode"
	"github.com/trellis-cloud/trellis/internal/reseller"
)

// IT-1: every account, SimpleOne ones included; email is a substring; withAnInternalRole=true keeps only accounts
// with an internal role, false or absent applies no filter (IT-amb-10).
func (s *server) listAccounts(ctx context.Context, c *call) (any, error) {
	var req struct {
		Email        string `wire:"email"`
		InternalOnly bool   `wire:"withAnInternalRole"`
	}
	if err := decoder.Decode(queryValues(c.r), &req); err != nil {
		return nil, err
	}
	list, err := s.d.Reseller.ListAccounts(ctx, c.a, reseller.AccountFilter{Email: req.Email, InternalOnly: req.InternalOnly})
	if err != nil {
		return nil, err
	}
	return ok(accountsOf(list))
}

// createAccountRequest is IT-2's body.
type createAccountRequest struct {
	Email          string           `wire:"Email,required"`
	State          string           `wire:"State,required"`
	AdditionalData decode.RawObject `wire:"AdditionalData"`
}

// IT-2.
func (s *server) createAccount(ctx context.Context, c *call) (any, error) {
	var req createAccountRequest
	if err := decoder.Body(c.r, &req); err != nil {
		return nil, err
	}
	acc, err := s.d.Reseller.CreateAccount(ctx, c.a, reseller.CreateAccountInput{
		Email: req.Email, State: req.State, AdditionalData: json.RawMessage(req.AdditionalData)})
	if err != nil {
		return nil, err
	}
	return ok(accountOf(acc))
}

// createSimpleOneLegacyRequest is IT-3's body: integer ids, int64
// because the seed's own sample overflows int32 (IT-amb-6).
type createSimpleOneLegacyRequest struct {
	CompanyID int64  `wire:"CompanyId,required,min=1"`
	UserID    int64  `wire:"UserId,required,min=1"`
	Email     string `wire:"Email,required"`
}

// IT-3 (deprecated): answered with Deprecation: true (IT-amb-23).
func (s *server) createSimpleOneLegacy(ctx context.Context, c *call) (any, error) {
	var req createSimpleOneLegacyRequest
	if err := decoder.Body(c.r, &req); err != nil {
		return nil, err
	}
	c.w.Header().Set("Deprecation", "true")
	acc, err := s.d.Reseller.CreateSimpleOneAccount(ctx, c.a, reseller.CreateSimpleOneInput{
		CompanyID: itoa(req.CompanyID), UserID: itoa(req.UserID), Email: req.Email})
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

// createSimpleOneRequest is IT-18's body: string ids.
type createSimpleOneRequest struct {
	CompanyID string `wire:"SimpleOneCompanyId,required"`
	UserID    string `wire:"SimpleOneUserId,required"`
	Email     string `wire:"Email,required"`
}

// IT-18.
func (s *server) createSimpleOne(ctx context.Context, c *call) (any, error) {
	var req createSimpleOneRequest
	if err := decoder.Body(c.r, &req); err != nil {
		return nil, err
	}
	acc, err := s.d.Reseller.CreateSimpleOneAccount(ctx, c.a, reseller.CreateSimpleOneInput{
		CompanyID: req.CompanyID, UserID: req.UserID, Email: req.Email})
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
	var req struct {
		UserID string `wire:"SimpleOneUserId,required"`
	}
	if err := decoder.Body(c.r, &req); err != nil {
		return nil, err
	}
	if err := s.d.Reseller.DeleteSimpleOneAccountByUser(ctx, c.a, req.UserID); err != nil {
		return nil, err
	}
	return ok(deletedDTO{SimpleOneUserId: req.UserID, Deleted: true})
}

// IT-22: projectId is a string of digits here (IT-amb-22).
func (s *server) changeSimpleOneCompany(ctx context.Context, c *call) (any, error) {
	id, err := positiveID(c.r, "projectId")
	if err != nil {
		return nil, err
	}
	var req struct {
		CompanyID string `wire:"NewSimpleOneCompanyId,required"`
	}
	if err := decoder.Body(c.r, &req); err != nil {
		return nil, err
	}
	p, err := s.d.Reseller.ChangeSimpleOneCompany(ctx, c.a, id, req.CompanyID)
	if err != nil {
		return nil, err
	}
	return ok(projectOf(p))
}
