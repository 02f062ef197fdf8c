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

// refusal is a business refusal: the call answers Code -1 with the message,
// and its transaction rolls back.
type refusal struct {
	msg    string
	result string // the external id the answer still names, if any
}

func (r *refusal) Error() string { return r.msg }

func refusef(format string, args ...any) error { return &refusal{msg: fmt.Sprintf(format, args...)} }

// refuseOn is a refusal naming an object the BSS knows (Result is set).
func refuseOn(result, format string, args ...any) error {
	return &refusal{msg: fmt.Sprintf(format, args...), result: result}
}

// checked runs fn only for valid input; invalid input (an over-long id)
// is refused with Code -1 naming the field.
func checked(invalid error, fn func(Store) (Result, error)) func(Store) (Result, error) {
	if invalid == nil {
		return fn
	}
	return func(Store) (Result, error) { return Result{}, invalid }
}

// MessageUnavailable answers a call the database could not serve in time.
const MessageUnavailable = "The service is busy; try again."

// errDryRun rolls back a check-only call after it ran every check.
var errDryRun = errors.New("check only")

// failure turns an error into the envelope: refusals and the caller's
// errors (bad input, capacity, state) are Code -1 with their message; our
// own failures are Code -1 with a generic message and Internal set.
func failure(err error) Result {
	var r *refusal
	if errors.As(err, &r) {
		return Result{Code: -1, Message: r.msg, Result: r.result}
	}
	switch errs.KindOf(err) {
	case errs.KindInvalid, errs.KindNotFound, errs.KindConflict, errs.KindPrecondition, errs.KindForbidden,
		errs.KindCapacityExceeded, errs.KindQuotaExceeded:
		return Result{Code: -1, Message: errs.Public(err)}
	case errs.KindUnavailable:
		return Result{Code: -1, Message: MessageUnavailable, Unavailable: true}
	}
	return Result{Code: -1, Message: "An error has occurred.", Internal: true}
}

// op names a call in the audit log.
type op struct {
	action     string // e.g. "subscriptions/create"
	objectType string
	objectID   string // the BSS's id of the object, used when the answer names none
}

// run runs one call in one transaction. fn's Result is the answer; an error
// rolls everything back and becomes a Code -1 answer. In check-only mode fn
// runs every check and write, and the transaction is rolled back: a pre-check
// accepts exactly what the real call would. Every call, refused or not,
// leaves an audit row with the track id.
func (s *Service) run(ctx context.Context, c Call, o op, checkOnly bool, fn func(tx Store) (Result, error)) Result {
	var res Result
	err := s.store.Tx(ctx, func(tx Store) error {
		r, err := fn(tx)
		if err != nil {
			return err
		}
		if checkOnly {
			return errDryRun
		}
		res = r
		return tx.AppendAudit(ctx, s.auditEntry(c, o, res, false))
	})
	switch {
	case err == nil:
		return res
	case checkOnly && errors.Is(err, errDryRun):
		res = Result{Code: 0, Message: "OK"}
	default:
		res = failure(err)
	}
	// The call's own transaction rolled back: record it on its own. An
	// audit failure does not change the answer the BSS gets.
	_ = s.store.Tx(ctx, func(tx Store) error { return tx.AppendAudit(ctx, s.auditEntry(c, o, res, checkOnly)) })
	return res
}

func (s *Service) auditEntry(c Call, o op, r Result, checkOnly bool) audit.Entry {
	id := r.Result
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
	detail := fmt.Sprintf("action=%s code=%d message=%q", o.action, r.Code, r.Message)
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
