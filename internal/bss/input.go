package bss

import (
	"strconv"

	"github.com/trellis-cloud/trellis/internal/validate"
)

// The inputs of the account, subscription and add-on calls, as the domain
// uses them. The HTTP dialect decodes its wire model and maps it onto these
// (internal/httpapi/dialect/infiterra/model.go); the request's other text
// is the dialect's to bound, and it hands a violation over as Invalid so
// that the call is refused and recorded like any other refusal.

// AccountInput is an account a call names (accounts/* and a subscription's
// account).
type AccountInput struct {
	ID                 string // the BSS's id of the account
	ExternalID         string // ours ("a-…"), once synchronized
	ResellerID         string // the BSS's id of the reseller (end customers only)
	ResellerExternalID string // ours of the reseller
	Name               string
	// The e-mail candidates, in this order of preference: the account's,
	// its primary contact's, and the username account option.
	Email, ContactEmail, Username string
	// Invalid is the dialect's refusal of the request's text, if any.
	Invalid error
}

// SubscriptionInput is a subscription call's subject (subscriptions/*; for
// addons/* the parent subscription with its Addons).
type SubscriptionInput struct {
	ID             string // ours ("s-…"), once created
	SubscriptionID string // the BSS's id of the subscription
	Name           string
	ServiceType    string
	ProductID      string
	// Attributes are the chosen attribute values' codes keyed by attribute
	// ID (PlanAttribute names the plan).
	Attributes map[string]string
	Quantity   int64 // TB
	Account    AccountInput
	Addons     []AddonInput
	// Invalid is the dialect's refusal of the request's text, if any.
	Invalid error
}

// AddonInput is an add-on of a subscription call.
type AddonInput struct {
	ID        string // ours ("ad-…"), once created
	ProductID string
	Action    AddonAction
	Quantity  int64 // TB
}

// AddonAction is what a call asks of an add-on.
type AddonAction int

// AddonAction values.
const (
	AddonNone      AddonAction = iota // the add-on is not acted on
	AddonProvision                    // create it or set its quantity
	AddonCancel                       // end it
)

func (a AddonAction) String() string {
	switch a {
	case AddonProvision:
		return "Provision"
	case AddonCancel:
		return "Cancel"
	}
	return "None"
}

// Text limits of the fields the domain uses: ids (GUIDs or the BSS's
// codes) validate.MaxID, names validate.MaxName.
const (
	maxID   = validate.MaxID
	maxName = validate.MaxName
)

func (in AccountInput) fields(prefix string) []validate.TextField {
	return []validate.TextField{
		{Name: prefix + "ID", Value: in.ID, Max: maxID}, {Name: prefix + "ExternalID", Value: in.ExternalID, Max: maxID},
		{Name: prefix + "ResellerID", Value: in.ResellerID, Max: maxID}, {Name: prefix + "ResellerExternalID", Value: in.ResellerExternalID, Max: maxID},
		{Name: prefix + "Name", Value: in.Name, Max: maxName},
	}
}

// Validate is the dialect's refusal, else the bounds of the ids and the
// name: ids at most 128 characters, names 255.
func (in AccountInput) Validate() error {
	if in.Invalid != nil {
		return in.Invalid
	}
	return validate.Texts(in.fields(""))
}

// Validate is the dialect's refusal, else the bounds of the subscription's
// ids and name, its account's and its add-ons'.
func (in SubscriptionInput) Validate() error {
	if in.Invalid != nil {
		return in.Invalid
	}
	if in.Account.Invalid != nil {
		return in.Account.Invalid
	}
	fs := []validate.TextField{
		{Name: "ID", Value: in.ID, Max: maxID}, {Name: "SubscriptionID", Value: in.SubscriptionID, Max: maxID}, {Name: "Name", Value: in.Name, Max: maxName},
		{Name: "ServiceType", Value: in.ServiceType, Max: maxID}, {Name: "ProductID", Value: in.ProductID, Max: maxID},
	}
	fs = append(fs, in.Account.fields("Account.")...)
	for k, v := range in.Attributes {
		fs = append(fs, validate.TextField{Name: "AttributeList key", Value: k, Max: maxID}, validate.TextField{Name: "AttributeList." + k + ".Code", Value: v, Max: maxID})
	}
	for i, a := range in.Addons {
		p := "Addons[" + strconv.Itoa(i) + "]."
		fs = append(fs, validate.TextField{Name: p + "ID", Value: a.ID, Max: maxID}, validate.TextField{Name: p + "ProductID", Value: a.ProductID, Max: maxID})
	}
	return validate.Texts(fs)
}
