package itglobal

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/decode"
	"github.com/trellis-cloud/trellis/internal/money"
)

// decoder decodes the dialect's request bodies into typed structs: names
// matched exactly as the seed writes them (PascalCase; "email" is not
// "Email"), unknown fields ignored (the vendor's clients may send more
// than the seed documents), a JSON null taken as absent, numbers exact.
var decoder = decode.Rules{NullAbsent: true}

// amount is an ITGLOBAL amount (a JSON number in currency units, at most
// two decimals) as minor units. The three currencies of the API (RUB,
// KZT, BYN) have two decimals, so minor units do not depend on the
// project's currency. Either sign is read: which signs an amount may take
// (a payment > 0, a debt limit ≥ 0) is the service's rule.
type amount int64

// DecodeWire implements decode.Unmarshaler.
func (a *amount) DecodeWire(field string, v decode.Value) error {
	n, ok := v.Number()
	if !ok {
		return errs.Invalidf(field, "must be a number, got a %s", v.Kind())
	}
	m, err := money.ParseITGlobal(field, n, money.RUB, money.AnySign)
	if err != nil {
		return err
	}
	*a = amount(m.Minor())
	return nil
}

// invoiceNumber is the bank payment's InvoiceNumber when not null: a JSON
// integer or a string of digits (IT-amb-7), kept as its decimal text.
type invoiceNumber string

// DecodeWire implements decode.Unmarshaler.
func (in *invoiceNumber) DecodeWire(field string, v decode.Value) error {
	s, isString := v.Str()
	if n, ok := v.Number(); ok {
		s = n.String()
	} else if !isString {
		return errs.Invalidf(field, "must be an integer, a string of digits or null, got a %s", v.Kind())
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || (isString && strings.TrimLeft(s, "0123456789") != "") {
		return errs.Invalid(field, "must be a positive integer, a string of digits or null")
	}
	*in = invoiceNumber(strconv.FormatInt(n, 10))
	return nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// ---- path and query ----

// pathID reads an int32 path parameter (the seed's integer <int32> ids).
func pathID(r *http.Request, name string) (int64, error) {
	s := r.PathValue(name)
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, errs.Invalidf(name, "must be an integer, got %q", clip(s))
	}
	return n, nil
}

// positiveID reads an int32 path id that must be ≥ 1.
func positiveID(r *http.Request, name string) (int64, error) {
	n, err := pathID(r, name)
	if err == nil && n < 1 {
		err = errs.Invalid(name, "must be a positive integer")
	}
	return n, err
}

// queryValues is the query string as a decode source: the first value of
// each name, names case-sensitive (IT-amb-5).
func queryValues(r *http.Request) decode.Values {
	out := decode.Values{}
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			out[k] = decode.Text(v[0])
		}
	}
	return out
}

// query returns a query parameter by its exact (case-sensitive) name
// (IT-amb-5: datefromutc is not dateFromUtc).
func query(r *http.Request, name string) (string, bool) {
	v, ok := r.URL.Query()[name]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

func requiredQuery(r *http.Request, name string) (string, error) {
	v, ok := query(r, name)
	if !ok || v == "" {
		return "", errs.Invalidf(name, "is required (query parameter names are case-sensitive)")
	}
	return v, nil
}
