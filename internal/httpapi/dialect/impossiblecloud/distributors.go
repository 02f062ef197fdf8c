package impossiblecloud

import (
	"net/http"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/decode"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/impossiblecloud/icapi"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// pageSize is how many contracts one store call returns while the vendor's
// unpaginated list is assembled.
const pageSize = 500

func (s *server) ListContracts(w http.ResponseWriter, r *http.Request) {
	out := []icapi.ApiDistributorContractResponse{}
	after := ""
	for {
		page, err := s.d.Tenancy.ListContracts(r.Context(), who(r), after, pageSize)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		out = append(out, mapSlice(page, contractOut)...)
		if len(page) < pageSize {
			break
		}
		after = page[len(page)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) ListContractPartners(w http.ResponseWriter, r *http.Request, contractID openapi_types.UUID) {
	ps, err := s.d.Tenancy.ListPartners(r.Context(), who(r), contractID.String())
	s.reply(w, r, http.StatusOK, mapSlice(ps, partnerOut), err)
}

func (s *server) CreatePartner(w http.ResponseWriter, r *http.Request) {
	in, err := decodeCreatePartner(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p, err := s.d.Tenancy.CreatePartner(r.Context(), who(r), in)
	s.reply(w, r, http.StatusCreated, partnerOut(p), err)
}

// createPartnerRequest is the body of a partner's creation.
type createPartnerRequest struct {
	AllocatedCapacity int64  `wire:"allocatedCapacity,required"`
	ContractID        string `wire:"distributorContractId,required"`
	Name              string `wire:"name,required"`
	AllowOverdraft    bool   `wire:"allowOverdraft"`
}

func decodeCreatePartner(r *http.Request) (tenancy.CreatePartnerInput, error) {
	var req createPartnerRequest
	if err := wire.Body(r, &req); err != nil {
		return tenancy.CreatePartnerInput{}, err
	}
	return tenancy.CreatePartnerInput{AllocatedCapacity: req.AllocatedCapacity, ContractID: req.ContractID,
		Name: req.Name, AllowOverdraft: req.AllowOverdraft}, nil
}

func (s *server) GetPartner(w http.ResponseWriter, r *http.Request, partnerID string) {
	p, err := s.d.Tenancy.GetPartner(r.Context(), who(r), partnerID)
	s.reply(w, r, http.StatusOK, partnerOut(p), err)
}

func (s *server) UpdatePartner(w http.ResponseWriter, r *http.Request, partnerID openapi_types.UUID) {
	in, err := decodeUpdatePartner(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p, err := s.d.Tenancy.UpdatePartner(r.Context(), who(r), partnerID.String(), in)
	s.reply(w, r, http.StatusOK, partnerOut(p), err)
}

// updatePartnerRequest is the partial PUT body: fields left out stay as
// they are (the vendor's PUT merges). The contract cannot change.
type updatePartnerRequest struct {
	ContractID        *decode.Value `wire:"distributorContractId"`
	AllocatedCapacity *int64        `wire:"allocatedCapacity"`
	Name              *string       `wire:"name"`
}

func decodeUpdatePartner(r *http.Request) (tenancy.UpdatePartnerInput, error) {
	var req updatePartnerRequest
	if err := wire.Body(r, &req); err != nil {
		return tenancy.UpdatePartnerInput{}, err
	}
	if req.ContractID != nil {
		return tenancy.UpdatePartnerInput{}, errs.Invalid("distributorContractId", "cannot be changed; create the partner under the other contract instead")
	}
	return tenancy.UpdatePartnerInput{AllocatedCapacity: req.AllocatedCapacity, Name: req.Name}, nil
}

func (s *server) DeletePartner(w http.ResponseWriter, r *http.Request, partnerID openapi_types.UUID) {
	err := s.d.Tenancy.DeletePartner(r.Context(), who(r), partnerID.String())
	s.reply(w, r, http.StatusNoContent, nil, err)
}

// ---- members ----

func (s *server) CreatePartnerMember(w http.ResponseWriter, r *http.Request, partnerID openapi_types.UUID) {
	in, err := decodeMember(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.d.Access.CreateMember(r.Context(), who(r), partnerID.String(), in)
	s.reply(w, r, http.StatusCreated, memberOut(u), err)
}

func (s *server) ListPartnerMembers(w http.ResponseWriter, r *http.Request, partnerID openapi_types.UUID) {
	us, err := s.d.Access.ListMembers(r.Context(), who(r), partnerID.String())
	s.reply(w, r, http.StatusOK, mapSlice(us, memberOut), err)
}

func (s *server) DeletePartnerMember(w http.ResponseWriter, r *http.Request, partnerID, memberID openapi_types.UUID) {
	err := s.d.Access.DeleteMember(r.Context(), who(r), partnerID.String(), memberID.String())
	s.reply(w, r, http.StatusNoContent, nil, err)
}

// ---- the partner's storage accounts, as its distributor sees them ----

func (s *server) ListPartnerStorageAccounts(w http.ResponseWriter, r *http.Request, partnerID string) {
	s.listAccounts(w, r, partnerID)
}

func (s *server) CreatePartnerStorageAccount(w http.ResponseWriter, r *http.Request, partnerID string) {
	s.createAccount(w, r, partnerID)
}

func (s *server) GetPartnerStorageAccount(w http.ResponseWriter, r *http.Request, partnerID, accountID string) {
	s.getAccount(w, r, partnerID, accountID)
}

func (s *server) PatchPartnerStorageAccount(w http.ResponseWriter, r *http.Request, partnerID, accountID string) {
	s.patchAccount(w, r, partnerID, accountID)
}

func (s *server) DeletePartnerStorageAccount(w http.ResponseWriter, r *http.Request, partnerID, accountID string) {
	s.deleteAccount(w, r, partnerID, accountID)
}

func (s *server) GetPartnerStorageAccountUsage(w http.ResponseWriter, r *http.Request, partnerID, accountID string, p icapi.GetPartnerStorageAccountUsageParams) {
	s.accountUsage(w, r, partnerID, accountID, p.From, p.To)
}

func (s *server) GetPartnerUsage(w http.ResponseWriter, r *http.Request, partnerID openapi_types.UUID, p icapi.GetPartnerUsageParams) {
	s.partnerUsage(w, r, partnerID.String(), p.From, p.To)
}
