package idcloudhost

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/decode"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/payment"
)

// Billing is what the dialect needs of billing accounts, invoices and
// credit (implemented by billing.Service).
type Billing interface {
	// ResolveAccount finds the account a request means (ID-amb-24: 0 is
	// the restricted token's account or the user's default).
	ResolveAccount(ctx context.Context, a actor.Actor, id int64) (billing.Account, error)
	ListAccounts(ctx context.Context, a actor.Actor, showShadow bool) ([]billing.Account, error)
	// Describe returns the money figures of an account at an instant.
	Describe(ctx context.Context, acct billing.Account, at time.Time) (billing.Details, error)
	UpdateAccount(ctx context.Context, a actor.Actor, id int64, data billing.AccountData) (billing.Account, error)
	SetDefault(ctx context.Context, a actor.Actor, id int64) error
	DeleteAccount(ctx context.Context, a actor.Actor, id int64) error
	UnpaidAmount(ctx context.Context, a actor.Actor, id int64) (int64, error)
	ListCredit(ctx context.Context, a actor.Actor, id int64) ([]billing.CreditRecord, error)
	GetInvoice(ctx context.Context, a actor.Actor, id int64) (billing.Invoice, error)
	ListInvoices(ctx context.Context, a actor.Actor, accountID int64) ([]billing.Invoice, error)
	CreateTopUpInvoice(ctx context.Context, a actor.Actor, accountID int64, amount money.Amount) (billing.Invoice, error)
	CurrentUsage(ctx context.Context, a actor.Actor, id int64) ([]billing.UsageLine, error)
}

var _ Billing = (*billing.Service)(nil)

// ---- wire types ----

// epoch is the payment subsystem's timestamp: Unix seconds.
func epoch(t time.Time) int64 { return t.Unix() }

// amountOut writes minor units of cur as the seed's money floats (2.0,
// -3.44).
func amountOut(minor int64, cur money.Currency) json.Number {
	return money.FormatIDCHMoney(money.NewAmount(minor, cur))
}

type promotionJSON struct {
	CreditType       string      `json:"credit_type"`
	Amount           json.Number `json:"amount"`
	TopUpRequirement json.Number `json:"top_up_requirement"`
	TopUpDone        json.Number `json:"top_up_done"`
}

type primaryCardJSON struct {
	ID            string          `json:"id"`
	ExpireMonth   int             `json:"expire_month"`
	ExpireYear    int             `json:"expire_year"`
	Last4         string          `json:"last4"`
	CardType      string          `json:"card_type"`
	CardHolder    string          `json:"card_holder"`
	Type          string          `json:"type"`
	ProcessorData json.RawMessage `json:"processor_data"`
	IsVerified    bool            `json:"is_verified"`
}

type runningTotalsJSON struct {
	CreditAmount    json.Number `json:"credit_amount"`
	CreditAvailable json.Number `json:"credit_available"`
	DiscountAmount  json.Number `json:"discount_amount"`
	Ongoing         json.Number `json:"ongoing"`
	Subtotal        json.Number `json:"subtotal"`
	Total           json.Number `json:"total"`
	VATTax          json.Number `json:"vat_tax"`
}

type billingAccountJSON struct {
	AdditionalData            string            `json:"additional_data"`
	AddressLine1              string            `json:"address_line1"`
	AllowDebt                 bool              `json:"allow_debt"`
	CanPay                    bool              `json:"can_pay"`
	City                      string            `json:"city"`
	CompanyName               string            `json:"company_name"`
	CompanyRegCode            string            `json:"company_reg_code"`
	CompanyVATNumber          string            `json:"company_vat_number"`
	Country                   string            `json:"country"`
	County                    string            `json:"county"`
	Created                   int64             `json:"created"`
	CreditAmount              json.Number       `json:"credit_amount"`
	DiscountPercentage        int               `json:"discount_percentage"`
	EligiblePromotions        []promotionJSON   `json:"eligible_promotions"`
	Email                     string            `json:"email"`
	ID                        int64             `json:"id"`
	IsActive                  bool              `json:"is_active"`
	IsDefault                 bool              `json:"is_default"`
	IsDeleted                 bool              `json:"is_deleted"`
	IsRecurringPaymentEnabled bool              `json:"is_recurring_payment_enabled"`
	PayingByInvoice           bool              `json:"paying_by_invoice"`
	PostIndex                 string            `json:"post_index"`
	PrimaryCard               *primaryCardJSON  `json:"primary_card"`
	RecurringPaymentAmount    json.Number       `json:"recurring_payment_amount"`
	RecurringPaymentThreshold json.Number       `json:"recurring_payment_threshold"`
	ReferralShareCode         string            `json:"referral_share_code"`
	Reseller                  string            `json:"reseller"`
	RestrictionLevel          *string           `json:"restriction_level"`
	RunningTotals             runningTotalsJSON `json:"running_totals"`
	SendInvoiceEmail          bool              `json:"send_invoice_email"`
	Site                      string            `json:"site"`
	SuspendReason             string            `json:"suspend_reason"`
	Title                     string            `json:"title"`
	UnpaidAmount              json.Number       `json:"unpaid_amount"`
	UserID                    int64             `json:"user_id"`
	VATPercentage             int               `json:"vat_percentage"`
}

// accountOut assembles the billing-account object: the stored fields, the
// money figures now, and the payment methods (primary_card, can_pay,
// paying_by_invoice). Trellis has no promotions: eligible_promotions is
// always empty.
func (s *server) accountOut(ctx context.Context, acct billing.Account) (billingAccountJSON, error) {
	det, err := s.d.Billing.Describe(ctx, acct, s.d.Clock.Now())
	if err != nil {
		return billingAccountJSON{}, err
	}
	cur := acct.Cur()
	rt := det.Running
	out := billingAccountJSON{
		AdditionalData: acct.AdditionalData, AddressLine1: acct.AddressLine1, AllowDebt: acct.AllowDebt,
		City: acct.City, CompanyName: acct.CompanyName, CompanyRegCode: acct.CompanyRegCode,
		CompanyVATNumber: acct.CompanyVATNumber, Country: acct.Country, County: acct.County,
		Created: epoch(acct.CreatedAt), CreditAmount: amountOut(det.CreditAvailable, cur),
		DiscountPercentage: acct.DiscountPercentage, EligiblePromotions: []promotionJSON{}, Email: acct.Email,
		ID: acct.ID, IsActive: acct.IsActive, IsDefault: acct.IsDefault, IsDeleted: acct.Deleted(),
		IsRecurringPaymentEnabled: acct.RecurringEnabled, PayingByInvoice: acct.PayingByInvoice,
		PostIndex:                 acct.PostIndex,
		RecurringPaymentAmount:    money.FormatIDCHFloat(acct.RecurringAmount),
		RecurringPaymentThreshold: money.FormatIDCHFloat(acct.RecurringThreshold),
		ReferralShareCode:         acct.ReferralShareCode, Reseller: acct.Reseller,
		RunningTotals: runningTotalsJSON{CreditAmount: amountOut(rt.CreditAmount, cur),
			CreditAvailable: amountOut(rt.CreditAvailable, cur), DiscountAmount: amountOut(rt.Discount, cur),
			Ongoing: amountOut(rt.Ongoing, cur), Subtotal: amountOut(rt.Subtotal, cur), Total: amountOut(rt.Total, cur),
			VATTax: amountOut(rt.VAT, cur)},
		SendInvoiceEmail: acct.SendInvoiceEmail, Site: acct.Site, SuspendReason: acct.SuspendReason,
		Title: acct.Title, UnpaidAmount: amountOut(det.Unpaid, cur), UserID: acct.UserID,
		VATPercentage: acct.VATPercentage,
	}
	if out.AdditionalData == "" {
		out.AdditionalData = "{}"
	}
	// The seed shows "FROZEN"; an unrestricted account has null.
	if acct.RestrictionLevel != "" {
		rl := acct.RestrictionLevel
		out.RestrictionLevel = &rl
	}
	if out.CanPay, err = s.d.Payments.CanPay(ctx, acct.ID); err != nil {
		return out, err
	}
	byInvoice, err := s.d.Payments.PaysByInvoice(ctx, acct.ID)
	if err != nil {
		return out, err
	}
	out.PayingByInvoice = out.PayingByInvoice || byInvoice
	pm, ok, err := s.d.Payments.PrimaryMethod(ctx, acct.ID)
	if err != nil {
		return out, err
	}
	if ok {
		out.PrimaryCard = primaryCardOut(pm)
	}
	return out, nil
}

func primaryCardOut(o payment.PaymentObject) *primaryCardJSON {
	kind := "creditcard"
	if o.Kind == payment.MethodInvoice {
		kind = "paying_by_invoice"
	}
	data := o.AdditionalData
	if !isJSONObject(data) {
		data = json.RawMessage("{}")
	}
	return &primaryCardJSON{ID: o.Identifier, ExpireMonth: o.ExpMonth, ExpireYear: o.ExpYear, Last4: o.Last4,
		CardType: o.Brand, CardHolder: o.Holder, Type: kind, ProcessorData: data, IsVerified: o.IsVerified}
}

func isJSONObject(b json.RawMessage) bool {
	var m map[string]json.RawMessage
	return len(b) > 0 && json.Unmarshal(b, &m) == nil && m != nil
}

type creditJSON struct {
	Amount           json.Number `json:"amount"`
	BillingAccountID int64       `json:"billing_account_id"`
	Created          int64       `json:"created"`
	Description      string      `json:"description"`
	ID               int64       `json:"id"`
}

type invoiceRecordJSON struct {
	Amount       json.Number `json:"amount"`
	Created      int64       `json:"created"`
	Descr        string      `json:"descr"`
	ID           int64       `json:"id"`
	InvoiceID    int64       `json:"invoice_id"`
	ItemPrice    json.Number `json:"item_price"`
	LocationSlug string      `json:"location_slug"`
	Name         string      `json:"name"`
	Qty          json.Number `json:"qty"`
	QtyUnit      string      `json:"qty_unit"`
}

type invoiceTotalsJSON struct {
	Subtotal       json.Number `json:"subtotal"`
	DiscountAmount json.Number `json:"discount_amount"`
	Credit         json.Number `json:"credit"`
	VATTax         json.Number `json:"vat_tax"`
	Total          json.Number `json:"total"`
}

type transactionJSON struct {
	AdditionalData  string      `json:"additional_data"`
	Amount          json.Number `json:"amount"`
	Created         int64       `json:"created"`
	ID              int64       `json:"id"`
	Identifier      string      `json:"identifier"`
	PaymentObjectID int64       `json:"payment_object_id"`
}

type invoiceJSON struct {
	AccountSnapshot    string              `json:"account_snapshot"`
	BillingAccountID   int64               `json:"billing_account_id"`
	Created            int64               `json:"created"`
	DiscountPercentage int                 `json:"discount_percentage"`
	DueDate            int64               `json:"due_date"`
	ID                 int64               `json:"id"`
	Name               string              `json:"name,omitempty"`
	PaddedID           string              `json:"padded_id"`
	PeriodEnd          int64               `json:"period_end"`
	PeriodStart        int64               `json:"period_start"`
	RecordsList        []invoiceRecordJSON `json:"records_list"`
	Status             int                 `json:"status"`
	Totals             invoiceTotalsJSON   `json:"totals"`
	TransactionList    []transactionJSON   `json:"transaction_list"`
	VATPercentage      int                 `json:"vat_percentage"`
}

// invoiceOut shapes an invoice with its payments. Quantities are whole
// hours for every time meter; GB-hours may have decimals.
func (s *server) invoiceOut(ctx context.Context, inv billing.Invoice) (invoiceJSON, error) {
	cur, err := money.ParseCurrency("currency", inv.Currency)
	if err != nil {
		cur = money.EUR
	}
	out := invoiceJSON{AccountSnapshot: inv.AccountSnapshot, BillingAccountID: inv.AccountID, Created: epoch(inv.CreatedAt),
		DiscountPercentage: inv.DiscountPercentage, DueDate: epoch(inv.DueAt), ID: inv.ID, Name: inv.Name,
		PaddedID: inv.PaddedID(), PeriodEnd: epoch(inv.PeriodEnd), PeriodStart: epoch(inv.PeriodStart),
		RecordsList: make([]invoiceRecordJSON, 0, len(inv.Records)), Status: inv.Status,
		Totals: invoiceTotalsJSON{Subtotal: amountOut(inv.Subtotal, cur), DiscountAmount: amountOut(inv.Discount, cur),
			Credit: amountOut(inv.Credit, cur), VATTax: amountOut(inv.VAT, cur), Total: amountOut(inv.Total, cur)},
		TransactionList: []transactionJSON{}, VATPercentage: inv.VATPercentage}
	for _, r := range inv.Records {
		out.RecordsList = append(out.RecordsList, invoiceRecordJSON{Amount: money.FormatIDCHFloat(r.Amount),
			Created: epoch(r.CreatedAt), Descr: r.Descr, ID: r.ID, InvoiceID: r.InvoiceID,
			ItemPrice: money.FormatIDCHFloat(r.ItemPrice), LocationSlug: r.LocationSlug, Name: r.Name,
			Qty: json.Number(r.Qty.String()), QtyUnit: r.QtyUnit})
	}
	txs, err := s.d.Payments.TransactionsOf(ctx, inv.ID)
	if err != nil {
		return out, err
	}
	for _, t := range txs {
		tcur, err := money.ParseCurrency("currency", t.Currency)
		if err != nil {
			tcur = cur
		}
		out.TransactionList = append(out.TransactionList, transactionJSON{AdditionalData: jsonString(t.AdditionalData),
			Amount: amountOut(t.Amount, tcur), Created: epoch(t.Created), ID: t.ID, Identifier: t.Identifier,
			PaymentObjectID: t.PaymentObjectID})
	}
	return out, nil
}

// jsonString is the JSON-in-a-string form of additional_data (ID-amb-27).
func jsonString(b json.RawMessage) string {
	if len(b) == 0 {
		return "{}"
	}
	return string(b)
}

// ---- operations ID-76 to ID-82, ID-89, ID-91 to ID-93 ----

func (s *server) billingOps() []op {
	return []op{
		{method: http.MethodDelete, path: "/payment/billing_account", h: s.deleteBillingAccount},
		{method: http.MethodGet, path: "/payment/billing_account", h: s.getBillingAccount},
		{method: http.MethodPut, path: "/payment/billing_account", h: s.updateBillingAccount},
		{method: http.MethodPut, path: "/payment/billing_account/{billing_account_id}/recurring_payment",
			pathParams: []string{"billing_account_id"}, h: s.configureRecurringPayment},
		{method: http.MethodGet, path: "/payment/billing_account/list", h: s.listBillingAccounts},
		{method: http.MethodPost, path: "/payment/billing_account/set_default", h: s.setDefaultBillingAccount},
		{method: http.MethodGet, path: "/payment/billing_account/unpaid_amount", h: s.getUnpaidAmount},
		{method: http.MethodGet, path: "/payment/credit/list", h: s.listCredit},
		{method: http.MethodPost, path: "/payment/credit/request_invoice", h: s.requestCreditInvoice},
		// The seed's curl example of Request invoice uses this URL (ID-amb-3).
		{method: http.MethodPost, path: "/credit/request_invoice", h: s.requestCreditInvoice},
		{method: http.MethodGet, path: "/payment/invoice", h: s.getInvoice},
		{method: http.MethodGet, path: "/payment/invoice/list", h: s.listInvoices},
	}
}

// accountID reads billing_account_id: absent is 0, which the services
// resolve to the restricted token's account or the user's default.
func (c *call) accountID() (int64, error) {
	var p accountParam
	err := c.decode(&p)
	return p.BillingAccountID, err
}

func (s *server) resolvedAccountOut(ctx context.Context, c *call) (any, error) {
	id, err := c.accountID()
	if err != nil {
		return nil, err
	}
	acct, err := s.d.Billing.ResolveAccount(ctx, c.a, id)
	if err != nil {
		return nil, err
	}
	return s.accountOut(ctx, acct)
}

// ID-76.
func (s *server) deleteBillingAccount(ctx context.Context, c *call) (any, error) {
	id, err := c.accountID()
	if err != nil {
		return nil, err
	}
	if err := s.d.Billing.DeleteAccount(ctx, c.a, id); err != nil {
		return nil, err
	}
	return successJSON{Success: true}, nil
}

// ID-77.
func (s *server) getBillingAccount(ctx context.Context, c *call) (any, error) {
	return s.resolvedAccountOut(ctx, c)
}

// updateAccountRequest is ID-78's parameters.
type updateAccountRequest struct {
	accountParam
	Title            string `wire:"title"`
	Email            string `wire:"email"`
	CompanyName      string `wire:"company_name"`
	CompanyRegCode   string `wire:"company_reg_code"`
	CompanyVATNumber string `wire:"company_vat_number"`
	AddressLine1     string `wire:"address_line1"`
	City             string `wire:"city"`
	County           string `wire:"county"`
	Country          string `wire:"country"`
	PostIndex        string `wire:"post_index"`
	SendInvoiceEmail bool   `wire:"send_invoice_email"`
}

// ID-78: a full replace (ID-amb-17): absent fields are cleared, except the
// e-mail (kept when absent) and the recurring fields (not data).
func (s *server) updateBillingAccount(ctx context.Context, c *call) (any, error) {
	var req updateAccountRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	acct, err := s.d.Billing.UpdateAccount(ctx, c.a, req.BillingAccountID, billing.AccountData{
		Title: req.Title, Email: req.Email, CompanyName: req.CompanyName, CompanyRegCode: req.CompanyRegCode,
		CompanyVATNumber: req.CompanyVATNumber, AddressLine1: req.AddressLine1, City: req.City,
		County: req.County, Country: req.Country, PostIndex: req.PostIndex, SendInvoiceEmail: req.SendInvoiceEmail})
	if err != nil {
		return nil, err
	}
	return s.accountOut(ctx, acct)
}

type recurringResultJSON struct {
	PaymentReport paymentReportJSON  `json:"payment_report"`
	Account       billingAccountJSON `json:"account"`
}

type paymentReportJSON struct {
	Triggered bool     `json:"triggered"`
	Errors    []string `json:"errors"`
}

// ID-79: the account in the path; absent parameters keep their values.
func (s *server) configureRecurringPayment(ctx context.Context, c *call) (any, error) {
	var req struct {
		AccountID int64        `wire:"billing_account_id,required"`
		Enabled   *bool        `wire:"is_recurring_payment_enabled"`
		Amount    *decimalText `wire:"recurring_payment_amount"`
		Threshold *decimalText `wire:"recurring_payment_threshold"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	acct, rep, err := s.d.Payments.ConfigureRecurring(ctx, c.a, payment.RecurringInput{AccountID: req.AccountID,
		Enabled: req.Enabled, Amount: (*string)(req.Amount), Threshold: (*string)(req.Threshold)})
	if err != nil {
		return nil, err
	}
	out, err := s.accountOut(ctx, acct)
	if err != nil {
		return nil, err
	}
	errors := rep.Errors
	if errors == nil {
		errors = []string{}
	}
	return recurringResultJSON{PaymentReport: paymentReportJSON{Triggered: rep.Triggered, Errors: errors}, Account: out}, nil
}

// ID-80: show_shadow with any value (even empty) adds deleted accounts.
func (s *server) listBillingAccounts(ctx context.Context, c *call) (any, error) {
	var req struct {
		ShowShadow *decode.Value `wire:"show_shadow"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	list, err := s.d.Billing.ListAccounts(ctx, c.a, req.ShowShadow != nil)
	if err != nil {
		return nil, err
	}
	out := make([]billingAccountJSON, 0, len(list))
	for _, acct := range list {
		j, err := s.accountOut(ctx, acct)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

// ID-81.
func (s *server) setDefaultBillingAccount(ctx context.Context, c *call) (any, error) {
	var req struct {
		AccountID int64 `wire:"billing_account_id,required"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if err := s.d.Billing.SetDefault(ctx, c.a, req.AccountID); err != nil {
		return nil, err
	}
	return successJSON{Success: true}, nil
}

type unpaidJSON struct {
	Message json.Number `json:"message"`
}

// ID-82: the number under "message" (ID-amb-32).
func (s *server) getUnpaidAmount(ctx context.Context, c *call) (any, error) {
	id, err := c.accountID()
	if err != nil {
		return nil, err
	}
	acct, err := s.d.Billing.ResolveAccount(ctx, c.a, id)
	if err != nil {
		return nil, err
	}
	n, err := s.d.Billing.UnpaidAmount(ctx, c.a, acct.ID)
	if err != nil {
		return nil, err
	}
	return unpaidJSON{Message: amountOut(n, acct.Cur())}, nil
}

// ID-89: newest first.
func (s *server) listCredit(ctx context.Context, c *call) (any, error) {
	id, err := c.accountID()
	if err != nil {
		return nil, err
	}
	acct, err := s.d.Billing.ResolveAccount(ctx, c.a, id)
	if err != nil {
		return nil, err
	}
	recs, err := s.d.Billing.ListCredit(ctx, c.a, acct.ID)
	if err != nil {
		return nil, err
	}
	cur := acct.Cur()
	return mapSlice(recs, func(r billing.CreditRecord) creditJSON {
		return creditJSON{Amount: amountOut(r.Amount, cur), BillingAccountID: r.AccountID, Created: epoch(r.CreatedAt),
			Description: r.Description, ID: r.ID}
	}), nil
}

// ID-91: a top-up invoice for a bank transfer, e-mailed to the account.
func (s *server) requestCreditInvoice(ctx context.Context, c *call) (any, error) {
	var req struct {
		accountParam
		Amount *decode.Value `wire:"amount"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	acct, err := s.d.Billing.ResolveAccount(ctx, c.a, req.BillingAccountID)
	if err != nil {
		return nil, err
	}
	if req.Amount == nil {
		return nil, errs.Invalid("amount", "is required")
	}
	amount, err := moneyParam("amount", *req.Amount, acct.Cur(), money.Positive)
	if err != nil {
		return nil, err
	}
	if _, err := s.d.Billing.CreateTopUpInvoice(ctx, c.a, acct.ID, amount); err != nil {
		return nil, err
	}
	return successJSON{Success: true}, nil
}

// invoiceParam names an invoice.
type invoiceParam struct {
	InvoiceID int64 `wire:"invoice_id,required"`
}

// ID-92.
func (s *server) getInvoice(ctx context.Context, c *call) (any, error) {
	var req invoiceParam
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	inv, err := s.d.Billing.GetInvoice(ctx, c.a, req.InvoiceID)
	if err != nil {
		return nil, err
	}
	return s.invoiceOut(ctx, inv)
}

// ID-93: newest first.
func (s *server) listInvoices(ctx context.Context, c *call) (any, error) {
	id, err := c.accountID()
	if err != nil {
		return nil, err
	}
	acct, err := s.d.Billing.ResolveAccount(ctx, c.a, id)
	if err != nil {
		return nil, err
	}
	list, err := s.d.Billing.ListInvoices(ctx, c.a, acct.ID)
	if err != nil {
		return nil, err
	}
	out := make([]invoiceJSON, 0, len(list))
	for _, inv := range list {
		j, err := s.invoiceOut(ctx, inv)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}
