// Package audit records who changed what. Every mutation writes one Entry in
// the same transaction as the change, so the log and the data never disagree.
package audit

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
)

// Entry is one audit log row.
type Entry struct {
	ID            string
	At            time.Time
	RequestID     string
	PrincipalType string
	PrincipalID   string
	OrgID         string // the principal's org
	OrgPath       string // the path of the org the changed object belongs to: who may read the entry
	Action        string // e.g. "partner.create"
	ObjectType    string
	ObjectID      string
	Detail        string // short JSON or text with the changed values
}

// New builds an entry for a change made by a to an object of the org at
// objectPath.
func New(a actor.Actor, at time.Time, action, objectType, objectID, objectPath, detail string) Entry {
	return Entry{
		ID:            ids.New(),
		At:            at,
		RequestID:     a.RequestID,
		PrincipalType: a.Type,
		PrincipalID:   a.ID,
		OrgID:         a.OrgID,
		OrgPath:       objectPath,
		Action:        action,
		ObjectType:    objectType,
		ObjectID:      objectID,
		Detail:        detail,
	}
}

// Store reads the log.
type Store interface {
	ListAudit(ctx context.Context, scope, after string, limit int) ([]Entry, error)
}

// Service reads the audit log within the caller's subtree.
type Service struct{ store Store }

// NewService returns an audit reader.
func NewService(s Store) *Service { return &Service{store: s} }

// List returns up to limit entries after the cursor (an entry id), oldest
// first.
func (s *Service) List(ctx context.Context, a actor.Actor, after string, limit int) ([]Entry, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		return nil, errs.Invalid("limit", "must be between 1 and 1000")
	}
	return s.store.ListAudit(ctx, a.Scope(), after, limit)
}
