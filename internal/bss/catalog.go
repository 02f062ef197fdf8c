package bss

import (
	"context"
	"strings"

	"github.com/trellis-cloud/trellis/internal/errs"
)

// The catalog the BSS imports (fields/servicedefinition) and resolves
// requests against.
const (
	ServiceType     = "ImpossibleCloudStorage" // the product type's ID (ServiceDefinition.ServiceType)
	ProductStorage  = "ic-storage-tb"          // storage capacity, per TB
	AddonExtraTB    = "ic-storage-extra-tb"    // extra capacity on top of a subscription, per TB
	PlanAttribute   = "ICPlan"                 // the product attribute that names the plan (reference Q4)
	PlanStandard    = "ICPlan_Standard"        // its one value, pinned to ProductStorage
	UnitType        = "TB"
	UnitBytes       = int64(1_000_000_000_000) // 1 TB, decimal as the vendor counts
	FieldAPIKey     = "ICApiKey"               // settings: a Trellis API key of the distributor or a partner
	FieldContractID = "ICContractId"           // settings: the contract new partners draw capacity from
	FieldStorageID  = "ICStorageAccountId"     // subscription custom field: the storage account
	SyncUsername    = "username"               // sync option the BSS fills with the customer's e-mail
	maxQuantity     = int64(1_000_000)         // TB; keeps quantity × unit far from int64 overflow
)

// Fields describes the activation settings (fields/get).
func (s *Service) Fields(ctx context.Context, c Call) FieldCollection {
	return FieldCollection{Fields: []Field{
		{ID: FieldAPIKey, Definition: &FieldDefinition{ID: FieldAPIKey, SortOrder: 1, Name: "Trellis API key",
			Description: "An API key of your distributor organisation or of one of its partners (optional)",
			Kind:        FieldKindPasswordText, MaxLength: 512}},
		{ID: FieldContractID, Definition: &FieldDefinition{ID: FieldContractID, SortOrder: 2, Name: "Contract ID",
			Description: "Contract new partners draw capacity from (default: the installation's)",
			Kind:        FieldKindText, MaxLength: 64}},
	}}
}

// ServiceDefinitions is the catalog (fields/servicedefinition): one product
// type with the storage product (quantity = TB) and the extra-capacity
// add-on, and the read-only subscription field carrying the storage account.
func (s *Service) ServiceDefinitions(ctx context.Context, c Call) ProductTypeCollection {
	planValues := []string{PlanStandard}
	return ProductTypeCollection{ProductTypes: []ProductTypeDefinition{{
		ID: ServiceType, Name: "Trellis Object Storage", Description: "S3-compatible object storage, sold per TB of allocated capacity",
		Derivative: 1, AllowMultipleSubscriptions: true, AutoExecuteAddonCancelRequest: true,
		AutoExecuteSubscriptionCancelRequest: true, AutoExecuteSubscriptionDowngradeRequest: true, Scope: 2,
		AttributeList: []AttributeDefinition{{ID: PlanAttribute, SortOrder: 1, Name: "Plan", Description: "Storage plan",
			Usage: UsageProductCharacteristic, UsageSpecified: true, Kind: AttributePredefinedChooseOne, KindSpecified: true,
			PredefinedValues: []AttributeValueDefinition{{ID: PlanStandard, Code: PlanStandard, Name: "Standard", IsDefault: true}}}},
		ProductsCollection: ProductsCollection{
			Products: []Product{{ID: ProductStorage, Code: ProductStorage, Name: "Object storage (per TB)",
				Description: "Allocated storage capacity; the quantity is in TB", UnitType: UnitType, ChargeType: 0,
				Derivative: 1, IsActivated: true, EnableCancellation: true, UnitBillingCycles: []int{0}, UpdateOptions: []int{1, 5},
				Attributes: []ProductAttribute{{ID: PlanAttribute, Values: planValues}}, Prices: []Price{}, RelatedProducts: []RelatedProduct{}}},
			Addons: []Addon{{ID: AddonExtraTB, Code: AddonExtraTB, Name: "Extra storage capacity (per TB)",
				Description: "Capacity added on top of the subscription's quantity", Products: []string{ProductStorage},
				UnitType: UnitType, UsageType: AddonAllocated, ChargeRule: AddonChargeFull, UnitBillingCycles: []int{0},
				UpdateOptions: []int{}, Attributes: []ProductAttribute{}, Prices: []Price{}}},
		},
		CustomFieldCollection: CustomFieldCollection{Fields: []CustomField{{ID: FieldStorageID, Definition: CustomFieldDefinition{
			ID: FieldStorageID, SortOrder: 1, Name: "Storage account", Kind: CustomFieldSimpleValue, DataType: DataTypeText,
			IsReadOnly: true, PredefinedValues: []CustomFieldPredefined{}}}}},
	}}}
}

// SyncOptions are the extra account inputs (accounts/syncoptions): only the
// username, which the BSS fills with the customer's e-mail.
func (s *Service) SyncOptions(ctx context.Context, c Call) CustomFieldCollection {
	return CustomFieldCollection{Fields: []CustomField{{ID: SyncUsername, Definition: CustomFieldDefinition{
		ID: SyncUsername, Name: "Username", Kind: CustomFieldSimpleValue, DataType: DataTypeText, IsRequired: true,
		PredefinedValues: []CustomFieldPredefined{}}}}}
}

// resolveProduct finds the product a subscription request is for (reference
// Q4): the plan attribute's code first, then ProductID against our ids, then
// a request naming only our ServiceType.
func resolveProduct(in ServiceDefinition) (string, error) {
	if in.ServiceType != "" && !strings.EqualFold(strings.TrimSpace(in.ServiceType), ServiceType) {
		return "", refuse(errs.KindInvalid, "Unknown service type %q", in.ServiceType)
	}
	for k, a := range in.AttributeList {
		if !strings.EqualFold(k, PlanAttribute) || strings.TrimSpace(a.Code) == "" {
			continue
		}
		if strings.EqualFold(strings.TrimSpace(a.Code), PlanStandard) {
			return ProductStorage, nil
		}
		return "", refuse(errs.KindInvalid, "Unknown plan %q", a.Code)
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

func resolveAddonProduct(a AddonDefinition) (string, error) {
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
