package testprocessor_test

import (
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/payment"
	"github.com/trellis-cloud/trellis/internal/payment/processortest"
	"github.com/trellis-cloud/trellis/internal/payment/testprocessor"
)

func TestContract(t *testing.T) {
	t.Parallel()
	p := testprocessor.New(clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
	processortest.Run(t, p, func() int { return len(p.Charges()) })
}

func TestOutageAndLostReplies(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p := testprocessor.New(clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
	cus, err := p.NewCustomer(ctx, payment.CustomerInput{IdempotencyKey: "c"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := p.Attach(ctx, cus, testprocessor.TokenVisa)
	if err != nil {
		t.Fatal(err)
	}
	in := payment.ChargeInput{CustomerRef: cus, MethodRef: m.Ref, Amount: 700, Currency: "EUR", IdempotencyKey: "k"}

	p.SetOutage(true)
	if _, err := p.Charge(ctx, in); errs.KindOf(err) != errs.KindUnavailable {
		t.Fatalf("outage: got %v", err)
	}
	if len(p.Charges()) != 0 {
		t.Fatal("a charge during an outage")
	}
	p.SetOutage(false)

	// The processor charges but the reply is lost; the retry with the same
	// key sees the charge, which exists once.
	p.LoseReplies(1)
	if _, err := p.Charge(ctx, in); errs.KindOf(err) != errs.KindUnavailable {
		t.Fatalf("lost reply: got %v", err)
	}
	if len(p.Charges()) != 1 {
		t.Fatalf("after a lost reply: %d charges, want 1", len(p.Charges()))
	}
	r, err := p.Charge(ctx, in)
	if err != nil || r.Ref != p.Charges()[0].Ref {
		t.Fatalf("retry: %+v %v", r, err)
	}
	if len(p.Charges()) != 1 || p.Charged("EUR") != 700 || p.Charged("USD") != 0 {
		t.Fatalf("after the retry: %d charges, %d EUR", len(p.Charges()), p.Charged("EUR"))
	}
	if p.Calls() != 3 {
		t.Fatalf("Calls = %d, want 3", p.Calls())
	}
}

func TestAttachNeedsCustomer(t *testing.T) {
	t.Parallel()
	p := testprocessor.New(clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
	if _, err := p.Attach(t.Context(), "cus_unknown", testprocessor.TokenVisa); errs.KindOf(err) != errs.KindInvalid {
		t.Fatalf("got %v", err)
	}
}

// A new processor (a restarted sandbox) still charges methods attached by
// an earlier one, by their refs.
func TestRestart(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	old := testprocessor.New(c)
	cus, err := old.NewCustomer(ctx, payment.CustomerInput{IdempotencyKey: "c"})
	if err != nil {
		t.Fatal(err)
	}
	visa, err := old.Attach(ctx, cus, testprocessor.TokenVisa)
	if err != nil {
		t.Fatal(err)
	}
	fail, err := old.Attach(ctx, cus, testprocessor.TokenChargeCustomerFail)
	if err != nil {
		t.Fatal(err)
	}
	p := testprocessor.New(c)
	if _, err := p.Attach(ctx, cus, testprocessor.TokenMastercard); err != nil {
		t.Fatalf("attach to an earlier customer: %v", err)
	}
	if _, err := p.Charge(ctx, payment.ChargeInput{CustomerRef: cus, MethodRef: visa.Ref, Amount: 1, Currency: "EUR", IdempotencyKey: "a"}); err != nil {
		t.Fatalf("charge an earlier visa: %v", err)
	}
	_, err = p.Charge(ctx, payment.ChargeInput{CustomerRef: cus, MethodRef: fail.Ref, Amount: 1, Currency: "EUR", IdempotencyKey: "b"})
	if errs.KindOf(err) != errs.KindPaymentDeclined {
		t.Fatalf("charge an earlier failing card: %v", err)
	}
	if _, err := p.Charge(ctx, payment.ChargeInput{CustomerRef: cus, MethodRef: "pm_0123456789abcdef0123456X", Amount: 1, Currency: "EUR", IdempotencyKey: "c"}); errs.KindOf(err) != errs.KindInvalid {
		t.Fatalf("unknown card code: %v", err)
	}
}
