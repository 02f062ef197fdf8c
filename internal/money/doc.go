// Package money is Trellis's exact money core: ledger amounts, exact decimals
// for prices and rates, the wire formats of each vendor dialect, and the
// invoice arithmetic the idcloudhost samples imply.
//
// Two representations, on purpose:
//
//   - Amount is what the ledger books: int64 minor units of an ISO-4217
//     currency. Arithmetic on it is checked (overflow and currency mixing are
//     errors, never panics or silent wrap-around), so a balance can never be
//     corrupted by a bad sum.
//   - Decimal (shopspring/decimal) is for prices, rates and quantities, which
//     carry more digits than a currency's minor unit (idcloudhost rates such as
//     0.001645 or 3.42e-05 EUR/h). A Decimal becomes an Amount only through an
//     explicit rounding mode (ToAmount), once per invoice line.
//
// No float64 appears on any money path: JSON numbers are read as json.Number
// (decode with UseNumber) and parsed by a strict grammar, and they are written
// as exact text. Each dialect has its own parse/format pair in its own file
// (ic.go, itglobal.go, idcloudhost.go), documented with the vendor samples it
// reproduces.
//
// The package has no mutable global state. Note that shopspring/decimal itself
// has package-level knobs (DivisionPrecision, MarshalJSONWithoutQuotes); this
// package never reads behaviour from them: it does not divide with Div and it
// never uses Decimal's own JSON marshalling. Callers must not put a Decimal
// straight into a response struct either; use the dialect formatters.
package money
