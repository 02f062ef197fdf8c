package money

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/errs"
)

// wantInvalid checks err is KindInvalid naming field.
func wantInvalid(t *testing.T, what string, err error, field string) {
	t.Helper()
	if !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != field {
		t.Errorf("%s: err = %v, want invalid naming %q", what, err, field)
	}
}

func TestParseJSONNumberGrammar(t *testing.T) {
	t.Parallel()
	ok := map[string]string{
		"0": "0", "-0": "0", "1": "1", "-3.44": "-3.44", "2.0": "2", "3.42e-05": "0.0000342",
		"3.42E-05": "0.0000342", "1e2": "100", "1E+2": "100", "0.001645": "0.001645",
		"1.234e1": "12.34", "0e9999": "0", "100e-2": "1", "0.000": "0",
		"1234567890123456789012345678901234": "1234567890123456789012345678901234",
		"1e100":                              "1e100", "1e-100": "1e-100",
	}
	for in, want := range ok {
		got, err := ParseJSONNumber("price", jsonNumber(in))
		if err != nil || !got.Equal(dec(t, want)) {
			t.Errorf("ParseJSONNumber(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	bad := []string{
		"", " 1", "1 ", "+1", ".5", "1.", "01", "-", "--1", "1e", "1e+", "e5", "0x10", "NaN", "nan",
		"Infinity", "-Infinity", "Inf", "1_000", "1,5", "1.2.3", "1e5.5", "１", "1e99999",
		"12345678901234567890123456789012345", // 35 significant digits
		"1e101", "1e-101", strings.Repeat("0", 101),
	}
	for _, in := range bad {
		got, err := ParseJSONNumber("price", jsonNumber(in))
		wantInvalid(t, "ParseJSONNumber("+in+")", err, "price")
		if err == nil {
			t.Errorf("ParseJSONNumber(%q) = %v, want error", in, got)
		}
	}
	// ParseDecimal: the plain form-data grammar.
	for in, want := range map[string]string{"100.00": "100", "10": "10", "-0.5": "-0.5", "007.50": "7.5"} {
		got, err := ParseDecimal("amount", in)
		if err != nil || !got.Equal(dec(t, want)) {
			t.Errorf("ParseDecimal(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"1e2", "+1", " 1", "1.", ".1", "1,0", "NaN", "", "0x1"} {
		_, err := ParseDecimal("amount", in)
		wantInvalid(t, "ParseDecimal("+in+")", err, "amount")
	}
}

// ITGLOBAL: seed 002 request samples "MaxDebt": 12.34, "AutoInvoiceAmount":
// 444, "Amount": 1234, "Amount": 556, "Amount": 20.21.
func TestITGlobal(t *testing.T) {
	t.Parallel()
	samples := []struct {
		field, text string
		minor       int64
	}{
		{"MaxDebt", "12.34", 1234},
		{"AutoInvoiceAmount", "444", 44400},
		{"Amount", "1234", 123400},
		{"Amount", "556", 55600},
		{"Amount", "20.21", 2021},
	}
	for _, s := range samples {
		// Through encoding/json with UseNumber, as the handlers will.
		dec := json.NewDecoder(bytes.NewReader([]byte(`{"` + s.field + `": ` + s.text + `}`)))
		dec.UseNumber()
		var m map[string]json.Number
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		got, err := ParseITGlobal(s.field, m[s.field], RUB, Positive)
		if err != nil || got != NewAmount(s.minor, RUB) {
			t.Errorf("ParseITGlobal(%s) = %v, %v; want %d", s.text, got, err, s.minor)
			continue
		}
		if n, err := FormatITGlobal(got); err != nil || string(n) != s.text {
			t.Errorf("FormatITGlobal(%v) = %s, %v; want %s", got, n, err, s.text)
		}
	}
	accept := []struct {
		in    string
		cur   Currency
		sign  Sign
		minor int64
	}{
		{"12.3", RUB, Positive, 1230},
		{"12.30", KZT, Positive, 1230},
		{"1.234e1", BYN, Positive, 1234}, // exponent form that is exact in 2 decimals
		{"1234e-2", RUB, Positive, 1234},
		{"1E2", RUB, Positive, 10000},
		{"0", RUB, NonNegative, 0},
		{"-0", RUB, NonNegative, 0},
		{"-12.34", RUB, AnySign, -1234},
		{"92233720368547758.07", RUB, AnySign, 9223372036854775807},
		{"-92233720368547758.08", RUB, AnySign, -9223372036854775808},
		{"1.23", KWD, Positive, 1230},
		{"15", JPY, Positive, 15},
	}
	for _, a := range accept {
		got, err := ParseITGlobal("Amount", jsonNumber(a.in), a.cur, a.sign)
		if err != nil || got != NewAmount(a.minor, a.cur) {
			t.Errorf("ParseITGlobal(%s, %v) = %v, %v; want %d", a.in, a.cur, got, err, a.minor)
		}
	}
	reject := []struct {
		in       string
		cur      Currency
		sign     Sign
		overflow bool
	}{
		{"12.345", RUB, AnySign, false},
		{"0.001", RUB, AnySign, false},
		{"1e-3", RUB, AnySign, false},
		{"1.2345e1", RUB, AnySign, false},
		{"1.234", KWD, AnySign, false}, // ITGLOBAL's two-decimal rule holds for KWD too
		{"1.5", JPY, AnySign, false},
		{"-1", RUB, NonNegative, false},
		{"-1", RUB, Positive, false},
		{"0", RUB, Positive, false},
		{"-0", RUB, Positive, false},
		{"NaN", RUB, AnySign, false},
		{"Infinity", RUB, AnySign, false},
		{"-Inf", RUB, AnySign, false},
		{"\"12.34\"", RUB, AnySign, false},
		{"12,34", RUB, AnySign, false},
		{"92233720368547758.08", RUB, AnySign, true},
		{"-92233720368547758.09", RUB, AnySign, true},
		{"1e17", RUB, AnySign, true},
		{"1e100", RUB, AnySign, true},
		{"12345678901234567890", RUB, AnySign, true},
	}
	for _, r := range reject {
		got, err := ParseITGlobal("Amount", jsonNumber(r.in), r.cur, r.sign)
		wantInvalid(t, "ParseITGlobal("+r.in+")", err, "Amount")
		if err == nil {
			t.Errorf("ParseITGlobal(%s) = %v, want error", r.in, got)
		}
		if r.overflow != errors.Is(err, ErrOverflow) {
			t.Errorf("ParseITGlobal(%s) err = %v, overflow want %v", r.in, err, r.overflow)
		}
	}
	for a, want := range map[Amount]string{
		NewAmount(-5, RUB): "-0.05", NewAmount(0, RUB): "0", NewAmount(1230, KWD): "1.23",
		NewAmount(15, JPY): "15", NewAmount(-9223372036854775808, RUB): "-92233720368547758.08",
	} {
		if n, err := FormatITGlobal(a); err != nil || string(n) != want {
			t.Errorf("FormatITGlobal(%v) = %s, %v; want %s", a, n, err, want)
		}
	}
	if n, err := FormatITGlobal(NewAmount(1234, KWD)); err == nil {
		t.Errorf("FormatITGlobal(1.234 KWD) = %s, want error", n)
	}
}

// FormatIDCHFloat against CPython's repr(float(x)), generated once with
// python3 and pasted here; the first group are seed 003 values.
func TestIDCHFloatMatchesPythonRepr(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		// seed 003 money and rates
		{"2.0", "2.0"}, {"-3.44", "-3.44"}, {"59.96", "59.96"}, {"17.0", "17.0"}, {"10.0", "10.0"},
		{"0.2", "0.2"}, {"0.0", "0.0"}, {"1.21", "1.21"}, {"1.23", "1.23"}, {"0.12", "0.12"},
		{"-0.10", "-0.1"}, {"0.02882", "0.02882"}, {"0.87927", "0.87927"}, {"0.001645", "0.001645"},
		{"0.00329", "0.00329"}, {"0.0001", "0.0001"}, {"3.42e-05", "3.42e-05"}, {"0.00521", "0.00521"},
		{"0.00548", "0.00548"}, {"0.1441", "0.1441"}, {"0.08646", "0.08646"}, {"52", "52.0"},
		// edges of Python's repr rule
		{"1e16", "1e+16"}, {"1234567890123456", "1234567890123456.0"}, {"0.00012", "0.00012"},
		{"0.000099", "9.9e-05"}, {"-0.00001", "-1e-05"}, {"123456789012345.6", "123456789012345.6"},
		{"1e-100", "1e-100"}, {"5e22", "5e+22"}, {"100", "100.0"}, {"0.5", "0.5"}, {"-7", "-7.0"},
	}
	for _, c := range cases {
		if got := FormatIDCHFloat(dec(t, c.in)); string(got) != c.want {
			t.Errorf("FormatIDCHFloat(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}

// The idcloudhost invoice 1 detail (seed 003), decoded with UseNumber and
// re-encoded: every float-typed money value comes back byte-identical except
// the hand-written "-0.10", which FormatJSONNumber(d, 2) reproduces instead.
func TestIDCHInvoiceSampleRoundTrip(t *testing.T) {
	t.Parallel()
	body := `{"records_list": [
	  {"amount": 0.02602, "item_price": 0.02602, "qty": 1},
	  {"amount": 0.87927, "item_price": 0.04187, "qty": 21},
	  {"amount": 0.08646, "item_price": 0.02882, "qty": 3},
	  {"amount": 0.1441, "item_price": 0.02882, "qty": 5},
	  {"amount": 0.08646, "item_price": 0.02882, "qty": 3}],
	 "totals": {"subtotal": 1.23, "discount_amount": 0.12, "credit": -0.10, "vat_tax": 0.2, "total": 1.21},
	 "transaction_list": [{"amount": 1.21}],
	 "policy": [{"price": 0.00521}, {"price": 0.001645}, {"price": 3.42e-05}, {"price": 0.0001}]}`
	d := json.NewDecoder(strings.NewReader(body))
	d.UseNumber()
	var inv struct {
		Records []struct {
			Amount    json.Number `json:"amount"`
			ItemPrice json.Number `json:"item_price"`
			Qty       json.Number `json:"qty"`
		} `json:"records_list"`
		Totals map[string]json.Number `json:"totals"`
		Tx     []struct {
			Amount json.Number `json:"amount"`
		} `json:"transaction_list"`
		Policy []struct {
			Price json.Number `json:"price"`
		} `json:"policy"`
	}
	if err := d.Decode(&inv); err != nil {
		t.Fatal(err)
	}
	for i, r := range inv.Records {
		amount, err1 := ParseJSONNumber("amount", r.Amount)
		price, err2 := ParseJSONNumber("item_price", r.ItemPrice)
		qty, err3 := ParseJSONNumber("qty", r.Qty)
		if err := errors.Join(err1, err2, err3); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		// The samples' line amount is exactly qty × item_price.
		if !price.Mul(qty).Equal(amount) {
			t.Errorf("record %d: %s × %s ≠ %s", i, qty, price, amount)
		}
		if got := FormatIDCHFloat(amount); got != r.Amount {
			t.Errorf("record %d amount: %s, want %s", i, got, r.Amount)
		}
		if got := FormatIDCHFloat(price); got != r.ItemPrice {
			t.Errorf("record %d item_price: %s, want %s", i, got, r.ItemPrice)
		}
	}
	for k, v := range inv.Totals {
		a, err := ParseIDCHMoney(k, v, EUR, AnySign)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		want := v
		if k == "credit" {
			if got := FormatJSONNumber(a.Decimal(), 2); got != v {
				t.Errorf("credit fixed: %s, want %s", got, v)
			}
			want = "-0.1"
		}
		if got := FormatIDCHMoney(a); got != want {
			t.Errorf("%s: %s, want %s", k, got, want)
		}
	}
	if a, err := ParseIDCHMoney("amount", inv.Tx[0].Amount, EUR, Positive); err != nil || a != NewAmount(121, EUR) {
		t.Errorf("transaction amount = %v, %v", a, err)
	}
	for _, p := range inv.Policy {
		r, err := ParseJSONNumber("price", p.Price)
		if err != nil {
			t.Fatal(err)
		}
		if got := FormatIDCHFloat(r); got != p.Price {
			t.Errorf("price: %s, want %s", got, p.Price)
		}
	}
}

func TestIDCHMoney(t *testing.T) {
	t.Parallel()
	// seed 003: credit_amount 2.0, credit list -3.44 -0.15 -2.64 -3.77 10.0,
	// unpaid_amount message 59.96, recurring_payment_amount 52, amount_used 10.0.
	for in, minor := range map[string]int64{
		"2.0": 200, "-3.44": -344, "-0.15": -15, "-2.64": -264, "-3.77": -377, "10.0": 1000,
		"59.96": 5996, "52": 5200, "0": 0, "0.0": 0, "-0.10": -10,
	} {
		a, err := ParseIDCHMoney("amount", jsonNumber(in), EUR, AnySign)
		if err != nil || a != NewAmount(minor, EUR) {
			t.Errorf("ParseIDCHMoney(%s) = %v, %v; want %d", in, a, err, minor)
		}
	}
	for in, sign := range map[string]Sign{"0.125": AnySign, "-1": NonNegative, "0": Positive, "NaN": AnySign, "1e19": AnySign} {
		_, err := ParseIDCHMoney("credit_amount", jsonNumber(in), EUR, sign)
		wantInvalid(t, "ParseIDCHMoney("+in+")", err, "credit_amount")
	}
}

// Form data: credit/buy and request_invoice "amount=100.00", pay_amount
// "amount=10" (seed 003).
func TestIDCHFormAmount(t *testing.T) {
	t.Parallel()
	for in, minor := range map[string]int64{"100.00": 10000, "10": 1000, "0.01": 1, "10.5": 1050} {
		a, err := ParseIDCHFormAmount("amount", in, EUR, Positive)
		if err != nil || a != NewAmount(minor, EUR) {
			t.Errorf("ParseIDCHFormAmount(%s) = %v, %v; want %d", in, a, err, minor)
		}
	}
	if got := FormatIDCHFormAmount(NewAmount(10000, EUR)); got != "100.00" {
		t.Errorf("FormatIDCHFormAmount = %s, want 100.00", got)
	}
	if got := FormatIDCHFormAmount(NewAmount(1000, EUR)); got != "10.00" {
		t.Errorf("FormatIDCHFormAmount = %s, want 10.00", got)
	}
	for _, in := range []string{"", "1e2", "+10", " 10", "10 ", "10.", ".5", "10.001", "-10", "0", "0.00", "1,000", "NaN", "Infinity", "100000000000000000000"} {
		_, err := ParseIDCHFormAmount("amount", in, EUR, Positive)
		wantInvalid(t, "ParseIDCHFormAmount("+in+")", err, "amount")
	}
}
