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

// textField is one string of a request and its limit.
type textField struct {
	name  string
	value string
	max   int
}

func checkFields(fs []textField) error {
	for _, f := range fs {
		if _, err := validate.Text(f.name, f.value, f.max); err != nil {
			return err
		}
	}
	return nil
}

// mapFields lists a map's keys (as ids) and values (as names).
func mapFields(prefix string, m map[string]string) []textField {
	var out []textField
	for k, v := range m {
		out = append(out, textField{prefix + " key", k, maxID}, textField{prefix + "." + k, v, maxText})
	}
	return out
}

func (in AccountDefinition) fields(prefix string) []textField {
	fs := []textField{
		{prefix + "ID", in.ID, maxID}, {prefix + "ExternalID", in.ExternalID, maxID},
		{prefix + "ResellerID", in.ResellerID, maxID}, {prefix + "ResellerExternalID", in.ResellerExternalID, maxID},
		{prefix + "Name", in.Name, maxName}, {prefix + "Code", in.Code, maxID},
		{prefix + "Phone", in.Phone, maxName}, {prefix + "Fax", in.Fax, maxName},
		{prefix + "WebSite", in.WebSite, maxName}, {prefix + "Email", in.Email, maxName},
		{prefix + "Description", in.Description, maxText},
	}
	fs = append(fs, mapFields(prefix+"ExtraDetails", in.ExtraDetails)...)
	fs = append(fs, mapFields(prefix+"SyncOptions", in.SyncOptions)...)
	if c := in.ContactDetails; c != nil {
		p := prefix + "ContactDetails."
		fs = append(fs, textField{p + "ID", c.ID, maxID}, textField{p + "FirstName", c.FirstName, maxName},
			textField{p + "LastName", c.LastName, maxName}, textField{p + "Phone", c.Phone, maxName},
			textField{p + "Fax", c.Fax, maxName}, textField{p + "Email", c.Email, maxName})
	}
	if a := in.Address; a != nil {
		p := prefix + "Address."
		fs = append(fs, textField{p + "Address1", a.Address1, maxName}, textField{p + "Address2", a.Address2, maxName},
			textField{p + "City", a.City, maxName}, textField{p + "PostCode", a.PostCode, maxName})
		for name, cn := range map[string]*CodeName{"State": a.State, "Country": a.Country} {
			if cn != nil {
				fs = append(fs, textField{p + name + ".Code", cn.Code, maxID}, textField{p + name + ".Name", cn.Name, maxName})
			}
		}
	}
	return fs
}

// Validate bounds the account's text: ids at most 128 characters, names
// 255, descriptions 1,000.
func (in AccountDefinition) Validate() error { return checkFields(in.fields("")) }

func attributeFields(prefix string, m map[string]Attribute) []textField {
	var out []textField
	for k, a := range m {
		p := prefix + "." + k + "."
		out = append(out, textField{prefix + " key", k, maxID}, textField{p + "ID", a.ID, maxID},
			textField{p + "Name", a.Name, maxName}, textField{p + "Value", a.Value, maxText},
			textField{p + "Code", a.Code, maxID})
		out = append(out, mapFields(p+"ExtraParameters", a.ExtraParameters)...)
	}
	return out
}

// Validate bounds the subscription's text, its account's and its add-ons'.
func (in ServiceDefinition) Validate() error {
	fs := []textField{
		{"ID", in.ID, maxID}, {"SubscriptionID", in.SubscriptionID, maxID},
		{"OriginalSubscriptionID", in.OriginalSubscriptionID, maxID}, {"Name", in.Name, maxName},
		{"ServiceType", in.ServiceType, maxID}, {"ProductID", in.ProductID, maxID},
	}
	fs = append(fs, in.Account.fields("Account.")...)
	fs = append(fs, attributeFields("AttributeList", in.AttributeList)...)
	fs = append(fs, mapFields("CustomFieldValues", in.CustomFieldValues)...)
	fs = append(fs, mapFields("ExtraDetails", in.ExtraDetails)...)
	for i, a := range in.Addons {
		p := "Addons[" + strconv.Itoa(i) + "]."
		fs = append(fs, textField{p + "ID", a.ID, maxID}, textField{p + "ParentID", a.ParentID, maxID},
			textField{p + "Name", a.Name, maxName}, textField{p + "ProductID", a.ProductID, maxID})
		fs = append(fs, attributeFields(p+"AttributeList", a.AttributeList)...)
		fs = append(fs, mapFields(p+"ExtraDetails", a.ExtraDetails)...)
	}
	if b := in.BillingCycle; b != nil {
		fs = append(fs, textField{"BillingCycle.Duration", b.Duration, maxID}, textField{"BillingCycle.DurationType", b.DurationType, maxID})
	}
	if r := in.RequestedBy; r != nil {
		fs = append(fs, textField{"RequestedBy.FirstName", r.FirstName, maxName}, textField{"RequestedBy.LastName", r.LastName, maxName},
			textField{"RequestedBy.DisplayName", r.DisplayName, maxName}, textField{"RequestedBy.Email", r.Email, maxName})
	}
	return checkFields(fs)
}
