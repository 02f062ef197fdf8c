package infiterra

import (
	"sort"
	"strconv"
	"strings"

	"github.com/trellis-cloud/trellis/internal/bss"
	"github.com/trellis-cloud/trellis/internal/validate"
)

// The requests mapped onto bss's inputs. Every string of a request is
// bounded here, in the order the SDK's model lists them, and the first
// violation travels as the input's Invalid, so that bss refuses and records
// the call like any other refusal. The interworks SDK documents no limits:
// ids (GUIDs or the BSS's codes) get validate.MaxID, names and contact
// fields validate.MaxName, free text validate.MaxDescription.

const (
	maxID   = validate.MaxID
	maxName = validate.MaxName
	maxText = validate.MaxDescription
)

// accountInput is the account as bss uses it, without Invalid.
func accountInput(in AccountDefinition) bss.AccountInput {
	out := bss.AccountInput{ID: in.ID, ExternalID: in.ExternalID, ResellerID: in.ResellerID,
		ResellerExternalID: in.ResellerExternalID, Name: in.Name, Email: in.Email,
		Username: syncOption(in.SyncOptions, bss.SyncUsername)}
	if in.ContactDetails != nil {
		out.ContactEmail = in.ContactDetails.Email
	}
	return out
}

// syncOption is the account option id, its name compared
// case-insensitively (the exact spelling first, then the first in order).
func syncOption(opts map[string]string, id string) string {
	if v, ok := opts[id]; ok {
		return v
	}
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.EqualFold(k, id) {
			return opts[k]
		}
	}
	return ""
}

// Input is the account call's input.
func (in AccountDefinition) Input() bss.AccountInput {
	out := accountInput(in)
	out.Invalid = in.Validate()
	return out
}

// Input is the subscription or add-on call's input.
func (in ServiceDefinition) Input() bss.SubscriptionInput {
	out := bss.SubscriptionInput{ID: in.ID, SubscriptionID: in.SubscriptionID, Name: in.Name, ServiceType: in.ServiceType,
		ProductID: in.ProductID, Quantity: in.Quantity, Account: accountInput(in.Account), Invalid: in.Validate()}
	if len(in.AttributeList) > 0 {
		out.Attributes = make(map[string]string, len(in.AttributeList))
		for k, a := range in.AttributeList {
			out.Attributes[k] = a.Code
		}
	}
	for _, a := range in.Addons {
		out.Addons = append(out.Addons, bss.AddonInput{ID: a.ID, ProductID: a.ProductID, Action: addonAction(a.ActionType), Quantity: a.Quantity})
	}
	return out
}

func addonAction(a ActionType) bss.AddonAction {
	switch a {
	case ActionProvision:
		return bss.AddonProvision
	case ActionCancel:
		return bss.AddonCancel
	}
	return bss.AddonNone
}

// Values are the settings' values (fields/validate), as text.
func (fc FieldCollection) Values() []bss.SettingValue {
	out := make([]bss.SettingValue, 0, len(fc.Fields))
	for _, f := range fc.Fields {
		out = append(out, bss.SettingValue{ID: f.ID, Value: f.StringValue()})
	}
	return out
}

// mapFields lists a map's keys (as ids) and values (as names).
func mapFields(prefix string, m map[string]string) []validate.TextField {
	var out []validate.TextField
	for k, v := range m {
		out = append(out, validate.TextField{Name: prefix + " key", Value: k, Max: maxID}, validate.TextField{Name: prefix + "." + k, Value: v, Max: maxText})
	}
	return out
}

func (in AccountDefinition) fields(prefix string) []validate.TextField {
	fs := []validate.TextField{
		{Name: prefix + "ID", Value: in.ID, Max: maxID}, {Name: prefix + "ExternalID", Value: in.ExternalID, Max: maxID},
		{Name: prefix + "ResellerID", Value: in.ResellerID, Max: maxID}, {Name: prefix + "ResellerExternalID", Value: in.ResellerExternalID, Max: maxID},
		{Name: prefix + "Name", Value: in.Name, Max: maxName}, {Name: prefix + "Code", Value: in.Code, Max: maxID},
		{Name: prefix + "Phone", Value: in.Phone, Max: maxName}, {Name: prefix + "Fax", Value: in.Fax, Max: maxName},
		{Name: prefix + "WebSite", Value: in.WebSite, Max: maxName}, {Name: prefix + "Email", Value: in.Email, Max: maxName},
		{Name: prefix + "Description", Value: in.Description, Max: maxText},
	}
	fs = append(fs, mapFields(prefix+"ExtraDetails", in.ExtraDetails)...)
	fs = append(fs, mapFields(prefix+"SyncOptions", in.SyncOptions)...)
	if c := in.ContactDetails; c != nil {
		p := prefix + "ContactDetails."
		fs = append(fs, validate.TextField{Name: p + "ID", Value: c.ID, Max: maxID}, validate.TextField{Name: p + "FirstName", Value: c.FirstName, Max: maxName},
			validate.TextField{Name: p + "LastName", Value: c.LastName, Max: maxName}, validate.TextField{Name: p + "Phone", Value: c.Phone, Max: maxName},
			validate.TextField{Name: p + "Fax", Value: c.Fax, Max: maxName}, validate.TextField{Name: p + "Email", Value: c.Email, Max: maxName})
	}
	if a := in.Address; a != nil {
		p := prefix + "Address."
		fs = append(fs, validate.TextField{Name: p + "Address1", Value: a.Address1, Max: maxName}, validate.TextField{Name: p + "Address2", Value: a.Address2, Max: maxName},
			validate.TextField{Name: p + "City", Value: a.City, Max: maxName}, validate.TextField{Name: p + "PostCode", Value: a.PostCode, Max: maxName})
		for name, cn := range map[string]*CodeName{"State": a.State, "Country": a.Country} {
			if cn != nil {
				fs = append(fs, validate.TextField{Name: p + name + ".Code", Value: cn.Code, Max: maxID}, validate.TextField{Name: p + name + ".Name", Value: cn.Name, Max: maxName})
			}
		}
	}
	return fs
}

// Validate bounds the account's text: ids at most 128 characters, names
// 255, descriptions 1,000.
func (in AccountDefinition) Validate() error { return validate.Texts(in.fields("")) }

func attributeFields(prefix string, m map[string]Attribute) []validate.TextField {
	var out []validate.TextField
	for k, a := range m {
		p := prefix + "." + k + "."
		out = append(out, validate.TextField{Name: prefix + " key", Value: k, Max: maxID}, validate.TextField{Name: p + "ID", Value: a.ID, Max: maxID},
			validate.TextField{Name: p + "Name", Value: a.Name, Max: maxName}, validate.TextField{Name: p + "Value", Value: a.Value, Max: maxText},
			validate.TextField{Name: p + "Code", Value: a.Code, Max: maxID})
		out = append(out, mapFields(p+"ExtraParameters", a.ExtraParameters)...)
	}
	return out
}

// Validate bounds the subscription's text, its account's and its add-ons'.
func (in ServiceDefinition) Validate() error {
	fs := []validate.TextField{
		{Name: "ID", Value: in.ID, Max: maxID}, {Name: "SubscriptionID", Value: in.SubscriptionID, Max: maxID},
		{Name: "OriginalSubscriptionID", Value: in.OriginalSubscriptionID, Max: maxID}, {Name: "Name", Value: in.Name, Max: maxName},
		{Name: "ServiceType", Value: in.ServiceType, Max: maxID}, {Name: "ProductID", Value: in.ProductID, Max: maxID},
	}
	fs = append(fs, in.Account.fields("Account.")...)
	fs = append(fs, attributeFields("AttributeList", in.AttributeList)...)
	fs = append(fs, mapFields("CustomFieldValues", in.CustomFieldValues)...)
	fs = append(fs, mapFields("ExtraDetails", in.ExtraDetails)...)
	for i, a := range in.Addons {
		p := "Addons[" + strconv.Itoa(i) + "]."
		fs = append(fs, validate.TextField{Name: p + "ID", Value: a.ID, Max: maxID}, validate.TextField{Name: p + "ParentID", Value: a.ParentID, Max: maxID},
			validate.TextField{Name: p + "Name", Value: a.Name, Max: maxName}, validate.TextField{Name: p + "ProductID", Value: a.ProductID, Max: maxID})
		fs = append(fs, attributeFields(p+"AttributeList", a.AttributeList)...)
		fs = append(fs, mapFields(p+"ExtraDetails", a.ExtraDetails)...)
	}
	if b := in.BillingCycle; b != nil {
		fs = append(fs, validate.TextField{Name: "BillingCycle.Duration", Value: b.Duration, Max: maxID}, validate.TextField{Name: "BillingCycle.DurationType", Value: b.DurationType, Max: maxID})
	}
	if r := in.RequestedBy; r != nil {
		fs = append(fs, validate.TextField{Name: "RequestedBy.FirstName", Value: r.FirstName, Max: maxName}, validate.TextField{Name: "RequestedBy.LastName", Value: r.LastName, Max: maxName},
			validate.TextField{Name: "RequestedBy.DisplayName", Value: r.DisplayName, Max: maxName}, validate.TextField{Name: "RequestedBy.Email", Value: r.Email, Max: maxName})
	}
	return validate.Texts(fs)
}
