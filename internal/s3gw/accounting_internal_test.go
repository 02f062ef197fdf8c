package s3gw

import (
	"context"
	"testing"

	"github.com/trellis-cloud/trellis/internal/errs"
)

// Accounting calls are tried again only when the failure may pass (the
// database busy or away), never on an internal error, and at most 4 times.
func TestRetryAccounting(t *testing.T) {
	unavailable := errs.New(errs.KindUnavailable, "the database gave up waiting (database busy); try again")
	internal := errs.New(errs.KindInternal, "a constraint failed")
	for _, tc := range []struct {
		name  string
		fails []error // what the tries return, in order; then nil
		calls int
		want  error
	}{
		{"internal error: not retried", []error{internal, nil}, 1, internal},
		{"conflict: not retried", []error{errs.New(errs.KindConflict, "x"), nil}, 1, errs.New(errs.KindConflict, "x")},
		{"unavailable once: retried", []error{unavailable}, 2, nil},
		{"unavailable, then internal: stops there", []error{unavailable, internal, nil}, 2, internal},
		{"unavailable every time: 4 tries", []error{unavailable, unavailable, unavailable, unavailable, unavailable}, 4, unavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			ctx, cancel := context.WithCancel(t.Context())
			cancel() // the request's cancellation does not stop the recording
			err := retryAccounting(ctx, func(ctx context.Context) error {
				calls++
				if ctx.Err() != nil {
					t.Fatal("a try ran under a cancelled context")
				}
				if calls <= len(tc.fails) {
					return tc.fails[calls-1]
				}
				return nil
			})
			if calls != tc.calls {
				t.Fatalf("%d tries, want %d", calls, tc.calls)
			}
			if tc.want == nil && err != nil || tc.want != nil && (err == nil || err.Error() != tc.want.Error() ||
				errs.KindOf(err) != errs.KindOf(tc.want)) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}
