// Command trellis runs the Trellis cloud channel platform. It only parses
// flags and environment variables; the work is done by internal/app.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // org time zones must resolve on machines without tzdata

	"github.com/alecthomas/kong"

	"github.com/trellis-cloud/trellis/internal/cli"
)

func main() {
	var c cli.CLI
	k := kong.Parse(&c,
		kong.Name("trellis"),
		kong.Description("Trellis: the control plane a cloud provider runs to sell through distributors, partners and resellers."),
		kong.UsageOnError(),
	)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := k.Run(&cli.Globals{Ctx: ctx, Stdout: os.Stdout, Stderr: os.Stderr})
	if err != nil {
		fmt.Fprintln(os.Stderr, "trellis:", err)
		os.Exit(1)
	}
}
