package infiterra_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/bss"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/infiterra"
)

// The reference's subscription example decodes, enums read as names or
// integers, and string enums encode with the SDK's names (the result
// envelope is the dialect's: infiterra TestEnvelope).
func TestWireModel(t *testing.T) {
	t.Parallel()
	body := `{"ID":null,"SubscriptionID":"8812","ServiceType":"ImpossibleCloudStorage","ProductID":"ic-storage-standard",
	 "ActionType":"Provision","Quantity":5,"Account":{"ID":"1187","ExternalID":"a-2c41d0","ContactDetails":{"FirstName":"Jana"}},
	 "AttributeList":{"ICPlan":{"ID":"ICPlan","Name":"Plan","Value":"Standard","Code":"ICPlan_Standard","QuantityLinked":false,"ExtraParameters":null}},
	 "Addons":[{"ID":null,"ActionType":4,"Quantity":1}],"BillingCycle":{"Duration":"1","DurationType":"Month"},"Derivative":1,
	 "CheckOnly":true,"RequestedBy":{"ID":42,"Type":"Storefront"},"SomethingNewer":{"x":1}}`
	var d infiterra.ServiceDefinition
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	if d.ActionType != infiterra.ActionProvision || d.Addons[0].ActionType != infiterra.ActionActivate || !d.CheckOnly ||
		d.AttributeList["ICPlan"].Code != "ICPlan_Standard" || d.RequestedBy.Type != 1 || d.Account.ExternalID != "a-2c41d0" {
		t.Fatalf("decoded %+v", d)
	}
	if err := json.Unmarshal([]byte(`{"ActionType":"Explode"}`), &d); err == nil {
		t.Fatal("an unknown action name decoded")
	}
	for _, v := range []string{`"cancel"`, `2`, `"2"`} {
		var a infiterra.ActionType
		if err := json.Unmarshal([]byte(v), &a); err != nil || a != infiterra.ActionCancel {
			t.Fatalf("ActionType %s: %v %v", v, a, err)
		}
	}
	b, _ := json.Marshal(infiterra.AttributeDefinition{Usage: infiterra.UsageProductCharacteristic, Kind: infiterra.AttributePredefinedChooseOne})
	if !strings.Contains(string(b), `"Usage":"ProductCharacteristic"`) || !strings.Contains(string(b), `"Kind":"PredefinedChooseOne"`) {
		t.Fatalf("string enums %s", b)
	}
	f := infiterra.Field{Value: json.RawMessage(` "  k " `)}
	if f.StringValue() != "k" || (infiterra.Field{Value: json.RawMessage(`null`)}).StringValue() != "" {
		t.Fatal("Field.StringValue")
	}
}

// The reference's account decodes whole, and the requests map onto bss's
// inputs: the e-mail candidates, the plan's code, the add-ons' actions.
func TestInputs(t *testing.T) {
	t.Parallel()
	var acc infiterra.AccountDefinition
	if err := json.Unmarshal(sample(t, "accounts_synchronize"), &acc); err != nil {
		t.Fatal(err)
	}
	if acc.ContactDetails == nil || acc.ContactDetails.FirstName != "Jana" || acc.Address == nil || acc.Address.Country == nil ||
		acc.Address.Country.Code != "DE" || acc.SyncOptions["username"] != "admin@acme.example" {
		t.Fatalf("account decoded as %+v", acc)
	}
	want := bss.AccountInput{ID: "1187", ResellerID: "1021", ResellerExternalID: "p-7f3a9c", Name: "Acme GmbH",
		Email: "billing@acme.example", ContactEmail: "jana.berg@acme.example", Username: "admin@acme.example"}
	if got := acc.Input(); !reflect.DeepEqual(got, want) {
		t.Fatalf("account input %+v, want %+v", got, want)
	}
	acc.SyncOptions = map[string]string{"UserName": "x@acme.example"}
	if got := acc.Input().Username; got != "x@acme.example" {
		t.Fatalf("username option named in another case: %q", got)
	}

	var d infiterra.ServiceDefinition
	body := `{"ID":"s-1","SubscriptionID":"8812","Name":"Acme storage","ServiceType":"ImpossibleCloudStorage","ProductID":"p-77","Quantity":5,
	 "Account":{"ID":"1187","ExternalID":"a-2c41d0","Email":"billing@acme.example"},
	 "AttributeList":{"ICPlan":{"ID":"ICPlan","Value":"Standard","Code":"ICPlan_Standard"}},
	 "Addons":[{"ID":"ad-1","ProductID":"ic-storage-extra-tb","ActionType":"Provision","Quantity":2},
	  {"ProductID":"x","ActionType":"Cancel","Quantity":1},{"ProductID":"y","ActionType":"Activate"}]}`
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	in := d.Input()
	wantSub := bss.SubscriptionInput{ID: "s-1", SubscriptionID: "8812", Name: "Acme storage", ServiceType: "ImpossibleCloudStorage",
		ProductID: "p-77", Quantity: 5, Attributes: map[string]string{"ICPlan": "ICPlan_Standard"},
		Account: bss.AccountInput{ID: "1187", ExternalID: "a-2c41d0", Email: "billing@acme.example"},
		Addons: []bss.AddonInput{{ID: "ad-1", ProductID: "ic-storage-extra-tb", Action: bss.AddonProvision, Quantity: 2},
			{ProductID: "x", Action: bss.AddonCancel, Quantity: 1}, {ProductID: "y", Action: bss.AddonNone}}}
	if !reflect.DeepEqual(in, wantSub) {
		t.Fatalf("subscription input %+v, want %+v", in, wantSub)
	}
}

// Every string of a request is bounded, the fields bss never sees too;
// the first violation, named as on the wire, travels as Invalid.
func TestInputLimits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, msg string
		acc       infiterra.AccountDefinition
	}{
		{"over-long description", "Description: must be at most 1000 characters", infiterra.AccountDefinition{ID: "8", Description: strings.Repeat("d", 1001)}},
		{"over-long contact phone", "ContactDetails.Phone: must be at most 255 characters",
			infiterra.AccountDefinition{ID: "8", ContactDetails: &infiterra.ContactDetails{Phone: strings.Repeat("1", 256)}}},
		{"10,000-character ID", "ID: must be at most 128 characters", infiterra.AccountDefinition{ID: strings.Repeat("7", 10_000)}},
		{"the first in the SDK's order", "ID: must be at most 128 characters",
			infiterra.AccountDefinition{ID: strings.Repeat("7", 129), Description: strings.Repeat("d", 1001)}},
	} {
		if err := tc.acc.Input().Invalid; err == nil || errs.Public(err) != tc.msg {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.msg)
		}
	}
	for _, tc := range []struct {
		name, msg string
		def       infiterra.ServiceDefinition
	}{
		{"over-long requester e-mail", "RequestedBy.Email: must be at most 255 characters",
			infiterra.ServiceDefinition{RequestedBy: &infiterra.RequestedBy{Email: strings.Repeat("e", 256)}}},
		{"account's fax", "Account.Fax: must be at most 255 characters", infiterra.ServiceDefinition{Account: infiterra.AccountDefinition{Fax: strings.Repeat("f", 256)}}},
		{"add-on parent", "Addons[0].ParentID: must be at most 128 characters",
			infiterra.ServiceDefinition{Addons: []infiterra.AddonDefinition{{ParentID: strings.Repeat("p", 129)}}}},
		{"control character", "OriginalSubscriptionID: must not contain control characters (found U+0001 at byte 1)", infiterra.ServiceDefinition{OriginalSubscriptionID: "a\x01"}},
	} {
		in := tc.def.Input()
		if err := in.Invalid; err == nil || errs.Public(err) != tc.msg {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.msg)
		}
		if in.Account.Invalid != nil {
			t.Errorf("%s: the account carries its own refusal %v", tc.name, in.Account.Invalid)
		}
	}
	if err := (infiterra.ServiceDefinition{ID: strings.Repeat("9", 128), Name: "ok"}).Input().Invalid; err != nil {
		t.Fatalf("the longest id kept: %v", err)
	}
}
