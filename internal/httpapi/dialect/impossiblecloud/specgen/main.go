// Command specgen renders the Impossible Cloud Management Console vendor
// Swagger 2.0 document as the OpenAPI 3.0.3 document Trellis serves and tests
// against. The conversion is done by kin-openapi's openapi2conv; the
// deliberate deviations from the vendor document are applied afterwards as
// small, named patches (see patches.go), so each one is easy to review.
//
// It is run by go generate from the impossiblecloud package directory:
//
//	go run ./specgen [-in vendor.swagger.json] [-out openapi.json]
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	in := flag.String("in", "../../../../api/vendor/impossible-cloud-management-console.swagger.json",
		"vendor Swagger 2.0 document (default is relative to the impossiblecloud package directory)")
	out := flag.String("out", "openapi.json", "OpenAPI 3.0.3 document to write")
	flag.Parse()

	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "specgen:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	vendor, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	spec, err := convert(vendor)
	if err != nil {
		return err
	}
	return os.WriteFile(out, spec, 0o644)
}
