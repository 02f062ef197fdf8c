package money

import (
	"errors"

	"github.com/trellis-cloud/trellis/internal/errs"
)

// Sentinel causes, so callers can tell the two arithmetic failures apart with
// errors.Is while the errs kind (KindInvalid) drives the HTTP status.
var (
	// ErrOverflow is the cause of every error reporting that a result does not
	// fit in int64 minor units.
	ErrOverflow = errors.New("money: out of int64 minor-unit range")
	// ErrCurrencyMismatch is the cause of every error reporting an operation
	// on amounts of different currencies.
	ErrCurrencyMismatch = errors.New("money: currency mismatch")
)

func overflowErr(field, msg string) error {
	return &errs.Error{Kind: errs.KindInvalid, Field: field, Msg: msg, Err: ErrOverflow}
}

func mismatchErr(a, b Currency) error {
	return &errs.Error{Kind: errs.KindInvalid, Msg: "cannot combine " + a.String() + " with " + b.String(), Err: ErrCurrencyMismatch}
}
