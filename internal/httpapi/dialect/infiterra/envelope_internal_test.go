package infiterra

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/trellis-cloud/trellis/internal/bss"
	"github.com/trellis-cloud/trellis/internal/errs"
)

// TestEnvelope: outcomes and errors in the SDK's envelope, with its names
// and nulls; refusals are 200 with Code -1, our failures 503 or 500 and
// keep their cause for the log.
func TestEnvelope(t *testing.T) {
	t.Parallel()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	refusal := &bss.Refusal{Object: "s-1", Err: errs.New(errs.KindPrecondition, "Subscription s-1 is cancelled")}
	for _, tc := range []struct {
		name   string
		out    bss.Outcome
		err    error
		render func(resultDefinition, bss.Outcome) any
		status int
		body   string
		cause  bool
	}{
		{"service refused", bss.Outcome{}, errs.New(errs.KindInvalid, "no"), anyOf(serviceResult), 200,
			`{"Code":-1,"Message":"no","Result":null,"CustomFieldValues":null,"AccountExtraInfo":null,"SendNotification":false,"ExtraInfo":null}`, false},
		{"exists", bss.Outcome{Message: "Account already exists", ID: "a-1", Exists: true, Email: "x@y.z"}, nil, anyOf(plainResult), 200,
			`{"Code":1,"Message":"Account already exists","Result":"a-1","ResultUser":"x@y.z"}`, false},
		{"account synchronized", bss.Outcome{Message: "Account synchronized", ID: "a-1"}, nil, anyOf(accountResult), 200,
			`{"Code":0,"Message":"Account synchronized","Result":"a-1","AccountExtraInfo":null,"GeneratedPassword":null}`, false},
		{"created", bss.Outcome{Message: "Subscription created", ID: "s-1", Fields: map[string]string{"ICStorageAccountId": "sa"}}, nil, anyOf(serviceResult), 200,
			`{"Code":0,"Message":"Subscription created","Result":"s-1","CustomFieldValues":{"ICStorageAccountId":"sa"},"AccountExtraInfo":null,"SendNotification":false,"ExtraInfo":null}`, false},
		{"refusal about an object", bss.Outcome{}, fmt.Errorf("wrapped: %w", refusal), anyOf(plainResult), 200,
			`{"Code":-1,"Message":"Subscription s-1 is cancelled","Result":"s-1"}`, false},
		{"capacity", bss.Outcome{}, errs.New(errs.KindCapacityExceeded, "full"), anyOf(plainResult), 200,
			`{"Code":-1,"Message":"full","Result":null}`, false},
		{"invalid field", bss.Outcome{}, errs.Invalid("Name", "must be at most 255 characters"), anyOf(plainResult), 200,
			`{"Code":-1,"Message":"Name: must be at most 255 characters","Result":null}`, false},
		{"unavailable", bss.Outcome{}, errs.New(errs.KindUnavailable, "lock timeout"), anyOf(serviceResult), 503,
			`{"Code":-1,"Message":"The service is busy; try again.","Result":null}`, true},
		{"internal", bss.Outcome{}, errors.New("disk on fire"), anyOf(serviceResult), 500,
			`{"Code":-1,"Message":"An error has occurred.","Result":null}`, true},
		{"a kind the contract has no refusal for", bss.Outcome{}, errs.New(errs.KindInsufficientFunds, "x"), anyOf(plainResult), 500,
			`{"Code":-1,"Message":"An error has occurred.","Result":null}`, true},
	} {
		v, status, cause := answer(tc.out, tc.err, tc.render)
		if got := enc(v); status != tc.status || got != tc.body || (cause != nil) != tc.cause {
			t.Errorf("%s: %d %s (cause %v), want %d %s", tc.name, status, got, cause, tc.status, tc.body)
		}
	}
}

func anyOf[T any](f func(resultDefinition, bss.Outcome) T) func(resultDefinition, bss.Outcome) any {
	return func(r resultDefinition, o bss.Outcome) any { return f(r, o) }
}
