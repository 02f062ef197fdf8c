package billing

import (
	"strings"
	"testing"
	"time"
)

// The snapshot is written as Python's json.dumps writes it (the seed's
// account_snapshot): sorted keys, ", " and ": ", ASCII only.
func TestAccountSnapshotFormat(t *testing.T) {
	t.Parallel()
	a := Account{ID: 6, UserID: 8, Title: "konto", City: "Küla", Email: "user@example.com", Country: "EE", County: "Moldaavia",
		AddressLine1: "Puiestee", CompanyName: "Firma \"Q\"\n😀", CompanyRegCode: "232", CompanyVATNumber: "235235", PostIndex: "314243123",
		CreatedAt: time.Unix(1519219377, 0).UTC(), Currency: "EUR"}
	got := accountSnapshot(a, 0)
	want := `{"address_line1": "Puiestee", "address_line2": null, "city": "K\u00fcla", "company_name": "Firma \"Q\"\n\ud83d\ude00", ` +
		`"company_reg_code": "232", "company_vat_number": "235235", "country": "EE", "county": "Moldaavia", "created": 1519219377, ` +
		`"credit_amount": 0.0, "email": "user@example.com", "id": 6, "is_deleted": false, "post_index": "314243123", "title": "konto", "user_id": 8}`
	if got != want {
		t.Fatalf("snapshot\n got %s\nwant %s", got, want)
	}
	if strings.ContainsFunc(got, func(r rune) bool { return r > 0x7e }) {
		t.Fatal("snapshot is not ASCII")
	}
}
