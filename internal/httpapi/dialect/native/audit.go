package native

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
)

// auditEntry is one change: who did what to which object.
type auditEntry struct {
	ID            string    `json:"id" format:"uuid"`
	At            time.Time `json:"at"`
	RequestID     string    `json:"requestId"`
	PrincipalType string    `json:"principalType" enum:"api_key,user,system"`
	PrincipalID   string    `json:"principalId"`
	OrgID         string    `json:"orgId" doc:"The principal's org (empty for the system)."`
	Action        string    `json:"action" example:"partner.create"`
	ObjectType    string    `json:"objectType" example:"partner"`
	ObjectID      string    `json:"objectId"`
	Detail        string    `json:"detail"`
}

func auditFrom(e audit.Entry) auditEntry {
	return auditEntry{ID: e.ID, At: e.At.UTC(), RequestID: e.RequestID, PrincipalType: e.PrincipalType,
		PrincipalID: e.PrincipalID, OrgID: e.OrgID, Action: e.Action, ObjectType: e.ObjectType,
		ObjectID: e.ObjectID, Detail: e.Detail}
}

func (s *server) registerAudit(api huma.API) {
	register(api, huma.Operation{OperationID: "listAudit", Method: http.MethodGet, Path: "/audit",
		Summary: "List the audit log of the caller's subtree, oldest first"}, s.listAudit)
}

func (s *server) listAudit(ctx context.Context, in *pageParams) (*output[list[auditEntry]], error) {
	return paged(ctx, s, *in, func(a actor.Actor, after string, limit int) ([]audit.Entry, error) {
		return s.d.Audit.List(ctx, a, after, limit)
	}, func(e audit.Entry) string { return e.ID }, auditFrom)
}
