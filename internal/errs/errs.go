// Package errs defines error values with a kind. Domain code says what went
// wrong (the kind, and the field at fault); each HTTP dialect decides how the
// kind looks on the wire, through the one table in httpapi/problem.
package errs

import (
	"errors"
	"fmt"
)

// Kind classifies an error for callers that must react to it (HTTP status,
// retry, S3 error code).
type Kind uint8

const (
	KindInternal          Kind = iota // a bug or an unexpected failure; never shown in detail
	KindInvalid                       // bad input; Field names the culprit
	KindNotFound                      // absent, or outside the caller's tenant
	KindConflict                      // duplicate, or idempotency key reused with another body
	KindPrecondition                  // the object's state forbids the operation
	KindForbidden                     // authenticated but not allowed
	KindUnauthenticated               // no credentials, or bad ones
	KindCapacityExceeded              // an allocation would exceed its parent's capacity
	KindQuotaExceeded                 // a write would exceed stored-bytes quota
	KindInsufficientFunds             // a balance would fall below its floor
	KindTooLarge                      // request body over the limit
	KindRateLimited                   // too many requests
	KindUnavailable                   // a dependency (database) is down
	KindPaymentDeclined               // the payment processor refused a card or a charge
)

var kindNames = [...]string{
	KindInternal:          "internal",
	KindInvalid:           "invalid",
	KindNotFound:          "not_found",
	KindConflict:          "conflict",
	KindPrecondition:      "precondition",
	KindForbidden:         "forbidden",
	KindUnauthenticated:   "unauthenticated",
	KindCapacityExceeded:  "capacity_exceeded",
	KindQuotaExceeded:     "quota_exceeded",
	KindInsufficientFunds: "insufficient_funds",
	KindTooLarge:          "too_large",
	KindRateLimited:       "rate_limited",
	KindUnavailable:       "unavailable",
	KindPaymentDeclined:   "payment_declined",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Kinds lists every kind, so tables keyed by kind can be checked for
// completeness.
func Kinds() []Kind {
	out := make([]Kind, len(kindNames))
	for i := range kindNames {
		out[i] = Kind(i)
	}
	return out
}

// Error is the error value used across Trellis.
type Error struct {
	Kind  Kind
	Field string // the input field at fault, if any (JSON name as the caller sent it)
	Msg   string // safe to show to the caller
	Err   error  // the cause, for logs; never shown
}

func (e *Error) Error() string {
	msg := e.Msg
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	if e.Err != nil {
		if msg == "" {
			return e.Err.Error()
		}
		return msg + ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Public is the message shown to callers: field and message, never the cause.
func (e *Error) Public() string {
	if e.Field != "" {
		return e.Field + ": " + e.Msg
	}
	return e.Msg
}

// New returns an error of kind k.
func New(k Kind, msg string) *Error { return &Error{Kind: k, Msg: msg} }

// Newf returns an error of kind k with a formatted message.
func Newf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...)}
}

// Invalid reports bad input in field.
func Invalid(field, msg string) *Error { return &Error{Kind: KindInvalid, Field: field, Msg: msg} }

// Invalidf reports bad input in field with a formatted message.
func Invalidf(field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// NotFound reports a missing object of the named type.
func NotFound(what string) *Error { return &Error{Kind: KindNotFound, Msg: what + " not found"} }

// Wrap attaches a kind and public message to a cause.
func Wrap(k Kind, err error, msg string) *Error { return &Error{Kind: k, Msg: msg, Err: err} }

// KindOf returns the kind of err, KindInternal for errors without one.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// Is reports whether err has kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }

// Public returns the message safe to show for err. Internal errors hide their
// text.
func Public(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Kind != KindInternal {
		return e.Public()
	}
	return "internal error"
}

// FieldOf returns the field named by err, if any.
func FieldOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
