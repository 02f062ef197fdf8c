// Package idem is the model of idempotency keys shared by the HTTP
// middleware that honours them (internal/httpapi/idempotency, which
// documents the rules) and the store that keeps them (sqlstore): the store
// depends on this small package, not on the HTTP layer.
package idem

import (
	"context"
	"time"
)

// Record is a stored request and, once done, its response.
type Record struct {
	PrincipalID string // the credential that ran it
	Grant       string // the rights it ran with (see Grant)
	RequestHash string
	Status      int // 0 while the first request is still running
	ContentType string
	Body        []byte
	CreatedAt   time.Time
	LockedUntil time.Time // while Status is 0: the owner's lease
}

// Claim is a request taking a key.
type Claim struct {
	Scope       string // the org the key protects
	Key         string
	PrincipalID string
	Grant       string
	RequestHash string
	Owner       string // random per attempt: only the owner completes or abandons
	Now         time.Time
	LockedUntil time.Time
}

// Store keeps records.
type Store interface {
	// BeginIdempotency claims the key: a new key, or an in-progress one
	// with the same request hash whose lease ended before c.Now (taken
	// over). Otherwise it returns the existing record (existing == true).
	BeginIdempotency(ctx context.Context, c Claim) (rec Record, existing bool, err error)
	// RenewIdempotency moves the lease of a key the owner still holds.
	RenewIdempotency(ctx context.Context, scope, key, owner string, until time.Time) error
	CompleteIdempotency(ctx context.Context, scope, key, owner string, status int, contentType string, body []byte) error
	AbandonIdempotency(ctx context.Context, scope, key, owner string) error
	PurgeIdempotency(ctx context.Context, before time.Time) (int, error)
}
