package idcloudhost

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/httpapi/idempotency"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/payment"
)

// Payments is what the dialect needs of payment methods, charges and
// credit purchases (implemented by payment.Service).
type Payments interface {
	AddCard(ctx context.Context, a actor.Actor, in payment.AddCardInput) (payment.PaymentObject, error)
	ApplyForInvoicePayment(ctx context.Context, a actor.Actor, accountID int64) (payment.PaymentObject, error)
	GetMethod(ctx context.Context, a actor.Actor, id int64) (payment.PaymentObject, error)
	ListMethods(ctx context.Context, a actor.Actor, accountID int64) ([]payment.PaymentObject, error)
	SetPrimary(ctx context.Context, a actor.Actor, id int64) (payment.PaymentObject, error)
	DeleteMethod(ctx context.Context, a actor.Actor, id int64) error
	// PrimaryMethod, CanPay and PaysByInvoice describe an account the
	// caller already resolved.
	PrimaryMethod(ctx context.Context, accountID int64) (payment.PaymentObject, bool, error)
	CanPay(ctx context.Context, accountID int64) (bool, error)
	PaysByInvoice(ctx context.Context, accountID int64) (bool, error)

	BuyCredit(ctx context.Context, a actor.Actor, in payment.BuyCreditInput) (payment.Charge, error)
	PayAmount(ctx context.Context, a actor.Actor, in payment.PayInput) (payment.PayResult, error)
	PayAll(ctx context.Context, a actor.Actor, in payment.PayInput) (payment.PayResult, error)
	PayInvoice(ctx context.Context, a actor.Actor, in payment.PayInvoiceInput) (payment.PayResult, error)
	ConfigureRecurring(ctx context.Context, a actor.Actor, in payment.RecurringInput) (billing.Account, payment.RecurringReport, error)
	// TransactionsOf lists the payments applied to an invoice the caller
	// already read.
	TransactionsOf(ctx context.Context, invoiceID int64) ([]payment.InvoiceTransaction, error)
}

var _ Payments = (*payment.Service)(nil)

type paymentObjectJSON struct {
	AdditionalData                     string `json:"additional_data"`
	BillingAccountID                   int64  `json:"billing_account_id"`
	BillingAccountProcessorIdentiferID int64  `json:"billing_account_processor_identifier_id"`
	Created                            int64  `json:"created"`
	ID                                 int64  `json:"id"`
	Identifier                         string `json:"identifier"`
	IsDeleted                          bool   `json:"is_deleted"`
	IsPrimary                          bool   `json:"is_primary"`
	IsVerified                         bool   `json:"is_verified"`
	ValidThru                          int64  `json:"valid_thru"`
}

func paymentObjectOut(o payment.PaymentObject) paymentObjectJSON {
	return paymentObjectJSON{AdditionalData: jsonString(o.AdditionalData), BillingAccountID: o.AccountID,
		BillingAccountProcessorIdentiferID: o.CustomerID, Created: epoch(o.CreatedAt), ID: o.ID,
		Identifier: o.Identifier, IsDeleted: o.Deleted(), IsPrimary: o.IsPrimary, IsVerified: o.IsVerified,
		ValidThru: epoch(o.ValidThru)}
}

type payResultJSON struct {
	AmountLeft   json.Number `json:"amount_left"`
	AmountUsed   json.Number `json:"amount_used"`
	ErrorLog     string      `json:"error_log"`
	Message      string      `json:"message"`
	PaidInvoices []int64     `json:"paid_invoices"`
	Success      bool        `json:"success"`
}

func payResultOut(r payment.PayResult) payResultJSON {
	cur, err := money.ParseCurrency("currency", r.Currency)
	if err != nil {
		cur = money.EUR
	}
	paid := r.PaidInvoices
	if paid == nil {
		paid = []int64{}
	}
	return payResultJSON{AmountLeft: amountOut(r.AmountLeft, cur), AmountUsed: amountOut(r.AmountUsed, cur),
		ErrorLog: r.ErrorLog, Message: r.Message, PaidInvoices: paid, Success: r.Success}
}

// ---- operations ID-83 to ID-88, ID-90, ID-94 to ID-97 ----

func (s *server) paymentOps() []op {
	return []op{
		{method: http.MethodPost, path: "/payment/apply_for_invoice_payment", h: s.applyForInvoicePayment},
		{method: http.MethodDelete, path: "/payment/card", h: s.deleteCard},
		{method: http.MethodGet, path: "/payment/card", h: s.getCard},
		{method: http.MethodPost, path: "/payment/card", h: s.addCard},
		{method: http.MethodGet, path: "/payment/card/list", h: s.listCards},
		{method: http.MethodPut, path: "/payment/card/set_primary", h: s.setPrimaryCard},
		{method: http.MethodPost, path: "/payment/credit/buy", h: s.buyCredit},
		// The seed's curl example of Buy credit uses this URL (ID-amb-3).
		{method: http.MethodPost, path: "/credit/buy", h: s.buyCredit},
		{method: http.MethodPost, path: "/payment/pay_all", h: s.payAll},
		{method: http.MethodPost, path: "/payment/pay_amount", h: s.payAmount},
		{method: http.MethodPost, path: "/payment/pay_invoice", h: s.payInvoice},
		{method: http.MethodGet, path: "/payment/has_active_campaigns", h: s.hasActiveCampaigns},
	}
}

// ID-83: the new method stays unverified until an operator verifies it.
func (s *server) applyForInvoicePayment(ctx context.Context, c *call) (any, error) {
	id, err := c.accountID()
	if err != nil {
		return nil, err
	}
	o, err := s.d.Payments.ApplyForInvoicePayment(ctx, c.a, id)
	if err != nil {
		return nil, err
	}
	return paymentObjectOut(o), nil
}

// paymentObjectParam names a payment method.
type paymentObjectParam struct {
	PaymentObjectID int64 `wire:"payment_object_id,required"`
}

func (c *call) paymentObjectID() (int64, error) {
	var p paymentObjectParam
	err := c.decode(&p)
	return p.PaymentObjectID, err
}

// ID-84.
func (s *server) deleteCard(ctx context.Context, c *call) (any, error) {
	id, err := c.paymentObjectID()
	if err != nil {
		return nil, err
	}
	if err := s.d.Payments.DeleteMethod(ctx, c.a, id); err != nil {
		return nil, err
	}
	return successJSON{Success: true}, nil
}

// ID-85.
func (s *server) getCard(ctx context.Context, c *call) (any, error) {
	id, err := c.paymentObjectID()
	if err != nil {
		return nil, err
	}
	o, err := s.d.Payments.GetMethod(ctx, c.a, id)
	if err != nil {
		return nil, err
	}
	return paymentObjectOut(o), nil
}

// ID-86: token is the processor's one-time card token; answers the
// payment object (ID-amb-19).
func (s *server) addCard(ctx context.Context, c *call) (any, error) {
	var req struct {
		accountParam
		Token string `wire:"token"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	o, err := s.d.Payments.AddCard(ctx, c.a, payment.AddCardInput{AccountID: req.BillingAccountID, Token: req.Token})
	if err != nil {
		return nil, err
	}
	return paymentObjectOut(o), nil
}

// ID-87: every payment method of the account (cards and the invoice
// method).
func (s *server) listCards(ctx context.Context, c *call) (any, error) {
	id, err := c.accountID()
	if err != nil {
		return nil, err
	}
	list, err := s.d.Payments.ListMethods(ctx, c.a, id)
	if err != nil {
		return nil, err
	}
	return mapSlice(list, paymentObjectOut), nil
}

// ID-88: only a verified method becomes primary.
func (s *server) setPrimaryCard(ctx context.Context, c *call) (any, error) {
	id, err := c.paymentObjectID()
	if err != nil {
		return nil, err
	}
	if _, err := s.d.Payments.SetPrimary(ctx, c.a, id); err != nil {
		return nil, err
	}
	return successJSON{Success: true}, nil
}

// idemKey is the caller's Idempotency-Key: payments key their charges on
// it (per principal), so a replay never charges twice even past the HTTP
// replay store.
func idemKey(c *call) string { return c.r.Header.Get(idempotency.Header) }

// ID-90.
func (s *server) buyCredit(ctx context.Context, c *call) (any, error) {
	var req struct {
		accountParam
		paymentObjectParam
		amountParam
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	in := payment.BuyCreditInput{IdempotencyKey: idemKey(c), AccountID: req.BillingAccountID,
		PaymentObjectID: req.PaymentObjectID, Amount: string(req.Amount)}
	if _, err := s.d.Payments.BuyCredit(ctx, c.a, in); err != nil {
		return nil, err
	}
	return successJSON{Success: true}, nil
}

// amountParam is a required amount the payment service parses.
type amountParam struct {
	Amount decimalText `wire:"amount,required"`
}

// ID-94: pays every unpaid invoice, oldest first, with the primary card.
func (s *server) payAll(ctx context.Context, c *call) (any, error) {
	in := payment.PayInput{IdempotencyKey: idemKey(c)}
	var err error
	if in.AccountID, err = c.accountID(); err != nil {
		return nil, err
	}
	r, err := s.d.Payments.PayAll(ctx, c.a, in)
	if err != nil {
		return nil, err
	}
	return payResultOut(r), nil
}

// ID-95: the ID-95 result shape, also for a declined card (success false
// and the decline in error_log) when the service reports it so.
func (s *server) payAmount(ctx context.Context, c *call) (any, error) {
	var req struct {
		accountParam
		amountParam
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	r, err := s.d.Payments.PayAmount(ctx, c.a, payment.PayInput{IdempotencyKey: idemKey(c),
		AccountID: req.BillingAccountID, Amount: string(req.Amount)})
	if err != nil {
		return nil, err
	}
	return payResultOut(r), nil
}

// ID-96.
func (s *server) payInvoice(ctx context.Context, c *call) (any, error) {
	var req invoiceParam
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	r, err := s.d.Payments.PayInvoice(ctx, c.a, payment.PayInvoiceInput{IdempotencyKey: idemKey(c), InvoiceID: req.InvoiceID})
	if err != nil {
		return nil, err
	}
	return payResultOut(r), nil
}

// ID-97: Trellis runs no campaigns, so the answer is false.
func (s *server) hasActiveCampaigns(context.Context, *call) (any, error) {
	return successJSON{Success: false}, nil
}
