package bss

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/errs"
)

// ActorType is the principal type of the audit rows a BSS call writes (the
// installation's application id is the principal).
const ActorType = "bss_installation"

// actor is who a call acts as: the installation, with staff rights on its
// distributor's subtree (partners and storage accounts), and the BSS track
// id as request id so every audit row of the call carries it.
func (c Call) actor() actor.Actor {
	return actor.Actor{Type: ActorType, ID: c.Inst.AppID, OrgID: c.Inst.DistributorID, OrgPath: c.Inst.DistributorPath,
		OrgKind: actor.Distributor, Role: actor.Staff, RequestID: c.TrackID}
}

// Outcome is what an account, subscription or add-on call did.
type Outcome struct {
	Message string // what happened, in words ("Subscription created"; "OK" for a pre-check)
	ID      string // our external id of the object ("a-…", "s-…", "ad-…"), if any
	Exists  bool   // accounts/exists: the account exists
	Email   string // accounts/exists: the existing account's e-mail
	// Fields are the subscription's custom field values (FieldStorageID).
	Fields map[string]string
}

// Refusal is a call refused for a reason the BSS shows as it is (bad input,
// an unknown object, a state that forbids it, no capacity): Err carries the
// kind and the message, Object the external id of the object the refusal is
// about, if any. Every refusal rolls its call back.
type Refusal struct {
	Object string
	Err    *errs.Error
}

func (r *Refusal) Error() string { return r.Err.Error() }
func (r *Refusal) Unwrap() error { return r.Err }

// ObjectOf is the external id a refusal is about, "" for none.
func ObjectOf(err error) string {
	var r *Refusal
	if errors.As(err, &r) {
		return r.Object
	}
	return ""
}

func refuse(k errs.Kind, format string, args ...any) error {
	return &Refusal{Err: errs.Newf(k, format, args...)}
}

// refuseOn is a refusal about an object the BSS knows.
func refuseOn(k errs.Kind, object, format string, args ...any) error {
	return &Refusal{Object: object, Err: errs.Newf(k, format, args...)}
}

// checked runs fn only for valid input; invalid input (an over-long id)
// is refused naming the field.
func checked(invalid error, fn func(Store) (Outcome, error)) func(Store) (Outcome, error) {
	if invalid == nil {
		return fn
	}
	return func(Store) (Outcome, error) { return Outcome{}, invalid }
}

// errDryRun rolls back a check-only call after it ran every check.
var errDryRun = errors.New("check only")

// op names a call in the audit log.
type op struct {
	action     string // e.g. "subscriptions/create"
	objectType string
	objectID   string // the BSS's id of the object, used when the outcome names none
}

// run runs one call in one transaction. fn's Outcome is the answer; an
// error rolls everything back and is returned. In check-only mode fn runs
// every check and write, and the transaction is rolled back: a pre-check
// accepts exactly what the real call would, and its outcome is "OK". Every
// call, refused or not, leaves an audit row with the track id.
func (s *Service) run(ctx context.Context, c Call, o op, checkOnly bool, fn func(tx Store) (Outcome, error)) (Outcome, error) {
	var out Outcome
	err := s.store.Tx(ctx, func(tx Store) error {
		r, err := fn(tx)
		if err != nil {
			return err
		}
		if checkOnly {
			return errDryRun
		}
		out = r
		return tx.AppendAudit(ctx, s.auditEntry(c, o, out, nil, false))
	})
	switch {
	case err == nil:
		return out, nil
	case checkOnly && errors.Is(err, errDryRun):
		out, err = Outcome{Message: "OK"}, nil
	}
	// The call's own transaction rolled back: record it on its own. An
	// audit failure does not change the outcome.
	_ = s.store.Tx(ctx, func(tx Store) error { return tx.AppendAudit(ctx, s.auditEntry(c, o, out, err, checkOnly)) })
	return out, err
}

// auditEntry records a call: its outcome (code 0, 1 for an account that
// exists) or its failure (code -1 and the public message).
func (s *Service) auditEntry(c Call, o op, out Outcome, failed error, checkOnly bool) audit.Entry {
	code, msg, id := 0, out.Message, out.ID
	if out.Exists {
		code = 1
	}
	if failed != nil {
		code, msg, id = -1, errs.Public(failed), ObjectOf(failed)
	}
	if id == "" {
		id = o.objectID
	}
	// An id refused as over-long is recorded cut to the longest id kept.
	if r := []rune(id); len(r) > maxID {
		id = string(r[:maxID])
	}
	if r := []rune(o.objectID); len(r) > maxID {
		o.objectID = string(r[:maxID])
	}
	detail := fmt.Sprintf("action=%s code=%d message=%q", o.action, code, msg)
	if o.objectID != "" && o.objectID != id {
		detail += fmt.Sprintf(" bssId=%q", o.objectID)
	}
	if checkOnly {
		detail += " checkOnly=true"
	}
	return audit.New(c.actor(), s.now(), "bss."+strings.ReplaceAll(o.action, "/", "."), o.objectType, id, c.Inst.DistributorPath, detail)
}

// shortID is the random part of an external id.
func shortID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// randomPassword is a storage account's console password nobody is told:
// BSS customers use the S3 keys; the rule wants all four character classes.
func randomPassword() string {
	var b [18]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:]) + "Aa1!"
}
