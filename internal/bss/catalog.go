package bss

import (
	"context"
	"strings"

	"github.com/trellis-cloud/trellis/internal/errs"
)

// The catalog the BSS imports (fields/servicedefinition) and resolves
// requests against.
const (
	ServiceType     = "ImpossibleCloudStorage" // the product type's ID (SubscriptionInput.ServiceType)
	ProductStorage  = "ic-storage-tb"          // storage capacity, per TB
	AddonExtraTB    = "ic-storage-extra-tb"    // extra capacity on top of a subscription, per TB
	PlanAttribute   = "ICPlan"                 // the product attribute that names the plan (reference Q4)
	PlanStandard    = "ICPlan_Standard"        // its one value, pinned to ProductStorage
	UnitType        = "TB"
	UnitBytes       = int64(1_000_000_000_000) // 1 TB, decimal as the vendor counts
	FieldAPIKey     = "ICApiKey"               // settings: a Trellis API key of the distributor or a partner
	FieldContractID = "ICContractId"           // settings: the contract new partners draw capacity from
	FieldStorageID  = "ICStorageAccountId"     // subscription custom field: the storage account
	SyncUsername    = "username"               // account option the BSS fills with the customer's e-mail
	maxQuantity     = int64(1_000_000)         // TB; keeps quantity × unit far from int64 overflow
)

// Setting is an activation setting a partner fills in on the BSS
// (fields/get); the BSS sends its value on every call (Call.Settings).
type Setting struct {
	ID          string
	Name        string
	Description string
	Secret      bool // entered as a password
	MaxLength   int
}

// SettingValue is a setting's value as the partner saved it
// (fields/validate).
type SettingValue struct {
	ID    string
	Value string // "" = not set
}

// Settings describes the activation settings (fields/get).
func (s *Service) Settings(ctx context.Context, c Call) []Setting {
	return []Setting{
		{ID: FieldAPIKey, Name: "Trellis API key",
			Description: "An API key of your distributor organisation or of one of its partners (optional)",
			Secret:      true, MaxLength: 512},
		{ID: FieldContractID, Name: "Contract ID",
			Description: "Contract new partners draw capacity from (default: the installation's)", MaxLength: 64},
	}
}

// Catalog is what the BSS sells (fields/servicedefinition): one product
// type with its plan attribute, products and add-ons, and the subscription
// fields the vendor fills in.
type Catalog struct {
	ServiceType string // the product type's ID
	Name        string
	Description string
	Plan        Attribute
	Products    []CatalogProduct
	Addons      []CatalogAddon
	Fields      []CustomField // per subscription
}

// Attribute is a product-type attribute chosen from predefined values.
type Attribute struct {
	ID          string
	Name        string
	Description string
	Values      []AttributeValue
}

// AttributeValue is one predefined value of an attribute.
type AttributeValue struct {
	Code    string
	Name    string
	Default bool
}

// CatalogProduct is a sellable product; its quantity is in Unit.
type CatalogProduct struct {
	ID          string
	Name        string
	Description string
	Unit        string
	Plans       []string // the plan attribute's values that select it
}

// CatalogAddon is an add-on of products, charged in Unit on top of them.
type CatalogAddon struct {
	ID          string
	Name        string
	Description string
	Unit        string
	Products    []string
}

// CustomField is a text field of an account or a subscription.
type CustomField struct {
	ID       string
	Name     string
	Required bool // the BSS must fill it in
	ReadOnly bool // the vendor fills it in
}

// Catalog is the catalog (fields/servicedefinition): one product type
// with the storage product (quantity = TB) and the extra-capacity add-on,
// and the read-only subscription field carrying the storage account.
func (s *Service) Catalog(ctx context.Context, c Call) Catalog {
	return Catalog{
		ServiceType: ServiceType, Name: "Trellis Object Storage", Description: "S3-compatible object storage, sold per TB of allocated capacity",
		Plan: Attribute{ID: PlanAttribute, Name: "Plan", Description: "Storage plan",
			Values: []AttributeValue{{Code: PlanStandard, Name: "Standard", Default: true}}},
		Products: []CatalogProduct{{ID: ProductStorage, Name: "Object storage (per TB)",
			Description: "Allocated storage capacity; the quantity is in TB", Unit: UnitType, Plans: []string{PlanStandard}}},
		Addons: []CatalogAddon{{ID: AddonExtraTB, Name: "Extra storage capacity (per TB)",
			Description: "Capacity added on top of the subscription's quantity", Unit: UnitType, Products: []string{ProductStorage}}},
		Fields: []CustomField{{ID: FieldStorageID, Name: "Storage account", ReadOnly: true}},
	}
}

// AccountOptions are the extra account inputs (accounts/syncoptions): only
// the username, which the BSS fills with the customer's e-mail.
func (s *Service) AccountOptions(ctx context.Context, c Call) []CustomField {
	return []CustomField{{ID: SyncUsername, Name: "Username", Required: true}}
}

// resolveProduct finds the product a subscription request is for (reference
// Q4): the plan attribute's code first, then ProductID against our ids, then
// a request naming only our ServiceType.
func resolveProduct(in SubscriptionInput) (string, error) {
	if in.ServiceType != "" && !strings.EqualFold(strings.TrimSpace(in.ServiceType), ServiceType) {
		return "", refuse(errs.KindInvalid, "Unknown service type %q", in.ServiceType)
	}
	for k, code := range in.Attributes {
		if !strings.EqualFold(k, PlanAttribute) || strings.TrimSpace(code) == "" {
			continue
		}
		if strings.EqualFold(strings.TrimSpace(code), PlanStandard) {
			return ProductStorage, nil
		}
		return "", refuse(errs.KindInvalid, "Unknown plan %q", code)
	}
	p := strings.TrimSpace(in.ProductID)
	switch {
	case strings.EqualFold(p, ProductStorage):
		return ProductStorage, nil
	case p == "" && in.ServiceType != "":
		return ProductStorage, nil
	case p == "":
		return "", refuse(errs.KindInvalid, "ProductID is required")
	}
	return "", refuse(errs.KindInvalid, "Unknown product %q", in.ProductID)
}

func resolveAddonProduct(a AddonInput) (string, error) {
	if strings.EqualFold(strings.TrimSpace(a.ProductID), AddonExtraTB) {
		return AddonExtraTB, nil
	}
	return "", refuse(errs.KindInvalid, "Unknown add-on product %q", a.ProductID)
}

func checkQuantity(what string, q int64) error {
	if q < 1 {
		return refuse(errs.KindInvalid, "%s quantity must be at least 1, got %d", what, q)
	}
	if q > maxQuantity {
		return refuse(errs.KindInvalid, "%s quantity must be at most %d", what, maxQuantity)
	}
	return nil
}
