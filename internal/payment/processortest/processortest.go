// Package processortest is the contract every payment.Processor keeps,
// written against Stripe's test tokens so a real processor in test mode can
// run it too. The test processor runs it in its own tests.
package processortest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/payment"
)

// Run checks p against the contract. Charged, when not nil, returns the
// number of distinct successful charges the processor holds, so
// idempotency can be checked from the processor's side too.
func Run(t *testing.T, p payment.Processor, charged func() int) {
	ctx := context.Background()
	n := 0
	key := func(what string) string {
		n++
		return fmt.Sprintf("contract:%s:%s:%d", t.Name(), what, n)
	}
	customer := func(t *testing.T) string {
		t.Helper()
		ref, err := p.NewCustomer(ctx, payment.CustomerInput{IdempotencyKey: key("customer"), Email: "user@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		return ref
	}
	count := func() int {
		if charged == nil {
			return -1
		}
		return charged()
	}

	t.Run("name", func(t *testing.T) {
		if p.Name() == "" {
			t.Fatal("empty processor name")
		}
	})

	t.Run("customers are idempotent by key", func(t *testing.T) {
		k := key("customer")
		a, err := p.NewCustomer(ctx, payment.CustomerInput{IdempotencyKey: k})
		if err != nil {
			t.Fatal(err)
		}
		b, err := p.NewCustomer(ctx, payment.CustomerInput{IdempotencyKey: k})
		if err != nil {
			t.Fatal(err)
		}
		c, err := p.NewCustomer(ctx, payment.CustomerInput{IdempotencyKey: key("customer")})
		if err != nil {
			t.Fatal(err)
		}
		if a == "" || a != b || a == c {
			t.Fatalf("customer refs %q, %q (same key), %q (other key)", a, b, c)
		}
	})

	t.Run("attach", func(t *testing.T) {
		cus := customer(t)
		for _, tok := range []string{"tok_visa", "tok_mastercard", "tok_chargeCustomerFail"} {
			m, err := p.Attach(ctx, cus, tok)
			if err != nil {
				t.Fatalf("%s: %v", tok, err)
			}
			if m.Ref == "" || m.Brand == "" || len(m.Last4) != 4 || m.ExpMonth < 1 || m.ExpMonth > 12 || m.ExpYear < 2000 {
				t.Fatalf("%s: incomplete method %+v", tok, m)
			}
			var obj map[string]any
			if err := json.Unmarshal(m.Data, &obj); err != nil || obj["id"] != m.Ref {
				t.Fatalf("%s: method data is not the processor's object for %s: %s (%v)", tok, m.Ref, m.Data, err)
			}
		}
		_, err := p.Attach(ctx, cus, "tok_chargeDeclined")
		if errs.KindOf(err) != errs.KindPaymentDeclined || errs.FieldOf(err) != "token" {
			t.Fatalf("tok_chargeDeclined: got %v, want a decline naming token", err)
		}
		_, err = p.Attach(ctx, cus, "tok_nonsense")
		if errs.KindOf(err) != errs.KindInvalid || errs.FieldOf(err) != "token" {
			t.Fatalf("unknown token: got %v, want invalid token", err)
		}
	})

	t.Run("charge succeeds once per key", func(t *testing.T) {
		cus := customer(t)
		m, err := p.Attach(ctx, cus, "tok_visa")
		if err != nil {
			t.Fatal(err)
		}
		before := count()
		in := payment.ChargeInput{CustomerRef: cus, MethodRef: m.Ref, Amount: 1234, Currency: "EUR",
			IdempotencyKey: key("charge"), Description: "contract"}
		first, err := p.Charge(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if first.Ref == "" || first.Amount != 1234 || len(first.Data) == 0 {
			t.Fatalf("charge result %+v", first)
		}
		again, err := p.Charge(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if again.Ref != first.Ref {
			t.Fatalf("replay returned charge %s, first was %s", again.Ref, first.Ref)
		}
		if charged != nil && count() != before+1 {
			t.Fatalf("one charge and a replay made %d charges", count()-before)
		}
		other := in
		other.IdempotencyKey = key("charge")
		second, err := p.Charge(ctx, other)
		if err != nil {
			t.Fatal(err)
		}
		if second.Ref == first.Ref {
			t.Fatal("two keys gave one charge")
		}
		// The same key with another amount is refused, not a second charge.
		changed := in
		changed.Amount = 999
		if _, err := p.Charge(ctx, changed); errs.KindOf(err) != errs.KindConflict {
			t.Fatalf("key reused with another amount: got %v, want conflict", err)
		}
	})

	t.Run("racing replays charge once", func(t *testing.T) {
		cus := customer(t)
		m, err := p.Attach(ctx, cus, "tok_mastercard")
		if err != nil {
			t.Fatal(err)
		}
		before := count()
		in := payment.ChargeInput{CustomerRef: cus, MethodRef: m.Ref, Amount: 500, Currency: "EUR", IdempotencyKey: key("race")}
		var wg sync.WaitGroup
		refs := make([]string, 50)
		errors := make([]error, 50)
		for i := range refs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := p.Charge(ctx, in)
				refs[i], errors[i] = r.Ref, err
			}()
		}
		wg.Wait()
		for i := range refs {
			if errors[i] != nil || refs[i] != refs[0] {
				t.Fatalf("replay %d: %q %v, first %q", i, refs[i], errors[i], refs[0])
			}
		}
		if charged != nil && count() != before+1 {
			t.Fatalf("50 racing replays made %d charges", count()-before)
		}
	})

	t.Run("customer fail card declines every charge", func(t *testing.T) {
		cus := customer(t)
		m, err := p.Attach(ctx, cus, "tok_chargeCustomerFail")
		if err != nil {
			t.Fatal(err)
		}
		before := count()
		in := payment.ChargeInput{CustomerRef: cus, MethodRef: m.Ref, Amount: 100, Currency: "EUR", IdempotencyKey: key("fail")}
		for range 2 { // a replay repeats the decline
			_, err := p.Charge(ctx, in)
			if errs.KindOf(err) != errs.KindPaymentDeclined || errs.FieldOf(err) != "payment_object_id" {
				t.Fatalf("got %v, want a decline naming payment_object_id", err)
			}
		}
		if charged != nil && count() != before {
			t.Fatal("a declined charge was counted")
		}
	})

	t.Run("bad charges", func(t *testing.T) {
		cus := customer(t)
		m, err := p.Attach(ctx, cus, "tok_visa")
		if err != nil {
			t.Fatal(err)
		}
		for name, in := range map[string]payment.ChargeInput{
			"zero amount":     {CustomerRef: cus, MethodRef: m.Ref, Amount: 0, Currency: "EUR", IdempotencyKey: key("bad")},
			"negative amount": {CustomerRef: cus, MethodRef: m.Ref, Amount: -5, Currency: "EUR", IdempotencyKey: key("bad")},
			"unknown method":  {CustomerRef: cus, MethodRef: "pm_nope", Amount: 5, Currency: "EUR", IdempotencyKey: key("bad")},
			"no key":          {CustomerRef: cus, MethodRef: m.Ref, Amount: 5, Currency: "EUR"},
		} {
			if _, err := p.Charge(ctx, in); errs.KindOf(err) != errs.KindInvalid {
				t.Errorf("%s: got %v, want invalid", name, err)
			}
		}
	})
}
