package infiterra

// The wire model: the request and catalog types of the Infiterra
// (interworks.cloud) service-manager contract (the answers' envelope is
// envelope.go). Names and JSON property names are exactly those of the
// interworks SDK (Interworks.Extensions.Models 1.0.11) as the contract
// reference lists them. Input is matched case-insensitively and unknown
// fields are ignored (encoding/json does both); a JSON null, a missing field
// and "" read the same. The dialect maps requests onto bss's inputs
// (mapping.go) and builds the catalog it serves from bss's (catalog.go).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// ---- enums ----

// enumNames maps a value to its SDK name. The SDK reads an enum from either
// its integer or its name (Newtonsoft), so the readers below accept both;
// the writers follow the SDK: names where it sets StringEnumConverter.
type enumNames []string

func (n enumNames) name(v int) string {
	if v >= 0 && v < len(n) && n[v] != "" {
		return n[v]
	}
	return strconv.Itoa(v)
}

func (n enumNames) parse(kind string, b []byte) (int, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return 0, nil
	}
	if b[0] != '"' {
		var i int
		if err := json.Unmarshal(b, &i); err != nil {
			return 0, fmt.Errorf("%s: %w", kind, err)
		}
		return i, nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return 0, err
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if i, err := strconv.Atoi(s); err == nil {
		return i, nil
	}
	for i, name := range n {
		if name != "" && strings.EqualFold(name, s) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("%s: unknown value %q", kind, s)
}

var actionTypeNames = enumNames{"None", "Provision", "Cancel", "Suspend", "Activate", "Upgrade", "Downgrade", "UpgradeToPaid"}

// ActionType says what the BSS asks for (string on the wire).
type ActionType int

// ActionType values.
const (
	ActionNone ActionType = iota
	ActionProvision
	ActionCancel
	ActionSuspend
	ActionActivate
	ActionUpgrade
	ActionDowngrade
	ActionUpgradeToPaid
)

func (a ActionType) String() string               { return actionTypeNames.name(int(a)) }
func (a ActionType) MarshalJSON() ([]byte, error) { return json.Marshal(a.String()) }
func (a *ActionType) UnmarshalJSON(b []byte) error {
	v, err := actionTypeNames.parse("ActionType", b)
	*a = ActionType(v)
	return err
}

var requestedByNames = enumNames{"BSS", "Storefront", "API", "Unknown"}

// RequestedByType says who triggered the call (string on the wire).
type RequestedByType int

func (r RequestedByType) String() string               { return requestedByNames.name(int(r)) }
func (r RequestedByType) MarshalJSON() ([]byte, error) { return json.Marshal(r.String()) }
func (r *RequestedByType) UnmarshalJSON(b []byte) error {
	v, err := requestedByNames.parse("RequestedByType", b)
	*r = RequestedByType(v)
	return err
}

var customFieldKindNames = enumNames{"SimpleValue", "List", "TextArea", "ListMultiSelect", "Boolean", "Link", "Mask", "MOD11CheckDigit", "Unknown", "File"}

// CustomFieldKind is a custom field's input kind (string on the wire).
type CustomFieldKind int

// CustomFieldKind values used here.
const (
	CustomFieldSimpleValue CustomFieldKind = 0
)

func (k CustomFieldKind) String() string               { return customFieldKindNames.name(int(k)) }
func (k CustomFieldKind) MarshalJSON() ([]byte, error) { return json.Marshal(k.String()) }
func (k *CustomFieldKind) UnmarshalJSON(b []byte) error {
	v, err := customFieldKindNames.parse("CustomFieldKind", b)
	*k = CustomFieldKind(v)
	return err
}

var customFieldDataTypeNames = enumNames{"Text", "Number", "Currency", "Date", "Unknown"}

// CustomFieldDataType is a custom field's data type (string on the wire).
type CustomFieldDataType int

// CustomFieldDataType values used here.
const (
	DataTypeText CustomFieldDataType = 0
)

func (d CustomFieldDataType) String() string               { return customFieldDataTypeNames.name(int(d)) }
func (d CustomFieldDataType) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }
func (d *CustomFieldDataType) UnmarshalJSON(b []byte) error {
	v, err := customFieldDataTypeNames.parse("CustomFieldDataType", b)
	*d = CustomFieldDataType(v)
	return err
}

var attributeKindNames = enumNames{"Text", "Numeric", "DateTime", "Boolean", "PredefinedChooseOne", "PredefinedChooseMany", "CustomMultipleValues", "Slider"}

// AttributeKind is a product attribute's kind (string on the wire).
type AttributeKind int

// AttributeKind values used here.
const (
	AttributePredefinedChooseOne AttributeKind = 4
)

func (k AttributeKind) String() string               { return attributeKindNames.name(int(k)) }
func (k AttributeKind) MarshalJSON() ([]byte, error) { return json.Marshal(k.String()) }
func (k *AttributeKind) UnmarshalJSON(b []byte) error {
	v, err := attributeKindNames.parse("AttributeKind", b)
	*k = AttributeKind(v)
	return err
}

var attributeUsageNames = enumNames{"ProductCharacteristic", "OrderCharacteristic", "HiddenCharacteristic"}

// AttributeUsage is a product attribute's usage (string on the wire).
type AttributeUsage int

// AttributeUsage values used here.
const (
	UsageProductCharacteristic AttributeUsage = 0
)

func (u AttributeUsage) String() string               { return attributeUsageNames.name(int(u)) }
func (u AttributeUsage) MarshalJSON() ([]byte, error) { return json.Marshal(u.String()) }
func (u *AttributeUsage) UnmarshalJSON(b []byte) error {
	v, err := attributeUsageNames.parse("AttributeUsage", b)
	*u = AttributeUsage(v)
	return err
}

var addonUsageTypeNames = enumNames{"Undefined", "Metered", "Allocated"}

// AddonUsageType is how an add-on is charged (string on the wire).
type AddonUsageType int

// AddonUsageType values used here.
const (
	AddonAllocated AddonUsageType = 2
)

func (u AddonUsageType) String() string               { return addonUsageTypeNames.name(int(u)) }
func (u AddonUsageType) MarshalJSON() ([]byte, error) { return json.Marshal(u.String()) }
func (u *AddonUsageType) UnmarshalJSON(b []byte) error {
	v, err := addonUsageTypeNames.parse("AddonUsageType", b)
	*u = AddonUsageType(v)
	return err
}

var addonChargeRuleNames = enumNames{"Undefined", "Partial", "Full"}

// AddonChargeRule is an add-on's pro-rata rule (string on the wire).
type AddonChargeRule int

// AddonChargeRule values used here.
const (
	AddonChargeFull AddonChargeRule = 2
)

func (r AddonChargeRule) String() string               { return addonChargeRuleNames.name(int(r)) }
func (r AddonChargeRule) MarshalJSON() ([]byte, error) { return json.Marshal(r.String()) }
func (r *AddonChargeRule) UnmarshalJSON(b []byte) error {
	v, err := addonChargeRuleNames.parse("AddonChargeRule", b)
	*r = AddonChargeRule(v)
	return err
}

// IntEnum is an enum the SDK writes as an integer (FieldKind, Derivative,
// ProductChargeType, ...); it still accepts a numeric string or, for the
// enums whose names are not needed here, rejects a name.
type IntEnum int

func (e *IntEnum) UnmarshalJSON(b []byte) error {
	v, err := enumNames(nil).parse("enum", b)
	*e = IntEnum(v)
	return err
}

// FieldKind values (FieldDefinition.Kind, an integer on the wire).
const (
	FieldKindText         IntEnum = 0
	FieldKindPasswordText IntEnum = 1
)

// ---- nullable string ----

// NullString is a string the SDK writes as null when unset; "" encodes as
// null, and null decodes as "".
type NullString string

func (s NullString) MarshalJSON() ([]byte, error) {
	if s == "" {
		return []byte("null"), nil
	}
	return json.Marshal(string(s))
}

// ---- settings fields (§3.3) ----

// FieldCollection is the body of fields/get and fields/validate.
type FieldCollection struct {
	Fields []Field `json:"Fields"`
}

// Field is one setting; Value is whatever JSON the BSS sent (string, number,
// bool, array or object).
type Field struct {
	ID         string           `json:"ID"`
	Value      json.RawMessage  `json:"Value"`
	Definition *FieldDefinition `json:"Definition"`
}

// StringValue is the field's value as text: a JSON string unquoted, any
// other JSON as written, null or absent as "".
func (f Field) StringValue() string {
	v := bytes.TrimSpace(f.Value)
	if len(v) == 0 || string(v) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return strings.TrimSpace(s)
	}
	return string(v)
}

// FieldDefinition describes a setting on the BSS activation page.
type FieldDefinition struct {
	ID                  string            `json:"ID"`
	SortOrder           int               `json:"SortOrder"`
	Name                string            `json:"Name"`
	Description         NullString        `json:"Description"`
	Kind                IntEnum           `json:"Kind"`
	MaxLength           int               `json:"MaxLength"`
	IsRequired          bool              `json:"IsRequired"`
	PredefinedValues    map[string]string `json:"PredefinedValues"`
	IsAdditionalField   bool              `json:"IsAdditionalField"`
	IncludeVerification bool              `json:"IncludeVerification"`
	IsDistributorOption bool              `json:"IsDistributorOption"`
	IsPartnerOption     bool              `json:"IsPartnerOption"`
	InitialValue        NullString        `json:"InitialValue"`
}

// ---- custom fields (§3.4) ----

// CustomFieldCollection is accounts/syncoptions' answer and a product type's
// subscription fields.
type CustomFieldCollection struct {
	Fields []CustomField `json:"Fields"`
}

// CustomField is one custom field.
type CustomField struct {
	ID         string                `json:"ID"`
	Definition CustomFieldDefinition `json:"Definition"`
}

// CustomFieldDefinition describes a custom field.
type CustomFieldDefinition struct {
	ID                    string                  `json:"ID"`
	SortOrder             int                     `json:"SortOrder"`
	Name                  string                  `json:"Name"`
	Description           NullString              `json:"Description"`
	Kind                  CustomFieldKind         `json:"Kind"`
	DataType              CustomFieldDataType     `json:"DataType"`
	IsRequired            bool                    `json:"IsRequired"`
	PredefinedValues      []CustomFieldPredefined `json:"PredefinedValues"`
	IsReadOnly            bool                    `json:"IsReadOnly"`
	AvailableToStorefront bool                    `json:"AvailableToStorefront"`
}

// CustomFieldPredefined is one choice of a list custom field.
type CustomFieldPredefined struct {
	ID          string     `json:"ID"`
	SortOrder   int        `json:"SortOrder"`
	Name        string     `json:"Name"`
	Description NullString `json:"Description"`
	IsDefault   bool       `json:"IsDefault"`
}

// ---- service definition (§3.5) ----

// ProductTypeCollection is fields/servicedefinition's answer: the catalog.
type ProductTypeCollection struct {
	ProductTypes []ProductTypeDefinition `json:"ProductTypes"`
}

// ProductTypeDefinition is one product type (its ID is ServiceType later).
type ProductTypeDefinition struct {
	ID                                      string                `json:"ID"`
	Name                                    string                `json:"Name"`
	Description                             string                `json:"Description"`
	PortalUrl                               string                `json:"PortalUrl"`
	Derivative                              int                   `json:"Derivative"`
	AllowMultipleSubscriptions              bool                  `json:"AllowMultipleSubscriptions"`
	AutoExecuteAddonCancelRequest           bool                  `json:"AutoExecuteAddonCancelRequest"`
	AutoExecuteSubscriptionCancelRequest    bool                  `json:"AutoExecuteSubscriptionCancelRequest"`
	AutoExecuteSubscriptionDowngradeRequest bool                  `json:"AutoExecuteSubscriptionDowngradeRequest"`
	QuantityLimit                           int                   `json:"QuantityLimit"`
	QuantityLimitLocked                     bool                  `json:"QuantityLimitLocked"`
	Scope                                   int                   `json:"Scope"`
	AttributeList                           []AttributeDefinition `json:"AttributeList"`
	ProductsCollection                      ProductsCollection    `json:"ProductsCollection"`
	CustomFieldCollection                   CustomFieldCollection `json:"CustomFieldCollection"`
}

// AttributeDefinition is a product-type attribute (e.g. the plan).
type AttributeDefinition struct {
	ID               string                     `json:"ID"`
	SortOrder        int                        `json:"SortOrder"`
	Name             string                     `json:"Name"`
	Description      string                     `json:"Description"`
	Usage            AttributeUsage             `json:"Usage"`
	UsageSpecified   bool                       `json:"UsageSpecified"`
	Kind             AttributeKind              `json:"Kind"`
	KindSpecified    bool                       `json:"KindSpecified"`
	IsRequired       bool                       `json:"IsRequired"`
	PredefinedValues []AttributeValueDefinition `json:"PredefinedValues"`
}

// AttributeValueDefinition is one predefined value of an attribute.
type AttributeValueDefinition struct {
	ID              string            `json:"ID"`
	Code            string            `json:"Code"`
	Name            string            `json:"Name"`
	IsDefault       bool              `json:"IsDefault"`
	ResourceId      int               `json:"ResourceId"`
	ExtraParameters map[string]string `json:"ExtraParameters"`
}

// ProductsCollection lists a product type's products and add-ons.
type ProductsCollection struct {
	Products []Product `json:"Products"`
	Addons   []Addon   `json:"Addons"`
}

// Product is a sellable product.
type Product struct {
	ID                 string             `json:"ID"`
	Code               string             `json:"Code"`
	Name               string             `json:"Name"`
	Description        string             `json:"Description"`
	UnitType           string             `json:"UnitType"`
	ChargeType         int                `json:"ChargeType"`
	Derivative         int                `json:"Derivative"`
	IsActivated        bool               `json:"IsActivated"`
	EnableCancellation bool               `json:"EnableCancellation"`
	UnitBillingCycles  []int              `json:"UnitBillingCycles"`
	UpdateOptions      []int              `json:"UpdateOptions"`
	Attributes         []ProductAttribute `json:"Attributes"`
	Prices             []Price            `json:"Prices"`
	RelatedProducts    []RelatedProduct   `json:"RelatedProducts"`
}

// ProductAttribute pins a product to attribute values (e.g. the plan code).
type ProductAttribute struct {
	ID           string   `json:"ID"`
	IsPrimaryKey bool     `json:"IsPrimaryKey"`
	Values       []string `json:"Values"`
	Update       bool     `json:"Update"`
}

// RelatedProduct links products (upgrade paths).
type RelatedProduct struct {
	ProductID string `json:"ProductID"`
	Relation  int    `json:"Relation"`
}

// Addon is a sellable add-on of products.
type Addon struct {
	ID                string             `json:"ID"`
	Code              string             `json:"Code"`
	Name              string             `json:"Name"`
	Description       string             `json:"Description"`
	Products          []string           `json:"Products"`
	UnitType          string             `json:"UnitType"`
	ChargeType        int                `json:"ChargeType"`
	UsageType         AddonUsageType     `json:"UsageType"`
	ChargeRule        AddonChargeRule    `json:"ChargeRule"`
	UnitBillingCycles []int              `json:"UnitBillingCycles"`
	UpdateOptions     []int              `json:"UpdateOptions"`
	Attributes        []ProductAttribute `json:"Attributes"`
	Prices            []Price            `json:"Prices"`
}

// Price is a product's price list in one currency.
type Price struct {
	Currency string      `json:"Currency"`
	Units    []PriceUnit `json:"Units"`
}

// PriceUnit is the price per unit for one billing cycle.
type PriceUnit struct {
	BillingCycle int     `json:"BillingCycle"`
	Price        float64 `json:"Price"`
	Cost         float64 `json:"Cost"`
}

// ---- requests (§3.1, §3.2) ----

// AccountDefinition is a BSS account (reseller or end customer).
type AccountDefinition struct {
	ID                 string            `json:"ID"`
	ExternalID         string            `json:"ExternalID"`
	ResellerID         string            `json:"ResellerID"`
	ResellerExternalID string            `json:"ResellerExternalID"`
	Name               string            `json:"Name"`
	Code               string            `json:"Code"`
	Phone              string            `json:"Phone"`
	Fax                string            `json:"Fax"`
	WebSite            string            `json:"WebSite"`
	Email              string            `json:"Email"`
	IsTest             bool              `json:"IsTest"`
	Description        string            `json:"Description"`
	ExtraDetails       map[string]string `json:"ExtraDetails"`
	SyncOptions        map[string]string `json:"SyncOptions"`
	ContactDetails     *ContactDetails   `json:"ContactDetails"`
	Address            *Address          `json:"Address"`
}

// ContactDetails is an account's primary contact (no "Primary" prefix on
// the wire).
type ContactDetails struct {
	ID        string `json:"ID"`
	FirstName string `json:"FirstName"`
	LastName  string `json:"LastName"`
	Phone     string `json:"Phone"`
	Fax       string `json:"Fax"`
	Email     string `json:"Email"`
}

// Address is an account's postal address.
type Address struct {
	Address1 string    `json:"Address1"`
	Address2 string    `json:"Address2"`
	City     string    `json:"City"`
	PostCode string    `json:"PostCode"`
	State    *CodeName `json:"State"`
	Country  *CodeName `json:"Country"`
}

// CodeName is a state or country.
type CodeName struct {
	Code string `json:"Code"`
	Name string `json:"Name"`
}

// ServiceDefinition is the body of subscriptions/* and addons/* (for add-ons,
// the parent subscription with its Addons).
type ServiceDefinition struct {
	ID                         string               `json:"ID"`
	SubscriptionID             string               `json:"SubscriptionID"`
	OriginalSubscriptionID     string               `json:"OriginalSubscriptionID"`
	Name                       string               `json:"Name"`
	ServiceType                string               `json:"ServiceType"`
	ProductID                  string               `json:"ProductID"`
	ActionType                 ActionType           `json:"ActionType"`
	Quantity                   int64                `json:"Quantity"`
	Account                    AccountDefinition    `json:"Account"`
	AttributeList              map[string]Attribute `json:"AttributeList"`
	Addons                     []AddonDefinition    `json:"Addons"`
	AllowMultipleSubscriptions bool                 `json:"AllowMultipleSubscriptions"`
	IsFromOrder                bool                 `json:"IsFromOrder"`
	BillingCycle               *BillingCycle        `json:"BillingCycle"`
	CheckOverusage             bool                 `json:"CheckOverusage"`
	Derivative                 IntEnum              `json:"Derivative"`
	CustomFieldValues          map[string]string    `json:"CustomFieldValues"`
	ExtraDetails               map[string]string    `json:"ExtraDetails"`
	IsTrial                    bool                 `json:"IsTrial"`
	CheckOnly                  bool                 `json:"CheckOnly"`
	RequestedBy                *RequestedBy         `json:"RequestedBy"`
}

// Attribute is a chosen attribute value (AttributeList is an object keyed by
// attribute ID, not an array).
type Attribute struct {
	ID              string            `json:"ID"`
	Name            string            `json:"Name"`
	Value           string            `json:"Value"`
	Code            string            `json:"Code"`
	QuantityLinked  bool              `json:"QuantityLinked"`
	ExtraParameters map[string]string `json:"ExtraParameters"`
}

// AddonDefinition is an add-on inside a ServiceDefinition.
type AddonDefinition struct {
	ID            string               `json:"ID"`
	ParentID      string               `json:"ParentID"`
	Name          string               `json:"Name"`
	ProductID     string               `json:"ProductID"`
	ActionType    ActionType           `json:"ActionType"`
	Quantity      int64                `json:"Quantity"`
	AttributeList map[string]Attribute `json:"AttributeList"`
	ExtraDetails  map[string]string    `json:"ExtraDetails"`
}

// BillingCycle is a subscription's billing cycle (format unknown).
type BillingCycle struct {
	Duration     string `json:"Duration"`
	DurationType string `json:"DurationType"`
}

// RequestedBy names who triggered the call.
type RequestedBy struct {
	ID          int             `json:"ID"`
	FirstName   string          `json:"FirstName"`
	LastName    string          `json:"LastName"`
	DisplayName string          `json:"DisplayName"`
	Email       string          `json:"Email"`
	Type        RequestedByType `json:"Type"`
}
