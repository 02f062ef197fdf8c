package native

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/httpapi/wire"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/payment"
	"github.com/trellis-cloud/trellis/internal/pricing"
)

// meteringFields renames the metering domain's (idcloudhost-style) field
// names to this API's.
var meteringFields = map[string]string{
	"resource_id":        "resourceId",
	"meter":              "meter",
	"period_start":       "periodStart",
	"billing_account_id": "billingAccountId",
	"location_slug":      "locationSlug",
	"owner_uuid":         "ownerUuid",
	"user_id":            "userId",
	"quantity":           "quantity",
	"config":             "config",
	"records":            "records",
	"effective_from":     "effectiveFrom",
	"service":            "service",
	"prices":             "multipliers",
}

// ---- hourly usage ----

type hourlyRecordIn struct {
	ResourceID       string         `json:"resourceId" minLength:"1" maxLength:"255" doc:"The metered resource (its uuid)."`
	Meter            string         `json:"meter" enum:"vm,disk,snapshot,backup,object_storage"`
	PeriodStart      time.Time      `json:"periodStart" doc:"The start of a whole UTC hour that has begun and is not closed (its end plus the grace has not passed)."`
	BillingAccountID int64          `json:"billingAccountId" minimum:"1"`
	LocationSlug     string         `json:"locationSlug,omitempty" maxLength:"255"`
	OwnerUUID        string         `json:"ownerUuid,omitempty" maxLength:"255" doc:"The uuid shown as owner_uuid in the usage view; defaults to resourceId."`
	UserID           int64          `json:"userId,omitempty" minimum:"0"`
	Config           pricing.Config `json:"config" doc:"What was used: vm_name, cpus, ram_MB, disk_size_GB, os_name, status (running|stopped), service; name and size_GB for disks, snapshots and backups."`
	Quantity         string         `json:"quantity,omitempty" maxLength:"40" doc:"Hours (at most 1; default 1) or, for object_storage, GB-hours. A decimal string."`
}

type hourlyRecordOut struct {
	ResourceID       string         `json:"resourceId"`
	Meter            string         `json:"meter"`
	PeriodStart      time.Time      `json:"periodStart"`
	BillingAccountID int64          `json:"billingAccountId"`
	LocationSlug     string         `json:"locationSlug"`
	OwnerUUID        string         `json:"ownerUuid"`
	UserID           int64          `json:"userId"`
	Config           pricing.Config `json:"config"`
	Quantity         string         `json:"quantity"`
	UnitPrice        string         `json:"unitPrice" doc:"EUR per hour (per GB-hour), from the price list in force at periodStart."`
	Description      string         `json:"description"`
	UptimeTypes      []string       `json:"uptimeTypes"`
	RecordedAt       time.Time      `json:"recordedAt"`
}

func hourlyFrom(r metering.HourlyRecord) hourlyRecordOut {
	return hourlyRecordOut{ResourceID: r.ResourceID, Meter: string(r.Meter), PeriodStart: r.PeriodStart.UTC(),
		BillingAccountID: r.BillingAccountID, LocationSlug: r.LocationSlug, OwnerUUID: r.OwnerUUID, UserID: r.UserID,
		Config: r.Config, Quantity: r.Quantity.String(), UnitPrice: r.UnitPrice.String(), Description: r.Description,
		UptimeTypes: orEmpty(r.UptimeTypes), RecordedAt: r.RecordedAt.UTC()}
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

type recordHourlyInput struct {
	Body struct {
		Records []hourlyRecordIn `json:"records" minItems:"1" maxItems:"1000"`
	}
}

// ---- pricing ----

type priceItem struct {
	PolicyID                int64  `json:"policyId" minimum:"1"`
	ResourceType            string `json:"resourceType" enum:"CPU,RAM,STORAGE,LICENSE,OBJECT_STORAGE,UNASSIGNED_FLOATING_IP,LOAD_BALANCER"`
	ServiceNameUserFriendly string `json:"serviceNameUserFriendly" maxLength:"200"`
	NumCPUs                 int64  `json:"numCpus,omitempty" minimum:"0"`
	MegsRAM                 int64  `json:"megsRam,omitempty" minimum:"0"`
	ServiceNameInUptime     string `json:"serviceNameInUptime,omitempty" maxLength:"64"`
	Price                   string `json:"price" maxLength:"40" doc:"EUR per hour (per GB-hour for storage), a decimal string such as \"0.00521\"."`
}

type priceVersion struct {
	ID            string      `json:"id"`
	EffectiveFrom time.Time   `json:"effectiveFrom"`
	Items         []priceItem `json:"items"`
	CreatedAt     time.Time   `json:"createdAt"`
	CreatedBy     string      `json:"createdBy"`
}

func priceVersionFrom(v pricing.Version) priceVersion {
	out := priceVersion{ID: v.ID, EffectiveFrom: v.EffectiveFrom.UTC(), CreatedAt: v.CreatedAt.UTC(), CreatedBy: v.CreatedBy}
	for _, it := range v.Items {
		out.Items = append(out.Items, priceItem{PolicyID: it.PolicyID, ResourceType: string(it.ResourceType),
			ServiceNameUserFriendly: it.ServiceNameUserFriendly, NumCPUs: it.NumCPUs, MegsRAM: it.MegsRAM,
			ServiceNameInUptime: it.ServiceNameInUptime, Price: it.Price.String()})
	}
	out.Items = orEmpty(out.Items)
	return out
}

type createPriceVersionInput struct {
	Body struct {
		EffectiveFrom time.Time   `json:"effectiveFrom" doc:"When the list takes effect: now or later, so usage already recorded keeps its price."`
		Items         []priceItem `json:"items" minItems:"1" maxItems:"200"`
	}
}

type multiplier struct {
	ResourceType        string `json:"resourceType" enum:"CPU,RAM,STORAGE,LICENSE,OBJECT_STORAGE,UNASSIGNED_FLOATING_IP,LOAD_BALANCER"`
	ServiceNameInUptime string `json:"serviceNameInUptime,omitempty" maxLength:"64" doc:"The component it scales; empty for every component of the type."`
	PriceMultiplier     string `json:"priceMultiplier" maxLength:"40" doc:"A decimal string, e.g. \"3.0\"."`
}

type serviceMultipliers struct {
	Service     string       `json:"service"`
	Multipliers []multiplier `json:"multipliers"`
	UpdatedAt   time.Time    `json:"updatedAt"`
}

func multipliersFrom(m pricing.ServiceMultipliers) serviceMultipliers {
	out := serviceMultipliers{Service: m.Service, UpdatedAt: m.UpdatedAt.UTC(), Multipliers: []multiplier{}}
	for _, x := range m.Multipliers {
		out.Multipliers = append(out.Multipliers, multiplier{ResourceType: string(x.ResourceType),
			ServiceNameInUptime: x.ServiceNameInUptime, PriceMultiplier: x.PriceMultiplier.String()})
	}
	return out
}

type setMultipliersInput struct {
	Service string `path:"service" minLength:"1" maxLength:"64" doc:"The managed service, e.g. postgresql."`
	Body    struct {
		Multipliers []multiplier `json:"multipliers" maxItems:"50"`
	}
}

// ---- payments ----

type paymentMethod struct {
	ID         int64     `json:"id"`
	AccountID  int64     `json:"billingAccountId"`
	Kind       string    `json:"kind"`
	Identifier string    `json:"identifier"`
	IsPrimary  bool      `json:"isPrimary"`
	IsVerified bool      `json:"isVerified"`
	CreatedAt  time.Time `json:"createdAt"`
}

func paymentMethodFrom(o payment.PaymentObject) paymentMethod {
	return paymentMethod{ID: o.ID, AccountID: o.AccountID, Kind: string(o.Kind), Identifier: o.Identifier,
		IsPrimary: o.IsPrimary, IsVerified: o.IsVerified, CreatedAt: o.CreatedAt.UTC()}
}

type paymentMethodIDParam struct {
	ID int64 `path:"id" minimum:"1" doc:"The payment object (payment_object_id)."`
}

type bankPaymentInput struct {
	ID   int64 `path:"id" minimum:"1" doc:"The invoice number."`
	Body struct {
		Amount    string `json:"amount" minLength:"1" maxLength:"40" doc:"Major units, e.g. \"51.67\"."`
		Reference string `json:"reference" minLength:"1" maxLength:"255" doc:"The bank's unique reference of the transfer; recording it twice is harmless."`
	}
}

type chargeOut struct {
	ID         int64     `json:"id"`
	AccountID  int64     `json:"billingAccountId"`
	Amount     string    `json:"amount"`
	Currency   string    `json:"currency"`
	Status     string    `json:"status"`
	Identifier string    `json:"identifier"`
	CreatedAt  time.Time `json:"createdAt"`
}

func chargeFrom(c payment.Charge) chargeOut {
	cur, err := money.ParseCurrency("currency", c.Currency)
	if err != nil {
		cur = money.EUR
	}
	return chargeOut{ID: c.ID, AccountID: c.AccountID, Amount: money.FormatIDCHFormAmount(money.NewAmount(c.Amount, cur)),
		Currency: cur.Code(), Status: string(c.Status), Identifier: c.Identifier, CreatedAt: c.CreatedAt.UTC()}
}

// ---- invoices and the ledger ----

type invoiceOut struct {
	ID          int64     `json:"id"`
	PaddedID    string    `json:"paddedId"`
	AccountID   int64     `json:"billingAccountId"`
	Kind        string    `json:"kind" enum:"usage,topup"`
	Status      int       `json:"status" doc:"5 unpaid, 10 paid."`
	PeriodStart time.Time `json:"periodStart"`
	PeriodEnd   time.Time `json:"periodEnd"`
	CreatedAt   time.Time `json:"createdAt"`
	DueAt       time.Time `json:"dueAt"`
	Currency    string    `json:"currency"`
	Subtotal    string    `json:"subtotal"`
	Discount    string    `json:"discount"`
	Credit      string    `json:"credit" doc:"The credit applied, ≤ 0."`
	VAT         string    `json:"vat"`
	Total       string    `json:"total"`
	Paid        string    `json:"paid"`
}

func invoiceFrom(inv billing.Invoice) invoiceOut {
	cur, err := money.ParseCurrency("currency", inv.Currency)
	if err != nil {
		cur = money.EUR
	}
	f := func(m int64) string { return money.FormatIDCHFormAmount(money.NewAmount(m, cur)) }
	return invoiceOut{ID: inv.ID, PaddedID: inv.PaddedID(), AccountID: inv.AccountID, Kind: inv.Kind, Status: inv.Status,
		PeriodStart: inv.PeriodStart.UTC(), PeriodEnd: inv.PeriodEnd.UTC(), CreatedAt: inv.CreatedAt.UTC(),
		DueAt: inv.DueAt.UTC(), Currency: cur.Code(), Subtotal: f(inv.Subtotal), Discount: f(inv.Discount),
		Credit: f(inv.Credit), VAT: f(inv.VAT), Total: f(inv.Total), Paid: f(inv.PaidAmount)}
}

type currencyTotal struct {
	Currency string `json:"currency"`
	Total    string `json:"total" doc:"Σ of every ledger account's balance in minor units: 0 in a consistent ledger."`
	Accounts int    `json:"accounts"`
}

func (s *server) registerBillingOps(api huma.API) {
	register(api, huma.Operation{OperationID: "recordHourlyUsage", Method: http.MethodPost, Path: "/usage/hourly",
		Tags: []string{"usage"}, Summary: "Record hours of resource usage",
		Description: "Resources report their usage per whole UTC hour; this call lets an operator (provider staff) " +
			"do the same. Each record is keyed by (resourceId, meter, periodStart): the same record again is a no-op, " +
			"a different one replaces it while its hour is open, and a closed hour (its end plus the grace has " +
			"passed) is never changed. The price is the list in force at periodStart. All records are written in " +
			"one transaction, or none."}, s.recordHourly)
	register(api, huma.Operation{OperationID: "listPriceVersions", Method: http.MethodGet, Path: "/pricing/versions",
		Tags: []string{"pricing"}, Summary: "List the price lists, with the instants they take effect",
		Description: "Provider keys."}, s.listPriceVersions)
	register(api, huma.Operation{OperationID: "createPriceVersion", Method: http.MethodPost, Path: "/pricing/versions",
		DefaultStatus: http.StatusCreated, Tags: []string{"pricing"}, Summary: "Add a price list effective from now or later",
		Description: "Provider admins. The list in force at an hour's start prices that hour's usage; " +
			"GET /idcloudhost/v1/pricing/policy shows the one in force now."}, s.createPriceVersion)
	register(api, huma.Operation{OperationID: "listPriceMultipliers", Method: http.MethodGet, Path: "/pricing/multipliers",
		Tags: []string{"pricing"}, Summary: "List the managed services' price multipliers",
		Description: "Provider keys."}, s.listMultipliers)
	register(api, huma.Operation{OperationID: "setPriceMultipliers", Method: http.MethodPut, Path: "/pricing/multipliers/{service}",
		Tags: []string{"pricing"}, Summary: "Set a managed service's price multipliers",
		Description: "Provider admins. Applies to usage recorded from now on."}, s.setMultipliers)
	register(api, huma.Operation{OperationID: "listInvoices", Method: http.MethodGet, Path: "/billing-accounts/{id}/invoices",
		Tags: []string{"billing"}, Summary: "List a billing account's invoices, newest first"}, s.listInvoices)
	register(api, huma.Operation{OperationID: "verifyPaymentMethod", Method: http.MethodPost, Path: "/payment-methods/{id}/verify",
		Tags: []string{"billing"}, Summary: "Verify a payment method (paying by invoice)",
		Description: "A customer's application to pay by invoice stays unverified until an operator (provider staff) verifies it here."}, s.verifyPaymentMethod)
	register(api, huma.Operation{OperationID: "recordBankPayment", Method: http.MethodPost, Path: "/invoices/{id}/bank-payments",
		Tags: []string{"billing"}, Summary: "Record a bank transfer that pays an invoice",
		Description: "Provider staff. The reference is unique: recording the same transfer again returns the first " +
			"record; a paid top-up invoice adds its amount to the account's credit."}, s.recordBankPayment)
	register(api, huma.Operation{OperationID: "getTrialBalance", Method: http.MethodGet, Path: "/ledger/trial-balance",
		Tags: []string{"billing"}, Summary: "The sum of all ledger balances per currency (0 when consistent)",
		Description: "Provider admins."}, s.trialBalance)
}

func (s *server) recordHourly(ctx context.Context, in *recordHourlyInput) (*output[list[hourlyRecordOut]], error) {
	return call(ctx, s, func(a actor.Actor) ([]metering.HourlyRecord, error) {
		ins := make([]metering.RecordInput, len(in.Body.Records))
		for i, r := range in.Body.Records {
			q := money.DecimalFromInt(1) // an hour, when left out
			if r.Quantity != "" {
				d, err := money.ParseDecimal("records["+strconv.Itoa(i)+"].quantity", r.Quantity)
				if err != nil {
					return nil, err
				}
				q = d
			}
			ins[i] = metering.RecordInput{ResourceID: r.ResourceID, Meter: pricing.Meter(r.Meter), PeriodStart: r.PeriodStart.UTC(),
				BillingAccountID: r.BillingAccountID, LocationSlug: r.LocationSlug, OwnerUUID: r.OwnerUUID, UserID: r.UserID,
				Config: r.Config, Quantity: q}
		}
		out, err := s.d.Hourly.RecordForAccounts(ctx, a, ins)
		return out, renameFields(err, meteringFields)
	}, func(rs []metering.HourlyRecord) list[hourlyRecordOut] {
		return list[hourlyRecordOut]{Items: wire.Map(rs, hourlyFrom)}
	})
}

func (s *server) listPriceVersions(ctx context.Context, _ *struct{}) (*output[list[priceVersion]], error) {
	return call(ctx, s, func(a actor.Actor) ([]pricing.Version, error) {
		return s.d.Pricing.ListVersions(ctx, a)
	}, func(vs []pricing.Version) list[priceVersion] {
		return list[priceVersion]{Items: wire.Map(vs, priceVersionFrom)}
	})
}

func (s *server) createPriceVersion(ctx context.Context, in *createPriceVersionInput) (*output[priceVersion], error) {
	return call(ctx, s, func(a actor.Actor) (pricing.Version, error) {
		items := make([]pricing.Item, len(in.Body.Items))
		for i, it := range in.Body.Items {
			p, err := money.ParseDecimal("items["+strconv.Itoa(i)+"].price", it.Price)
			if err != nil {
				return pricing.Version{}, err
			}
			items[i] = pricing.Item{PolicyID: it.PolicyID, ResourceType: pricing.ResourceType(it.ResourceType),
				ServiceNameUserFriendly: it.ServiceNameUserFriendly, NumCPUs: it.NumCPUs, MegsRAM: it.MegsRAM,
				ServiceNameInUptime: it.ServiceNameInUptime, Price: p}
		}
		v, err := s.d.Pricing.CreateVersion(ctx, a, pricing.CreateVersionInput{EffectiveFrom: in.Body.EffectiveFrom.UTC(), Items: items})
		return v, renameFields(err, meteringFields)
	}, priceVersionFrom)
}

func (s *server) listMultipliers(ctx context.Context, _ *struct{}) (*output[list[serviceMultipliers]], error) {
	return call(ctx, s, func(a actor.Actor) ([]pricing.ServiceMultipliers, error) {
		// Price lists are the provider's, as in pricing.ListVersions.
		if err := a.RequireKind(actor.Provider); err != nil {
			return nil, err
		}
		if err := a.Require(actor.Viewer); err != nil {
			return nil, err
		}
		return s.d.Pricing.ListMultipliers(ctx)
	}, func(ms []pricing.ServiceMultipliers) list[serviceMultipliers] {
		return list[serviceMultipliers]{Items: wire.Map(ms, multipliersFrom)}
	})
}

func (s *server) setMultipliers(ctx context.Context, in *setMultipliersInput) (*output[serviceMultipliers], error) {
	return call(ctx, s, func(a actor.Actor) (pricing.ServiceMultipliers, error) {
		ms := make([]pricing.Multiplier, len(in.Body.Multipliers))
		for i, m := range in.Body.Multipliers {
			d, err := money.ParseDecimal("multipliers["+strconv.Itoa(i)+"].priceMultiplier", m.PriceMultiplier)
			if err != nil {
				return pricing.ServiceMultipliers{}, err
			}
			ms[i] = pricing.Multiplier{ResourceType: pricing.ResourceType(m.ResourceType), ServiceNameInUptime: m.ServiceNameInUptime,
				PriceMultiplier: d}
		}
		out, err := s.d.Pricing.SetMultipliers(ctx, a, in.Service, ms)
		return out, renameFields(err, meteringFields)
	}, multipliersFrom)
}

func (s *server) listInvoices(ctx context.Context, in *accountIDParam) (*output[list[invoiceOut]], error) {
	return call(ctx, s, func(a actor.Actor) ([]billing.Invoice, error) {
		invs, err := s.d.Billing.ListInvoices(ctx, a, in.ID)
		return invs, renameFields(err, billingFields)
	}, func(invs []billing.Invoice) list[invoiceOut] {
		return list[invoiceOut]{Items: wire.Map(invs, invoiceFrom)}
	})
}

func (s *server) verifyPaymentMethod(ctx context.Context, in *paymentMethodIDParam) (*output[paymentMethod], error) {
	return call(ctx, s, func(a actor.Actor) (payment.PaymentObject, error) {
		o, err := s.d.Payment.VerifyMethod(ctx, a, in.ID)
		return o, renameFields(err, billingFields)
	}, paymentMethodFrom)
}

func (s *server) recordBankPayment(ctx context.Context, in *bankPaymentInput) (*output[chargeOut], error) {
	return call(ctx, s, func(a actor.Actor) (payment.Charge, error) {
		c, err := s.d.Payment.RecordBankPayment(ctx, a, payment.BankPaymentInput{InvoiceID: in.ID, Amount: in.Body.Amount,
			Reference: in.Body.Reference})
		return c, renameFields(err, billingFields)
	}, chargeFrom)
}

func (s *server) trialBalance(ctx context.Context, _ *struct{}) (*output[list[currencyTotal]], error) {
	return call(ctx, s, func(a actor.Actor) ([]ledger.CurrencyTotal, error) {
		if err := a.RequireKind(actor.Provider); err != nil {
			return nil, err
		}
		if err := a.Require(actor.Admin); err != nil {
			return nil, err
		}
		return s.d.Ledger.TrialBalance(ctx)
	}, func(ts []ledger.CurrencyTotal) list[currencyTotal] {
		return list[currencyTotal]{Items: wire.Map(ts, func(t ledger.CurrencyTotal) currencyTotal {
			return currencyTotal{Currency: t.Currency, Total: t.Total.String(), Accounts: t.Accounts}
		})}
	})
}
