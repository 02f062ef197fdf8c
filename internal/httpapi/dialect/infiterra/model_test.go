package infiterra_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/infiterra"
)

// The reference's subscription example decodes, enums read as names or
// integers, and string enums encode with the SDK's names (the result
// envelope is the dialect's: infiterra TestEnvelope).
func TestWireModel(t *testing.T) {
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
