// Command gendoc writes docs/configuration.md from the CLI definition
// (run by `go generate ./internal/cli`).
package main

import (
	"fmt"
	"os"

	"github.com/trellis-cloud/trellis/internal/cli"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gendoc OUTPUT.md")
		os.Exit(2)
	}
	page, err := cli.ConfigurationPage()
	if err == nil {
		err = os.WriteFile(os.Args[1], []byte(page), 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gendoc:", err)
		os.Exit(1)
	}
}
