package problem

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/errs"
)

func TestEveryKindHasExplicitStatus(t *testing.T) {
	t.Parallel()
	for _, k := range errs.Kinds() {
		if _, ok := status(k); !ok {
			t.Errorf("kind %v has no entry in the status table", k)
		}
	}
}

func TestStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind errs.Kind
		want int
	}{
		{errs.KindInternal, 500},
		{errs.KindInvalid, 400},
		{errs.KindNotFound, 404},
		{errs.KindConflict, 409},
		{errs.KindPrecondition, 409},
		{errs.KindForbidden, 403},
		{errs.KindUnauthenticated, 401},
		{errs.KindCapacityExceeded, 400},
		{errs.KindQuotaExceeded, 403},
		{errs.KindInsufficientFunds, 402},
		{errs.KindTooLarge, 413},
		{errs.KindRateLimited, 429},
		{errs.KindUnavailable, 503},
		{errs.KindPaymentDeclined, 402},
	}
	if len(tests) != len(errs.Kinds()) {
		t.Fatalf("test covers %d kinds, errs has %d", len(tests), len(errs.Kinds()))
	}
	for _, tt := range tests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			t.Parallel()
			if got := Status(tt.kind); got != tt.want {
				t.Errorf("Status(%v) = %d, want %d", tt.kind, got, tt.want)
			}
		})
	}
}

func TestStatusUnknownKindIs500(t *testing.T) {
	t.Parallel()
	if got := Status(errs.Kind(200)); got != 500 {
		t.Errorf("Status(unknown) = %d, want 500", got)
	}
}

func TestMessage(t *testing.T) {
	t.Parallel()
	secret := errors.New("pq: password authentication failed for user trellis")
	tests := []struct {
		name string
		err  error
		rid  string
		want string
	}{
		{"invalid shows field and message", errs.Invalid("name", "must not be empty"), "r1", "name: must not be empty"},
		{"not found", errs.NotFound("bucket"), "r1", "bucket not found"},
		{"wrapped 4xx hides cause", errs.Wrap(errs.KindConflict, secret, "name taken"), "r1", "name taken"},
		{"internal hides text", errs.Wrap(errs.KindInternal, secret, "db failed"), "r1", "internal error (request id r1)"},
		{"unavailable is 5xx too", errs.Wrap(errs.KindUnavailable, secret, "database down"), "r2", "internal error (request id r2)"},
		{"plain error is internal", secret, "r3", "internal error (request id r3)"},
		{"wrapped kinded error keeps kind", fmt.Errorf("ctx: %w", errs.Invalid("size", "too small")), "r1", "size: too small"},
		{"no request id", secret, "", "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Message(tt.err, tt.rid)
			if got != tt.want {
				t.Errorf("Message = %q, want %q", got, tt.want)
			}
			if strings.Contains(got, "password") {
				t.Errorf("Message leaked the cause: %q", got)
			}
		})
	}
}

func TestFromDecodeMaxBytes(t *testing.T) {
	t.Parallel()
	// Produce a real *http.MaxBytesError the way a handler would see it.
	rec := httptest.NewRecorder()
	body := http.MaxBytesReader(rec, io.NopCloser(strings.NewReader(`{"name":"`+strings.Repeat("x", 100)+`"}`)), 10)
	var v any
	decErr := json.NewDecoder(body).Decode(&v)
	if decErr == nil {
		t.Fatal("expected a decode error")
	}

	err := FromDecode(decErr)
	if !errs.Is(err, errs.KindTooLarge) {
		t.Fatalf("kind = %v, want too_large (err %v)", errs.KindOf(err), err)
	}
	if f := errs.FieldOf(err); f != "body" {
		t.Errorf("field = %q, want body", f)
	}
	if msg := errs.Public(err); !strings.Contains(msg, "10 bytes") {
		t.Errorf("public message %q does not name the limit", msg)
	}
	var mbe *http.MaxBytesError
	if !errors.As(err, &mbe) {
		t.Error("cause not kept for logs")
	}
	if Status(errs.KindOf(err)) != http.StatusRequestEntityTooLarge {
		t.Error("too large does not map to 413")
	}
}

func TestFromDecodePassesOthersThrough(t *testing.T) {
	t.Parallel()
	if FromDecode(nil) != nil {
		t.Error("nil not passed through")
	}
	syntax := json.Unmarshal([]byte("{"), new(any))
	if got := FromDecode(syntax); got != syntax {
		t.Errorf("got %v, want the same error back", got)
	}
	inv := errs.Invalid("x", "bad")
	if got := FromDecode(inv); got != error(inv) {
		t.Errorf("got %v, want the same error back", got)
	}
}
