package infiterra

import "github.com/trellis-cloud/trellis/internal/bss"

// The catalog as the SDK's model serves it, built from bss's: what the SDK
// asks that bss has no say in (derivatives, scopes, billing cycles, update
// options, charge types) is fixed here.

// fieldCollection answers fields/get: the activation settings, numbered
// from 1, without values.
func fieldCollection(ss []bss.Setting) FieldCollection {
	out := FieldCollection{Fields: make([]Field, 0, len(ss))}
	for i, s := range ss {
		kind := FieldKindText
		if s.Secret {
			kind = FieldKindPasswordText
		}
		out.Fields = append(out.Fields, Field{ID: s.ID, Definition: &FieldDefinition{ID: s.ID, SortOrder: i + 1, Name: s.Name,
			Description: NullString(s.Description), Kind: kind, MaxLength: s.MaxLength}})
	}
	return out
}

// customFields are text fields; sorted numbers them from 1 (a product
// type's), else their SortOrder is 0 (the account options').
func customFields(fs []bss.CustomField, sorted bool) CustomFieldCollection {
	out := CustomFieldCollection{Fields: make([]CustomField, 0, len(fs))}
	for i, f := range fs {
		d := CustomFieldDefinition{ID: f.ID, Name: f.Name, Kind: CustomFieldSimpleValue, DataType: DataTypeText,
			IsRequired: f.Required, IsReadOnly: f.ReadOnly, PredefinedValues: []CustomFieldPredefined{}}
		if sorted {
			d.SortOrder = i + 1
		}
		out.Fields = append(out.Fields, CustomField{ID: f.ID, Definition: d})
	}
	return out
}

// productTypes answers fields/servicedefinition: the catalog as one product
// type whose plan attribute selects the products.
func productTypes(c bss.Catalog) ProductTypeCollection {
	values := make([]AttributeValueDefinition, 0, len(c.Plan.Values))
	for _, v := range c.Plan.Values {
		values = append(values, AttributeValueDefinition{ID: v.Code, Code: v.Code, Name: v.Name, IsDefault: v.Default})
	}
	products := make([]Product, 0, len(c.Products))
	for _, p := range c.Products {
		attrs := []ProductAttribute{}
		if len(p.Plans) > 0 {
			attrs = append(attrs, ProductAttribute{ID: c.Plan.ID, Values: p.Plans})
		}
		products = append(products, Product{ID: p.ID, Code: p.ID, Name: p.Name, Description: p.Description, UnitType: p.Unit,
			Derivative: 1, IsActivated: true, EnableCancellation: true, UnitBillingCycles: []int{0}, UpdateOptions: []int{1, 5},
			Attributes: attrs, Prices: []Price{}, RelatedProducts: []RelatedProduct{}})
	}
	addons := make([]Addon, 0, len(c.Addons))
	for _, a := range c.Addons {
		addons = append(addons, Addon{ID: a.ID, Code: a.ID, Name: a.Name, Description: a.Description, Products: a.Products,
			UnitType: a.Unit, UsageType: AddonAllocated, ChargeRule: AddonChargeFull, UnitBillingCycles: []int{0},
			UpdateOptions: []int{}, Attributes: []ProductAttribute{}, Prices: []Price{}})
	}
	return ProductTypeCollection{ProductTypes: []ProductTypeDefinition{{
		ID: c.ServiceType, Name: c.Name, Description: c.Description,
		Derivative: 1, AllowMultipleSubscriptions: true, AutoExecuteAddonCancelRequest: true,
		AutoExecuteSubscriptionCancelRequest: true, AutoExecuteSubscriptionDowngradeRequest: true, Scope: 2,
		AttributeList: []AttributeDefinition{{ID: c.Plan.ID, SortOrder: 1, Name: c.Plan.Name, Description: c.Plan.Description,
			Usage: UsageProductCharacteristic, UsageSpecified: true, Kind: AttributePredefinedChooseOne, KindSpecified: true,
			PredefinedValues: values}},
		ProductsCollection:    ProductsCollection{Products: products, Addons: addons},
		CustomFieldCollection: customFields(c.Fields, true),
	}}}
}
