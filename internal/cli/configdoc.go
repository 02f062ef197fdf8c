//go:generate go run ./gendoc ../../docs/configuration.md

package cli

import (
	"fmt"
	"strings"

	"github.com/alecthomas/kong"
)

// ConfigurationPage renders docs/configuration.md from the command tree
// itself, so the page cannot drift from the flags (a test compares them and
// `go generate ./...` rewrites it).
func ConfigurationPage() (string, error) {
	var c CLI
	p, err := kong.New(&c, kong.Name("trellis"))
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("# Configuration\n\n")
	b.WriteString("<!-- Generated from internal/cli by `go generate ./internal/cli`; do not edit by hand. -->\n\n")
	b.WriteString("Every flag can also be set by its environment variable; a flag on the command line wins over\n")
	b.WriteString("the environment. Durations are Go durations (`90s`, `5m`, `1h30m`).\n")
	var walk func(n *kong.Node)
	walk = func(n *kong.Node) {
		if n.Type == kong.CommandNode && !n.Hidden {
			writeCommand(&b, n)
		}
		for _, child := range n.Children {
			walk(child)
		}
	}
	walk(p.Model.Node)
	return b.String(), nil
}

func writeCommand(b *strings.Builder, n *kong.Node) {
	fmt.Fprintf(b, "\n## `trellis %s`\n\n%s\n", n.Path(), n.Help)
	var args []string
	for _, a := range n.Positional {
		args = append(args, "`"+a.Name+"`: "+a.Help)
	}
	if len(args) > 0 {
		fmt.Fprintf(b, "\nArguments: %s\n", strings.Join(args, "; "))
	}
	var rows []string
	for _, f := range n.Flags {
		if f.Hidden || f.Name == "help" {
			continue
		}
		env := ""
		if len(f.Envs) > 0 {
			env = "`" + strings.Join(f.Envs, "`, `") + "`"
		}
		def := ""
		if f.HasDefault && f.Default != "" {
			def = "`" + f.Default + "`"
		}
		help := f.Help
		if f.Enum != "" {
			help += " One of: `" + strings.ReplaceAll(f.Enum, ",", "`, `") + "`."
		}
		if f.Required {
			help += " Required."
		}
		rows = append(rows, fmt.Sprintf("| `--%s` | %s | %s | %s |", f.Name, env, def, cell(help)))
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("\n| flag | environment | default | meaning |\n|---|---|---|---|\n")
	b.WriteString(strings.Join(rows, "\n"))
	b.WriteString("\n")
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;").Replace(s)
}
