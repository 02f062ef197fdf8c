package impossiblecloud

import (
	"net/http"
	"time"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/decode"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/impossiblecloud/icapi"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/objstore"
)

// The partner's own routes act on the partner the key belongs to; the
// shared helpers below take partnerID "" for that case.

func (s *server) ListStorageAccounts(w http.ResponseWriter, r *http.Request) {
	s.listAccounts(w, r, "")
}

func (s *server) CreateStorageAccount(w http.ResponseWriter, r *http.Request) {
	s.createAccount(w, r, "")
}

func (s *server) GetStorageAccount(w http.ResponseWriter, r *http.Request, accountID string) {
	s.getAccount(w, r, "", accountID)
}

func (s *server) PatchStorageAccount(w http.ResponseWriter, r *http.Request, accountID string) {
	s.patchAccount(w, r, "", accountID)
}

func (s *server) DeleteStorageAccount(w http.ResponseWriter, r *http.Request, accountID string) {
	s.deleteAccount(w, r, "", accountID)
}

func (s *server) GetStorageAccountUsage(w http.ResponseWriter, r *http.Request, accountID string, p icapi.GetStorageAccountUsageParams) {
	s.accountUsage(w, r, "", accountID, p.From, p.To)
}

func (s *server) ListStorageAccountsUsage(w http.ResponseWriter, r *http.Request, p icapi.ListStorageAccountsUsageParams) {
	s.partnerUsage(w, r, "", p.From, p.To)
}

func (s *server) ListRegions(w http.ResponseWriter, r *http.Request) {
	rs, err := s.d.Objstore.Regions(r.Context())
	out := icapi.ApiListRegionsResponse{Regions: make([]icapi.ApiRegion, len(rs))}
	for i, g := range rs {
		out.Regions[i] = icapi.ApiRegion{Name: g.Name, S3Url: g.S3URL, IamUrl: g.IAMURL, StsUrl: g.STSURL}
	}
	s.reply(w, r, http.StatusOK, out, err)
}

// ---- shared by the distributor and partner routes ----

func (s *server) listAccounts(w http.ResponseWriter, r *http.Request, partnerID string) {
	as, err := s.d.Objstore.ListStorageAccounts(r.Context(), who(r), partnerID)
	s.reply(w, r, http.StatusOK, mapSlice(as, accountOut), err)
}

func (s *server) createAccount(w http.ResponseWriter, r *http.Request, partnerID string) {
	in, err := decodeCreateAccount(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sa, err := s.d.Objstore.CreateStorageAccount(r.Context(), who(r), partnerID, in)
	s.reply(w, r, http.StatusCreated, accountOut(sa), err)
}

// createAccountRequest is the body of a storage account's creation.
type createAccountRequest struct {
	AllocatedCapacity int64  `wire:"allocatedCapacity,required"`
	AllowOverdraft    bool   `wire:"allowOverdraft,required"`
	Name              string `wire:"name,required"`
	ClientAccount     struct {
		ContactEmail string `wire:"contactEmail,required"`
		Password     string `wire:"password,required"`
	} `wire:"clientAccount,required"`
}

func decodeCreateAccount(r *http.Request) (objstore.CreateStorageAccountInput, error) {
	var req createAccountRequest
	if err := wire.Body(r, &req); err != nil {
		return objstore.CreateStorageAccountInput{}, err
	}
	return objstore.CreateStorageAccountInput{
		AllocatedCapacity: req.AllocatedCapacity,
		AllowOverdraft:    req.AllowOverdraft,
		Name:              req.Name,
		ContactEmail:      req.ClientAccount.ContactEmail,
		Password:          req.ClientAccount.Password,
	}, nil
}

func (s *server) getAccount(w http.ResponseWriter, r *http.Request, partnerID, id string) {
	sa, err := s.d.Objstore.GetStorageAccount(r.Context(), who(r), partnerID, id)
	s.reply(w, r, http.StatusOK, accountOut(sa), err)
}

// patchAccountRequest schedules a deletion (a time) or cancels it (null).
type patchAccountRequest struct {
	PendingDeletedAt decode.Nullable[time.Time] `wire:"pendingDeletedAt"`
}

func (s *server) patchAccount(w http.ResponseWriter, r *http.Request, partnerID, id string) {
	var req patchAccountRequest
	if err := wire.Body(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if !req.PendingDeletedAt.Set {
		s.writeError(w, r, errs.Invalid("pendingDeletedAt", "is required: a future time to schedule the deletion, or null to cancel it"))
		return
	}
	var at *time.Time
	if !req.PendingDeletedAt.Null {
		at = &req.PendingDeletedAt.Value
	}
	sa, err := s.d.Objstore.SetPendingDeletion(r.Context(), who(r), partnerID, id, at)
	s.reply(w, r, http.StatusOK, accountOut(sa), err)
}

func (s *server) deleteAccount(w http.ResponseWriter, r *http.Request, partnerID, id string) {
	err := s.d.Objstore.ScheduleDeletion(r.Context(), who(r), partnerID, id)
	s.reply(w, r, http.StatusNoContent, nil, err)
}

func (s *server) accountUsage(w http.ResponseWriter, r *http.Request, partnerID, id, from, to string) {
	p, err := metering.ParsePeriod(from, to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.d.Metering.AccountUsage(r.Context(), who(r), partnerID, id, p)
	s.reply(w, r, http.StatusOK, usageOut(u), err)
}

func (s *server) partnerUsage(w http.ResponseWriter, r *http.Request, partnerID, from, to string) {
	p, err := metering.ParsePeriod(from, to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	us, err := s.d.Metering.PartnerUsage(r.Context(), who(r), partnerID, p)
	s.reply(w, r, http.StatusOK, mapSlice(us, usageOut), err)
}

// memberRequest is the body of a member's creation.
type memberRequest struct {
	Email    string `wire:"email,required"`
	Name     string `wire:"name"`
	Password string `wire:"password,required"`
	Role     string `wire:"role,required"`
}

func decodeMember(r *http.Request) (access.CreateMemberInput, error) {
	var req memberRequest
	if err := wire.Body(r, &req); err != nil {
		return access.CreateMemberInput{}, err
	}
	return access.CreateMemberInput{Email: req.Email, Name: req.Name, Password: req.Password, Role: req.Role}, nil
}
