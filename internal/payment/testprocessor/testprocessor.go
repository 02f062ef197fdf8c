// Package testprocessor is the built-in payment processor: an in-memory
// processor whose card tokens behave like Stripe's test tokens, for tests,
// the sandbox and the demo.
//
//	tok_visa                attached; every charge succeeds
//	tok_mastercard          attached; every charge succeeds
//	tok_chargeDeclined      declined when attached (card_declined)
//	tok_chargeCustomerFail  attached; every charge is declined
//
// Any other token is invalid. Charges are idempotent by key as Stripe's are:
// a charge retried with the same key returns the first result (the same
// charge, or the same decline) and is counted once. Tests can also simulate
// an outage and lost replies (the processor charged but the caller never saw
// the answer), which is what the payment service's recovery job is for.
package testprocessor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/payment"
)

// The test tokens.
const (
	TokenVisa                = "tok_visa"
	TokenMastercard          = "tok_mastercard"
	TokenChargeDeclined      = "tok_chargeDeclined"
	TokenChargeCustomerFail  = "tok_chargeCustomerFail"
	declineAttachMessage     = "Your card was declined."
	declineChargeMessage     = "Your card was declined: the customer's bank refused the charge."
	outageMessage            = "payment processor unavailable"
	lostReplyMessage         = "payment processor did not answer (timeout)"
	testCardExpMonth         = 12
	testCardExpYearFromToday = 8
)

type card struct {
	code     byte // the last character of the card's method refs
	token    string
	brand    string
	last4    string
	country  string
	declines bool // every charge is declined
}

var cards = map[string]card{
	TokenVisa:               {code: 'V', token: TokenVisa, brand: "visa", last4: "4242", country: "US"},
	TokenMastercard:         {code: 'M', token: TokenMastercard, brand: "mastercard", last4: "4444", country: "US"},
	TokenChargeCustomerFail: {code: 'F', token: TokenChargeCustomerFail, brand: "visa", last4: "0341", country: "US", declines: true},
}

// The processor keeps its state in memory, but a sandbox's database
// outlives it. So that stored customers and methods keep working after a
// restart, the refs carry what the processor needs: a customer ref of the
// processor's form is accepted as is, and a method ref ends in its card's
// code.
func customerForm(ref string) bool {
	return len(ref) == len("cus_")+24 && ref[:4] == "cus_" && isHex(ref[4:])
}

func cardOf(ref string) (card, bool) {
	if len(ref) != len("pm_")+23 || ref[:3] != "pm_" || !isHex(ref[3:len(ref)-1]) {
		return card{}, false
	}
	for _, c := range cards {
		if c.code == ref[len(ref)-1] {
			return c, true
		}
	}
	return card{}, false
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !('0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f') {
			return false
		}
	}
	return true
}

// Processor is the test processor. The zero value is not usable; use New.
type Processor struct {
	clock clock.Clock

	mu        sync.Mutex
	seq       int
	customers map[string]string              // idempotency key → customer ref
	methods   map[string]method              // pm ref → method
	byKey     map[string]chargeOutcome       // charge idempotency key → first outcome
	charges   []payment.ChargeResult         // successful charges, in order
	chargeIn  map[string]payment.ChargeInput // charge ref → its input
	outage    bool
	lose      int // replies still to lose
	calls     int // Charge calls, replays included
}

type method struct {
	customer string
	card     card
	m        payment.Method
}

type chargeOutcome struct {
	in     payment.ChargeInput
	result payment.ChargeResult
	err    error
}

// New returns an empty test processor reading time from c.
func New(c clock.Clock) *Processor {
	return &Processor{clock: c, customers: map[string]string{}, methods: map[string]method{},
		byKey: map[string]chargeOutcome{}, chargeIn: map[string]payment.ChargeInput{}}
}

var _ payment.Processor = (*Processor)(nil)

// Name implements payment.Processor.
func (p *Processor) Name() string { return "test" }

// ref makes a Stripe-looking id: prefix + 24 hex digits derived from a
// counter and a seed, so ids are unique and stable within one processor.
func (p *Processor) ref(prefix, seed string) string {
	p.seq++
	sum := sha256.Sum256(fmt.Appendf(nil, "%d\x00%s", p.seq, seed))
	return prefix + hex.EncodeToString(sum[:12])
}

// NewCustomer implements payment.Processor.
func (p *Processor) NewCustomer(ctx context.Context, in payment.CustomerInput) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if in.IdempotencyKey == "" {
		return "", errs.Invalid("idempotency_key", "is required")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.outage {
		return "", errs.New(errs.KindUnavailable, outageMessage)
	}
	if ref, ok := p.customers[in.IdempotencyKey]; ok {
		return ref, nil
	}
	ref := p.ref("cus_", in.IdempotencyKey)
	p.customers[in.IdempotencyKey] = ref
	return ref, nil
}

// Attach implements payment.Processor.
func (p *Processor) Attach(ctx context.Context, customerRef, token string) (payment.Method, error) {
	if err := ctx.Err(); err != nil {
		return payment.Method{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.outage {
		return payment.Method{}, errs.New(errs.KindUnavailable, outageMessage)
	}
	if !p.knownCustomer(customerRef) && !customerForm(customerRef) {
		return payment.Method{}, errs.Invalidf("customer", "no such customer %q", customerRef)
	}
	if token == TokenChargeDeclined {
		return payment.Method{}, &errs.Error{Kind: errs.KindPaymentDeclined, Field: "token", Msg: declineAttachMessage}
	}
	c, ok := cards[token]
	if !ok {
		return payment.Method{}, errs.Invalidf("token", "no such token %q (test tokens: tok_visa, tok_mastercard, tok_chargeDeclined, tok_chargeCustomerFail)", token)
	}
	now := p.clock.Now()
	ref := p.ref("pm_", customerRef+token)[:len("pm_")+22] + string(c.code)
	m := payment.Method{Ref: ref, Brand: c.brand, Last4: c.last4, ExpMonth: testCardExpMonth,
		ExpYear: now.Year() + testCardExpYearFromToday, Holder: "Test Card"}
	data, err := json.Marshal(stripeMethod(m, c, customerRef, now.Unix()))
	if err != nil {
		return payment.Method{}, errs.Wrap(errs.KindInternal, err, "test processor")
	}
	m.Data = data
	p.methods[ref] = method{customer: customerRef, card: c, m: m}
	return m, nil
}

func (p *Processor) knownCustomer(ref string) bool {
	for _, c := range p.customers {
		if c == ref {
			return true
		}
	}
	return false
}

// Charge implements payment.Processor.
func (p *Processor) Charge(ctx context.Context, in payment.ChargeInput) (payment.ChargeResult, error) {
	if err := ctx.Err(); err != nil {
		return payment.ChargeResult{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	if p.outage {
		return payment.ChargeResult{}, errs.New(errs.KindUnavailable, outageMessage)
	}
	if in.IdempotencyKey == "" {
		return payment.ChargeResult{}, errs.Invalid("idempotency_key", "is required")
	}
	if prev, ok := p.byKey[in.IdempotencyKey]; ok {
		// Stripe refuses a key reused with other parameters.
		if prev.in != in {
			return payment.ChargeResult{}, &errs.Error{Kind: errs.KindConflict, Field: "idempotency_key",
				Msg: "was used with different parameters"}
		}
		return p.reply(prev)
	}
	out := chargeOutcome{in: in}
	m, ok := p.methods[in.MethodRef]
	if !ok {
		// A method attached before a restart (see cardOf).
		if c, known := cardOf(in.MethodRef); known {
			m, ok = method{customer: in.CustomerRef, card: c, m: payment.Method{Ref: in.MethodRef}}, true
		}
	}
	switch {
	case in.Amount <= 0:
		return payment.ChargeResult{}, errs.Invalid("amount", "must be positive")
	case len(in.Currency) != 3:
		return payment.ChargeResult{}, errs.Invalid("currency", "must be an ISO-4217 code")
	case !ok:
		return payment.ChargeResult{}, errs.Invalidf("payment_object_id", "no such payment method %q", in.MethodRef)
	case in.CustomerRef != "" && m.customer != in.CustomerRef:
		return payment.ChargeResult{}, errs.Invalidf("payment_object_id", "payment method %q belongs to another customer", in.MethodRef)
	case m.card.declines:
		out.err = &errs.Error{Kind: errs.KindPaymentDeclined, Field: "payment_object_id", Msg: declineChargeMessage}
	default:
		now := p.clock.Now().Unix()
		ref := p.ref("tran_", in.IdempotencyKey)
		r := payment.ChargeResult{Ref: ref, Status: "closed", Amount: in.Amount}
		data, err := json.Marshal(transaction(ref, in, m, now))
		if err != nil {
			return payment.ChargeResult{}, errs.Wrap(errs.KindInternal, err, "test processor")
		}
		r.Data = data
		out.result = r
		p.charges = append(p.charges, r)
		p.chargeIn[ref] = in
	}
	p.byKey[in.IdempotencyKey] = out
	return p.reply(out)
}

// reply returns an outcome, or loses it if the test asked for lost replies
// (the outcome is recorded all the same).
func (p *Processor) reply(o chargeOutcome) (payment.ChargeResult, error) {
	if p.lose > 0 {
		p.lose--
		return payment.ChargeResult{}, errs.New(errs.KindUnavailable, lostReplyMessage)
	}
	return o.result, o.err
}

// SetOutage makes every call fail with errs.KindUnavailable before doing
// anything (on) or work again (off).
func (p *Processor) SetOutage(on bool) {
	p.mu.Lock()
	p.outage = on
	p.mu.Unlock()
}

// LoseReplies makes the next n Charge calls do their work (charge, or
// decline) but answer errs.KindUnavailable, as a timeout after the charge
// would.
func (p *Processor) LoseReplies(n int) {
	p.mu.Lock()
	p.lose = n
	p.mu.Unlock()
}

// Charges returns the successful charges, each once however often it was
// replayed, in the order they happened.
func (p *Processor) Charges() []payment.ChargeResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]payment.ChargeResult(nil), p.charges...)
}

// Charged returns the sum of the successful charges in currency.
func (p *Processor) Charged(currency string) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var sum int64
	for _, c := range p.charges {
		if p.chargeIn[c.Ref].Currency == currency {
			sum += c.Amount
		}
	}
	return sum
}

// Calls returns how many times Charge was called, replays included.
func (p *Processor) Calls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls
}

// stripeMethod is a Stripe payment_method object, shaped as the idcloudhost
// billing account's primary_card.processor_data sample.
func stripeMethod(m payment.Method, c card, customer string, created int64) map[string]any {
	return map[string]any{
		"id":     m.Ref,
		"object": "payment_method",
		"billing_details": map[string]any{
			"address": map[string]any{"city": nil, "country": nil, "line1": nil, "line2": nil, "postal_code": nil, "state": nil},
			"email":   nil,
			"name":    m.Holder,
			"phone":   nil,
		},
		"card": map[string]any{
			"brand":                c.brand,
			"checks":               map[string]any{"address_line1_check": nil, "address_postal_code_check": nil, "cvc_check": "pass"},
			"country":              c.country,
			"exp_month":            m.ExpMonth,
			"exp_year":             m.ExpYear,
			"fingerprint":          fingerprint(c.token),
			"funding":              "credit",
			"generated_from":       nil,
			"last4":                c.last4,
			"three_d_secure_usage": map[string]any{"supported": true},
			"wallet":               nil,
		},
		"created":  created,
		"customer": customer,
		"livemode": false,
		"metadata": map[string]any{},
		"type":     "card",
	}
}

func fingerprint(token string) string {
	sum := sha256.Sum256([]byte("fingerprint:" + token))
	return hex.EncodeToString(sum[:8])
}

// transaction is a processor transaction object, shaped as the idcloudhost
// invoice transaction_list additional_data sample.
func transaction(ref string, in payment.ChargeInput, m method, now int64) map[string]any {
	return map[string]any{
		"id":                   ref,
		"amount":               in.Amount,
		"origin_amount":        in.Amount,
		"status":               "closed",
		"description":          in.Description,
		"livemode":             false,
		"refunds":              nil,
		"client":               map[string]any{"id": m.customer},
		"currency":             in.Currency,
		"created_at":           now,
		"updated_at":           now,
		"response_code":        20000,
		"short_id":             ref[len(ref)-8:],
		"is_fraud":             false,
		"invoices":             []any{},
		"app_id":               nil,
		"preauthorization":     nil,
		"fees":                 []any{},
		"payment":              m.m.Ref,
		"mandate_reference":    nil,
		"is_refundable":        true,
		"is_markable_as_fraud": true,
	}
}
