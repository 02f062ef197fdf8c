package itglobal

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/decode"
)

// TestWireRules: ITGLOBAL's request rules through the one decoder — names
// exactly as the seed writes them (PascalCase), null taken as absent,
// amounts with two decimals as minor units, InvoiceNumber required but
// nullable (a number or a string of digits), int32 bounds. An amount's
// sign and an empty Number are the service's rules (reseller's
// TestChoiceAndPaymentRules; TestBadInput over HTTP).
func TestWireRules(t *testing.T) {
	const ok = `"Number": "1", "TIN": "7838413489", "Amount": 12.5, "CompanyId": 1, "ProjectId": 2`
	for _, tc := range []struct {
		body, field string
		want        string
	}{
		{`{` + ok + `, "InvoiceNumber": null}`, "", ""},
		{`{` + ok + `, "InvoiceNumber": 15}`, "", "15"},
		{`{` + ok + `, "InvoiceNumber": "0015"}`, "", "15"},
		{`{` + ok + `, "InvoiceNumber": "15a"}`, "InvoiceNumber", ""},
		{`{` + ok + `, "InvoiceNumber": 0}`, "InvoiceNumber", ""},
		{`{` + ok + `, "InvoiceNumber": true}`, "InvoiceNumber", ""},
		{`{` + ok + `}`, "InvoiceNumber", ""},
		{`{"number": "1", "TIN": "7838413489", "Amount": 1, "CompanyId": 1, "ProjectId": 2, "InvoiceNumber": null}`, "Number", ""},
		{`{"Number": null, "TIN": "7838413489", "Amount": 1, "CompanyId": 1, "ProjectId": 2, "InvoiceNumber": null}`, "Number", ""},
		{`{"Number": "1", "TIN": "7838413489", "Amount": 1.005, "CompanyId": 1, "ProjectId": 2, "InvoiceNumber": null}`, "Amount", ""},
		{`{"Number": "1", "TIN": "7838413489", "Amount": "1", "CompanyId": 1, "ProjectId": 2, "InvoiceNumber": null}`, "Amount", ""},
		{`{"Number": "1", "TIN": "7838413489", "Amount": 1, "CompanyId": 2147483648, "ProjectId": 2, "InvoiceNumber": null}`, "CompanyId", ""},
	} {
		r := httptest.NewRequest("POST", "/payments/bank", strings.NewReader(tc.body))
		in, err := decodeBankPayment(r)
		if errs.FieldOf(err) != tc.field || (err != nil && !errs.Is(err, errs.KindInvalid)) {
			t.Errorf("%s: %v, want an error naming %q", tc.body, err, tc.field)
			continue
		}
		if err == nil && (in.InvoiceNumber != string(tc.want) || in.Amount != 1250 || in.CompanyID != 1 || in.ProjectID != 2) {
			t.Errorf("%s: %+v", tc.body, in)
		}
	}
	r := httptest.NewRequest("GET", "/accounts?withAnInternalRole=maybe", nil)
	var q struct {
		Internal bool `wire:"withAnInternalRole"`
	}
	if err := decoder.Decode(queryValues(r), &q); errs.FieldOf(err) != "withAnInternalRole" {
		t.Errorf("query: %v", err)
	}
	if err := decoder.Decode(decode.Values{"withanInternalRole": decode.Text("maybe")}, &q); err != nil || q.Internal {
		t.Errorf("a name in another case is another name: %v", err)
	}
}
