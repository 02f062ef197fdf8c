package billing

import (
	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/errs"
)

// Who may create money (issue 14, finding 9). Money that nobody paid for —
// welcome credit, a debt allowance or a higher debt limit (consumption on
// credit), paying by invoice (consumption before payment), a discount
// (consumption not paid for) — is the provider's to give: only a provider
// admin may set it. Every other operator (provider staff and viewers,
// distributors, partners, customers) may create accounts and change
// accounts without it, and may take it away (lower a debt limit or a
// discount, forbid debt, stop paying by invoice).
// Recording money that arrived (bank payments) and verifying an invoice
// payer are provider staff's work (payment.operator).

// MayMint reports whether a may create money or extend credit.
func MayMint(a actor.Actor) bool {
	return a.OrgKind == actor.Provider && a.Role.AtLeast(actor.Admin) && a.BillingAccount == 0
}

func mintRefused(field string) error {
	return &errs.Error{Kind: errs.KindForbidden, Field: field,
		Msg: "creates money or credit: only a provider admin may set it"}
}

// mintCheck refuses the money-creating fields of a new account to anyone
// but a provider admin.
func (in CreateAccountInput) mintCheck(a actor.Actor) error {
	if MayMint(a) {
		return nil
	}
	switch {
	case in.WelcomeCredit > 0:
		return mintRefused("welcome_credit")
	case in.AllowDebt:
		return mintRefused("allow_debt")
	case in.MaxDebt > 0:
		return mintRefused("max_debt")
	case in.PayingByInvoice:
		return mintRefused("paying_by_invoice")
	case in.DiscountPercentage > 0:
		return mintRefused("discount_percentage")
	}
	return nil
}

// mintCheck refuses a change that extends acct's credit to anyone but a
// provider admin; taking credit away stays with the account's operators.
func (in AdminInput) mintCheck(a actor.Actor, acct Account) error {
	if MayMint(a) {
		return nil
	}
	switch {
	case in.AllowDebt != nil && *in.AllowDebt && !acct.AllowDebt:
		return mintRefused("allow_debt")
	case in.MaxDebt != nil && *in.MaxDebt > acct.MaxDebt:
		return mintRefused("max_debt")
	case in.PayingByInvoice != nil && *in.PayingByInvoice && !acct.PayingByInvoice:
		return mintRefused("paying_by_invoice")
	case in.DiscountPercentage != nil && *in.DiscountPercentage > acct.DiscountPercentage:
		return mintRefused("discount_percentage")
	}
	return nil
}
