// Package cli defines the trellis commands. Flags win over environment
// variables, which win over the defaults.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"

	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/app"
	"github.com/trellis-cloud/trellis/internal/httpapi"
	"github.com/trellis-cloud/trellis/internal/reseller"
	"github.com/trellis-cloud/trellis/internal/s3gw"
	"github.com/trellis-cloud/trellis/internal/store/migrations"
	"github.com/trellis-cloud/trellis/internal/telemetry"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// Globals are passed to every command.
type Globals struct {
	Ctx    context.Context
	Stdout io.Writer
	Stderr io.Writer
}

// CLI is the command tree.
type CLI struct {
	Serve   ServeCmd   `cmd:"" help:"Run the Trellis server."`
	Migrate MigrateCmd `cmd:"" help:"Apply database migrations and exit."`
	Version VersionCmd `cmd:"" help:"Print the version."`
	OpenAPI OpenAPICmd `cmd:"" name:"openapi" help:"Print a dialect's OpenAPI document."`
	Admin   AdminCmd   `cmd:"" help:"Operator tasks that work without the HTTP API."`
}

// DBFlags locate the database.
type DBFlags struct {
	DataDir string `name:"data-dir" env:"TRELLIS_DATA_DIR" default:"./data" help:"Directory for the SQLite database and sandbox files."`
	DB      string `name:"db" env:"TRELLIS_DB" help:"Database: empty for SQLite in the data dir, or a postgres:// URL."`
}

func (f DBFlags) config() app.Config {
	return app.Config{DataDir: f.DataDir, DB: f.DB}
}

// ServeCmd runs the server.
type ServeCmd struct {
	DBFlags
	HTTP          string        `name:"http" env:"TRELLIS_HTTP" default:"127.0.0.1:8080" help:"HTTP listen address."`
	IDCHHTTP      string        `name:"idcloudhost-http" env:"TRELLIS_IDCLOUDHOST_HTTP" help:"Also serve the idcloudhost API on this address at /v1/… (as api.idcloudhost.com does), e.g. 127.0.0.1:8081."`
	S3            string        `name:"s3" env:"TRELLIS_S3" default:"127.0.0.1:9000" help:"Address of the embedded S3 server (objects under <data-dir>/s3); empty: no S3 server."`
	S3Region      string        `name:"s3-region" env:"TRELLIS_S3_REGION" default:"us-east-1" help:"Region S3 clients sign their requests for."`
	S3Domain      string        `name:"s3-domain" env:"TRELLIS_S3_DOMAIN" help:"Base domain for virtual-host-style S3 addressing (<bucket>.<domain>); path style always works."`
	S3Store       string        `name:"s3-backend" env:"TRELLIS_S3_BACKEND" default:"posix" enum:"posix,s3" help:"Where the S3 server keeps objects: posix (files under <data-dir>/s3) or s3 (an upstream S3-compatible store, --s3-upstream; nodes then share only it and the database)."`
	S3Up          string        `name:"s3-upstream" env:"TRELLIS_S3_UPSTREAM" help:"URL of the upstream S3 store for --s3-backend s3 (path-style), e.g. https://s3.example.net. Trellis's bucket names are its bucket names: give Trellis an upstream account of its own."`
	S3UpKey       string        `name:"s3-upstream-key" env:"TRELLIS_S3_UPSTREAM_KEY" help:"Access key of the upstream S3 account."`
	S3UpSec       string        `name:"s3-upstream-secret" env:"TRELLIS_S3_UPSTREAM_SECRET" help:"Secret key of the upstream S3 account (prefer the environment variable: arguments are visible to other users)."`
	S3UpReg       string        `name:"s3-upstream-region" env:"TRELLIS_S3_UPSTREAM_REGION" default:"us-east-1" help:"Region requests to the upstream S3 are signed for (and its buckets created in)."`
	NodeID        string        `name:"node-id" env:"TRELLIS_NODE_ID" help:"This node's id among the nodes sharing the database (default: a fresh UUIDv7 at every start). A start is refused while a live node holds the id."`
	AdminKey      string        `name:"admin-key" env:"TRELLIS_ADMIN_KEY" help:"Bootstrap the provider admin key to this value (20–200 characters), for automation, instead of generating one and printing it once."`
	Demo          bool          `name:"demo" env:"TRELLIS_DEMO" help:"Load the sandbox (the vendor documents' example objects) and write demo-credentials.json. Implies --sandbox."`
	Sandbox       bool          `name:"sandbox" env:"TRELLIS_SANDBOX" help:"Let the provider admin move the clock forward (POST /api/v1/sandbox/clock) to simulate billing periods."`
	RateLimit     float64       `name:"rate-limit" env:"TRELLIS_RATE_LIMIT" default:"50" help:"Requests per second per API key (0 disables); over it: 429 with Retry-After."`
	RateBurst     int           `name:"rate-burst" env:"TRELLIS_RATE_BURST" default:"100" help:"Burst size of the per-key rate limit."`
	AuthFailRate  float64       `name:"auth-fail-rate" env:"TRELLIS_AUTH_FAIL_RATE" default:"1" help:"Failed authentications per second a client address may make, on every dialect; past the burst it gets 429 with Retry-After before any key is looked up (0 disables). The address is the connection's peer (forwarding headers are not trusted): behind a reverse proxy all clients share the proxy's budget."`
	AuthFailBurst int           `name:"auth-fail-burst" env:"TRELLIS_AUTH_FAIL_BURST" default:"20" help:"Burst size of the failed-authentication limit."`
	MetricsToken  string        `name:"metrics-token" env:"TRELLIS_METRICS_TOKEN" help:"Bearer token /metrics requires, so Prometheus can scrape from another host; without it /metrics answers loopback clients only. With --admin-http, /metrics stays on the public listener only when this is set."`
	BodyLimit     int64         `name:"body-limit" env:"TRELLIS_BODY_LIMIT" default:"1048576" help:"Largest request body in bytes (413 beyond)."`
	JobEvery      time.Duration `name:"job-interval" env:"TRELLIS_JOB_INTERVAL" default:"1m" help:"How often the periodic work runs (metering, invoice run, auto-pay, dunning, recurring top-up, reseller daily charges, due storage-account deletions, old idempotency keys)."`
	LogLevel      string        `name:"log-level" env:"TRELLIS_LOG_LEVEL" default:"info" enum:"debug,info,warn,error" help:"Log level."`
	LogFormat     string        `name:"log-format" env:"TRELLIS_LOG_FORMAT" default:"text" enum:"text,json" help:"Log line format: text (key=value) or json (one object a line). Every line logged while serving a request carries its request_id (and trace_id when tracing)."`
	AdminHTTP     string        `name:"admin-http" env:"TRELLIS_ADMIN_HTTP" help:"Serve the operator's endpoints on this address: pprof (/debug/pprof/) and /metrics, which then leaves the public listener unless --metrics-token is set. No authentication: bind it to an address only operators reach, e.g. 127.0.0.1:6060. Off by default."`
	SecretKey     string        `name:"secret-key" env:"TRELLIS_SECRET_KEY" help:"64 hex digits sealing stored secrets (managed database passwords); default: <data-dir>/secret.key, created on first start. Nodes sharing a database must share it."`
	Delay         time.Duration `name:"provider-delay" env:"TRELLIS_PROVIDER_DELAY" default:"0s" help:"How long each step of the built-in sim provider takes (0: done before the request answers)."`
	PublicURL     string        `name:"public-url" env:"TRELLIS_PUBLIC_URL" help:"The URL clients reach the HTTP API at, for links in e-mails (default: http://<--http>)."`
	VAT           int           `name:"reseller-vat" env:"TRELLIS_RESELLER_VAT" default:"20" help:"VAT rate in percent of the reseller channel's (Partner API v2) invoices and charges."`
	MonthlyLimit  string        `name:"reseller-monthly-limit" env:"TRELLIS_RESELLER_MONTHLY_LIMIT" default:"1000000.00" help:"Most money a reseller partner may record through the Partner API in a calendar month (UTC), per currency: payments, DengiOnlinePlus, BonusPlus; for partners without a limit of their own. 0 allows none; \"unlimited\" lifts the bound."`
	Grace         time.Duration `name:"shutdown-grace" env:"TRELLIS_SHUTDOWN_GRACE" default:"30s" help:"How long in-flight requests may take to finish on SIGINT/SIGTERM."`
}

// Run serves until interrupted.
func (c *ServeCmd) Run(g *Globals) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return err
	}
	logger := newLogger(g.Stderr, c.LogFormat, level)
	// Tracing is off unless OTEL_EXPORTER_OTLP_ENDPOINT is set.
	tracing, err := telemetry.FromEnv(g.Ctx)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(g.Ctx), 5*time.Second)
		defer cancel()
		if err := tracing.Shutdown(sctx); err != nil {
			logger.Warn("flushing the last spans", "err", err)
		}
	}()
	cfg := c.config()
	cfg.Tracer = tracing.Provider
	cfg.AdminListener = c.AdminHTTP != ""
	cfg.Logger, cfg.RateLimit, cfg.RateBurst, cfg.BodyLimit, cfg.JobEvery = logger, c.RateLimit, c.RateBurst, c.BodyLimit, c.JobEvery
	cfg.AuthFailureRate, cfg.AuthFailureBurst = c.AuthFailRate, c.AuthFailBurst
	cfg.MetricsToken = c.MetricsToken
	cfg.Sandbox = c.Sandbox || c.Demo
	cfg.ProviderDelay = c.Delay
	if c.VAT < 0 || c.VAT > 100 {
		return fmt.Errorf("--reseller-vat must be a percentage from 0 to 100, not %d", c.VAT)
	}
	cfg.PublicURL, cfg.ResellerVAT = c.PublicURL, &c.VAT
	limit, err := reseller.ParseMonthlyLimit("--reseller-monthly-limit", c.MonthlyLimit)
	if err != nil {
		return err // names the flag
	}
	cfg.ResellerMonthlyLimit = &limit
	if tracing.Endpoint != "" {
		logger.Info("tracing", "otlp_endpoint", tracing.Endpoint)
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://" + c.HTTP
	}
	cfg.S3Addr, cfg.S3Region, cfg.S3Domain = c.S3, c.S3Region, c.S3Domain
	if err := c.s3Upstream(g.Ctx, &cfg); err != nil {
		return err
	}
	cfg.NodeID = c.NodeID
	if c.SecretKey != "" {
		key, err := app.ParseSecretKey(c.SecretKey)
		if err != nil {
			return err
		}
		cfg.SecretKey = key
	}
	// Resolved before the S3 server starts: it may change the working
	// directory.
	dataDir, err := filepath.Abs(c.DataDir)
	if err != nil {
		return err
	}
	a, err := app.Open(g.Ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	boot, err := a.Bootstrap(g.Ctx, c.AdminKey)
	if err != nil {
		return err
	}
	if err := a.StartS3(g.Ctx); err != nil {
		if errors.Is(err, s3gw.ErrUpstream) {
			return err
		}
		return fmt.Errorf("%w (choose another address with --s3, or run without the S3 server with --s3 '')", err)
	}
	if boot.NewAdminKey != "" {
		// Never through the structured logger, which may be shipped to a
		// log store.
		if err := announceAdminKey(g.Stdout, isTerminal(g.Stdout), dataDir, boot.NewAdminKey); err != nil {
			return fmt.Errorf("admin key: %w", err)
		}
	}
	if c.Demo {
		known := boot.NewAdminKey
		if known == "" {
			known = c.AdminKey
		}
		creds, err := a.LoadDemo(g.Ctx, boot.Root, known)
		if err != nil {
			return err
		}
		fmt.Fprintf(g.Stdout, "Sandbox loaded; keys of the demo principals are in %s (%s)\n",
			filepath.Join(c.DataDir, app.DemoCredentialsFile), strings.Join(sortedKeys(creds), ", "))
	}
	ln, err := net.Listen("tcp", c.HTTP)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "Trellis %s serving http://%s (database: %s)\n  API docs: http://%s/docs/\n",
		version(), ln.Addr(), a.DB.Dialect().Name(), ln.Addr())
	if a.S3 != nil {
		fmt.Fprintf(g.Stdout, "  S3: %s\n", a.S3.URL())
	}
	var extra []app.Listener
	if c.IDCHHTTP != "" {
		l, err := net.Listen("tcp", c.IDCHHTTP)
		if err != nil {
			_ = ln.Close()
			return err
		}
		extra = append(extra, app.Listener{Name: "idcloudhost", Listener: l, Handler: a.IDCloudHostHandler()})
		fmt.Fprintf(g.Stdout, "  idcloudhost API: http://%s/v1/\n", l.Addr())
	}
	if c.AdminHTTP != "" {
		l, err := net.Listen("tcp", c.AdminHTTP)
		if err != nil {
			_ = ln.Close()
			for _, x := range extra {
				_ = x.Listener.Close()
			}
			return fmt.Errorf("--admin-http: %w", err)
		}
		extra = append(extra, app.Listener{Name: "admin", Listener: l, Handler: a.AdminHandler()})
		fmt.Fprintf(g.Stdout, "  admin: http://%s/debug/pprof/ http://%s/metrics\n", l.Addr(), l.Addr())
	}
	return a.Serve(g.Ctx, ln, c.Grace, extra...)
}

// newLogger returns serve's logger: text or JSON lines at level, each
// carrying the attributes of the context it is logged with (the request
// id, the trace).
func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(telemetry.LogHandler(h))
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// MigrateCmd applies migrations.
type MigrateCmd struct {
	DBFlags
}

// Run migrates and prints the schema version.
func (c *MigrateCmd) Run(g *Globals) error {
	d, closeDB, err := app.OpenDB(g.Ctx, c.config())
	if err != nil {
		return err
	}
	defer closeDB()
	if err := app.Migrate(g.Ctx, d); err != nil {
		return err
	}
	v, err := migrations.Version(g.Ctx, d)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "%s schema at version %d\n", d.Dialect().Name(), v)
	return nil
}

// VersionCmd prints the version.
type VersionCmd struct{}

// Run prints the version.
func (VersionCmd) Run(g *Globals) error {
	fmt.Fprintln(g.Stdout, "trellis", version())
	return nil
}

func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " (" + s.Value[:12] + ")"
		}
	}
	return v
}

// OpenAPICmd prints a spec.
type OpenAPICmd struct {
	Dialect string `arg:"" help:"The dialect: impossiblecloud, infiterra, idcloudhost, itglobal or native."`
}

// Run prints the spec.
func (c *OpenAPICmd) Run(g *Globals) error {
	specs := httpapi.Dialects()
	spec, ok := specs[c.Dialect]
	if !ok {
		names := make([]string, 0, len(specs))
		for n := range specs {
			names = append(names, n)
		}
		sort.Strings(names)
		return fmt.Errorf("unknown dialect %q (known: %s)", c.Dialect, strings.Join(names, ", "))
	}
	_, err := g.Stdout.Write(spec())
	return err
}

// AdminCmd groups operator tasks run directly on the database.
type AdminCmd struct {
	CreateOrg CreateOrgCmd `cmd:"" help:"Create an org under a parent (distributor under the provider, customer under a partner)."`
	CreateKey CreateKeyCmd `cmd:"" help:"Create an API key for an org and print it once."`
	RevokeKey RevokeKeyCmd `cmd:"" help:"Revoke an API key by id."`
	ListOrgs  ListOrgsCmd  `cmd:"" help:"List orgs."`
}

func openApp(g *Globals, f DBFlags) (*app.App, tenancy.Org, error) {
	a, err := app.Open(g.Ctx, f.config())
	if err != nil {
		return nil, tenancy.Org{}, err
	}
	root, err := a.Tenancy.EnsureRoot(g.Ctx, tenancy.CreateRootInput{Name: "Provider"})
	if err != nil {
		a.Close()
		return nil, tenancy.Org{}, err
	}
	return a, root, nil
}

// CreateOrgCmd creates an org.
type CreateOrgCmd struct {
	DBFlags
	Parent   string `name:"parent" help:"Parent org id (default: the provider)."`
	Name     string `name:"name" required:"" help:"Org name."`
	TimeZone string `name:"time-zone" default:"UTC" help:"IANA time zone."`
}

// Run creates the org.
func (c *CreateOrgCmd) Run(g *Globals) error {
	a, root, err := openApp(g, c.DBFlags)
	if err != nil {
		return err
	}
	defer a.Close()
	parent := c.Parent
	if parent == "" {
		parent = root.ID
	}
	o, err := a.Tenancy.CreateOrg(g.Ctx, actor.System("cli"), tenancy.CreateOrgInput{ParentID: parent, Name: c.Name, TimeZone: c.TimeZone})
	if err != nil {
		return err
	}
	return printJSON(g.Stdout, map[string]string{"id": o.ID, "kind": string(o.Kind), "name": o.Name, "parentId": o.ParentID})
}

// CreateKeyCmd creates a key.
type CreateKeyCmd struct {
	DBFlags
	Org  string `name:"org" help:"Org id (default: the provider)."`
	Name string `name:"name" default:"cli key" help:"Key name."`
	Role string `name:"role" default:"admin" enum:"admin,staff,viewer" help:"Role."`
}

// Run creates the key.
func (c *CreateKeyCmd) Run(g *Globals) error {
	a, root, err := openApp(g, c.DBFlags)
	if err != nil {
		return err
	}
	defer a.Close()
	org := c.Org
	if org == "" {
		org = root.ID
	}
	k, err := a.Access.CreateKey(g.Ctx, actor.System("cli"), access.CreateKeyInput{OrgID: org, Name: c.Name, Role: actor.Role(c.Role)})
	if err != nil {
		return err
	}
	return printJSON(g.Stdout, map[string]string{"id": k.ID, "orgId": k.OrgID, "role": string(k.Role), "key": k.Secret})
}

// RevokeKeyCmd revokes a key.
type RevokeKeyCmd struct {
	DBFlags
	ID string `arg:"" help:"Key id."`
}

// Run revokes the key.
func (c *RevokeKeyCmd) Run(g *Globals) error {
	a, _, err := openApp(g, c.DBFlags)
	if err != nil {
		return err
	}
	defer a.Close()
	k, err := a.Access.RevokeKey(g.Ctx, actor.System("cli"), c.ID)
	if err != nil {
		return err
	}
	return printJSON(g.Stdout, map[string]string{"id": k.ID, "revokedAt": k.RevokedAt.Format(time.RFC3339)})
}

// ListOrgsCmd lists orgs.
type ListOrgsCmd struct {
	DBFlags
}

// Run lists the orgs.
func (c *ListOrgsCmd) Run(g *Globals) error {
	a, _, err := openApp(g, c.DBFlags)
	if err != nil {
		return err
	}
	defer a.Close()
	after := ""
	for {
		page, err := a.Tenancy.ListOrgs(g.Ctx, actor.System("cli"), tenancy.OrgFilter{After: after, Limit: 500})
		if err != nil {
			return err
		}
		for _, o := range page {
			fmt.Fprintf(g.Stdout, "%s\t%-11s\t%s\n", o.ID, o.Kind, o.Name)
		}
		if len(page) < 500 {
			return nil
		}
		after = page[len(page)-1].ID
	}
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// s3Upstream checks the upstream S3 flags and puts them into cfg.
func (c *ServeCmd) s3Upstream(ctx context.Context, cfg *app.Config) error {
	if c.S3Store != "s3" {
		if c.S3Up != "" || c.S3UpKey != "" || c.S3UpSec != "" {
			return errors.New("--s3-upstream, --s3-upstream-key and --s3-upstream-secret need --s3-backend s3")
		}
		return nil
	}
	if c.S3 == "" {
		return errors.New("--s3-backend s3 needs the S3 server (--s3 is empty)")
	}
	if c.S3Up == "" || c.S3UpKey == "" || c.S3UpSec == "" {
		return errors.New("--s3-backend s3 needs --s3-upstream, --s3-upstream-key and --s3-upstream-secret")
	}
	cfg.S3Upstream = s3gw.UpstreamConfig{URL: c.S3Up, Key: c.S3UpKey, Secret: c.S3UpSec, Region: c.S3UpReg}
	// Checked now, before the database is touched: a first start that
	// failed later would have generated an admin key it never showed.
	_, err := s3gw.OpenUpstream(ctx, cfg.S3Upstream)
	return err
}
