package bss

import (
	"strconv"

	"github.com/trellis-cloud/trellis/internal/validate"
)

// Text limits of the BSS's fields. The interworks SDK documents none: ids
// (GUIDs or the BSS's codes) get validate.MaxID, names and contact fields
// validate.MaxName, free text validate.MaxDescription.
const (
	maxID   = validate.MaxID
	maxName = validate.MaxName
	maxText = validate.MaxDescription
)

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
