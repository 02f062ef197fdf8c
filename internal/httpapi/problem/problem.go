// Package problem holds the one mapping from error kinds to HTTP statuses and
// the public message shown for an error. Every dialect (native problem+json,
// Impossible Cloud {"message"}, ...) shapes its own body but takes the status
// and message from here, so the dialects cannot disagree.
package problem

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/trellis-cloud/trellis/internal/errs"
)

// status is the table. It is a switch rather than a map so it is immutable
// and so a missing kind is detectable (ok == false) instead of silently
// falling into a default; the test walks errs.Kinds() against it.
func status(k errs.Kind) (code int, ok bool) {
	switch k {
	case errs.KindInternal:
		return http.StatusInternalServerError, true
	case errs.KindInvalid:
		return http.StatusBadRequest, true
	case errs.KindNotFound:
		return http.StatusNotFound, true
	case errs.KindConflict:
		return http.StatusConflict, true
	case errs.KindPrecondition:
		return http.StatusConflict, true
	case errs.KindForbidden:
		return http.StatusForbidden, true
	case errs.KindUnauthenticated:
		return http.StatusUnauthorized, true
	case errs.KindCapacityExceeded:
		return http.StatusBadRequest, true
	case errs.KindQuotaExceeded:
		return http.StatusForbidden, true
	case errs.KindInsufficientFunds:
		return http.StatusPaymentRequired, true
	case errs.KindTooLarge:
		return http.StatusRequestEntityTooLarge, true
	case errs.KindRateLimited:
		return http.StatusTooManyRequests, true
	case errs.KindUnavailable:
		return http.StatusServiceUnavailable, true
	case errs.KindPaymentDeclined:
		return http.StatusPaymentRequired, true
	}
	return 0, false
}

// Status returns the HTTP status for kind k. An unknown kind is a bug, so it
// maps to 500.
func Status(k errs.Kind) int {
	if code, ok := status(k); ok {
		return code
	}
	return http.StatusInternalServerError
}

// Message returns the message safe to show the caller for err. For kinds
// that map to a 5xx status it never reveals the error text: it says
// "internal error" and gives the request id so the caller can quote it and
// an operator can find the logged cause.
func Message(err error, requestID string) string {
	if Status(errs.KindOf(err)) >= http.StatusInternalServerError {
		if requestID == "" {
			return "internal error"
		}
		return "internal error (request id " + requestID + ")"
	}
	return errs.Public(err)
}

// FromDecode gives a kind to the errors the standard library returns while
// reading a request body: a body over the http.MaxBytesReader limit becomes
// KindTooLarge on field "body". Any other error (including nil) is returned
// unchanged, for the dialect's decoder to classify.
func FromDecode(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return &errs.Error{
			Kind:  errs.KindTooLarge,
			Field: "body",
			Msg:   fmt.Sprintf("request body exceeds the limit of %d bytes", tooLarge.Limit),
			Err:   err,
		}
	}
	return err
}
