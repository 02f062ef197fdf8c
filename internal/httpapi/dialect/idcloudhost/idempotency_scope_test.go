package idcloudhost_test

import (
	"net/http"
	"testing"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/idcloudhost"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// TestIdempotencyAcrossTokens (issue 14, finding 5): an Idempotency-Key is
// the user's, not the token's. A payment retried through a second
// unrestricted token of the same user replays the first, instead of
// charging the card again; the restricted token (other rights) is refused;
// another user's token has its own keys.
func TestIdempotencyAcrossTokens(t *testing.T) {
	t.Parallel()
	v := apitest.NewValidator(t, idcloudhost.Spec())
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d, v)
		second, err := f.idn.CreateTokenFor(f.ctx, sys, access.DemoIDCHUserID, access.CreateIDCHTokenInput{Description: "second"})
		if err != nil {
			t.Fatal(err)
		}
		pay := func(key, body string) apitest.Response {
			return f.do(t, key, apitest.Request{Method: "POST", Path: prefix + "/payment/pay_amount", Body: []byte(body),
				Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Idempotency-Key": {"pay-once"}}})
		}
		calls := f.proc.Calls()
		first := pay(keyUser, "billing_account_id=6&amount=0.05")
		wantStatus(t, first, http.StatusOK)
		again := pay(second.Secret, "billing_account_id=6&amount=0.05")
		wantStatus(t, again, http.StatusOK)
		if string(again.Body) != string(first.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("the second token's retry was not a replay: %s", again.Body)
		}
		wantStatus(t, pay(keyRestricted, "billing_account_id=6&amount=0.05"), http.StatusConflict)
		if n := f.proc.Calls() - calls; n != 1 {
			t.Fatalf("the card was charged %d times, want once", n)
		}
		// Another user's key space is its own.
		other := pay(f.otherKey, "billing_account_id=11&amount=0.05")
		if other.Status == http.StatusConflict || other.Header.Get("Idempotent-Replayed") == "true" {
			t.Fatalf("another user's request hit this user's key: %d %s", other.Status, other.Body)
		}
	})
}
