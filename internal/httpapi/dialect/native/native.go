// Package native serves Trellis's own admin API under /api/v1: a code-first
// huma API (OpenAPI 3.1) over the domain services. Handlers only translate
// between the wire and one service call each; roles, scope and every
// business rule live in the services.
package native

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/bss"
	"github.com/trellis-cloud/trellis/internal/buckets"
	"github.com/trellis-cloud/trellis/internal/catalog"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/compute"
	"github.com/trellis-cloud/trellis/internal/httpapi/authn"
	"github.com/trellis-cloud/trellis/internal/httpapi/idempotency"
	"github.com/trellis-cloud/trellis/internal/httpapi/middleware"
	"github.com/trellis-cloud/trellis/internal/httpapi/ratelimit"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/network"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/orders"
	"github.com/trellis-cloud/trellis/internal/payment"
	"github.com/trellis-cloud/trellis/internal/pricing"
	"github.com/trellis-cloud/trellis/internal/reseller"
	"github.com/trellis-cloud/trellis/internal/support"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// Prefix is where the API is mounted.
const Prefix = "/api/v1"

// Deps are the services the API calls.
type Deps struct {
	Tenancy      *tenancy.Service
	Objstore     *objstore.Service
	Access       *access.Service
	Audit        *audit.Service
	Metering     *metering.Service
	Identity     *access.Identity // idcloudhost users and tokens
	Catalog      *catalog.Service
	Billing      *billing.Service
	Payment      *payment.Service
	Pricing      *pricing.Service
	Hourly       *metering.HourlyService
	Ledger       *ledger.Service
	Network      *network.Service
	Compute      *compute.Service
	Buckets      *buckets.Service
	Excess       *buckets.Excess
	Reseller     *reseller.Service // the reseller channel (Partner API v2 keys, settings, accounts, projects)
	Orders       *orders.Service   // reseller catalogs and orders
	Support      *support.Service  // support tickets and reviews
	BSS          *bss.Service      // Infiterra BSS installations
	Idem         idempotency.Store
	Clock        clock.Clock
	Limiter      *ratelimit.Limiter // may be nil
	AuthFailures *authn.Failures    // failed authentications per client address; nil: no limit
	Sandbox      Sandbox            // nil unless the instance runs in sandbox mode
	// Logger receives the causes of 5xx responses, which callers only see
	// as "internal error (request id …)". Nil means slog.Default().
	Logger *slog.Logger
}

// server holds the dependencies the handlers use.
type server struct{ d Deps }

func (s *server) logger() *slog.Logger {
	if s.d.Logger != nil {
		return s.d.Logger
	}
	return slog.Default()
}

// Handler serves every path under /api/v1/ (full paths, prefix included): it
// authenticates with authn.Middleware (credential: authn.Bearer), applies the
// idempotency middleware to every mutating route, and serves the huma API.
// It expects the outer server to set the request id
// (middleware.RequestID) and the body limit.
func Handler(d Deps) http.Handler {
	s := &server{d: d}
	mux := http.NewServeMux()
	newAPI(s, mux)
	return middleware.Chain(problemRoutes(mux, s.writeError),
		authn.Middleware(authn.Config{
			Auth:       d.Access,
			Limiter:    d.Limiter,
			Failures:   d.AuthFailures,
			Credential: authn.Bearer,
			WriteError: s.writeError,
		}),
		bufferBody(maxBody, s.writeError),
		idempotency.Middleware(d.Idem, d.Clock, s.writeError),
	)
}

// RouteOf returns a function naming the route pattern of a request under
// Prefix ("GET /api/v1/orgs/{id}", for metrics and logs), or "" for none.
// It builds its own router, so it needs no services.
func RouteOf() func(*http.Request) string {
	mux := http.NewServeMux()
	newAPI(&server{}, mux)
	return func(r *http.Request) string {
		_, pattern := mux.Handler(r)
		return pattern
	}
}

// Spec returns the OpenAPI 3.1 document (JSON).
func Spec() []byte {
	spec, _ := mustSpecs(newAPI(&server{}, http.NewServeMux()))
	return spec
}

// Spec30 returns the document downgraded to OpenAPI 3.0.3 by huma, as used
// by the tests' validator and tools that do not read 3.1.
func Spec30() []byte {
	_, spec := mustSpecs(newAPI(&server{}, http.NewServeMux()))
	return spec
}

// mustSpecs renders both documents. They are built from Go types only, so a
// failure is a programming error caught by any test.
func mustSpecs(api huma.API) (v31, v30 []byte) {
	v31, err := api.OpenAPI().MarshalJSON()
	if err != nil {
		panic("native: render OpenAPI document: " + err.Error())
	}
	v30, err = api.OpenAPI().Downgrade()
	if err != nil {
		panic("native: downgrade OpenAPI document: " + err.Error())
	}
	return v31, v30
}

// newAPI builds the huma API on mux with every operation registered. The
// handlers reach the services through s only at request time, so the API
// (and its documents) can be built with no services at all.
func newAPI(s *server, mux *http.ServeMux) huma.API {
	cfg := huma.DefaultConfig("Trellis API", "1.0.0")
	cfg.Info.Description = "The native admin API of Trellis: the org tree, contracts, partners, API keys, " +
		"the audit log, usage recording, regions and operator jobs. Every request needs " +
		"`Authorization: Bearer <API key>`. Mutating requests may carry an `Idempotency-Key`."
	// No schema links ($schema fields, Link headers), no built-in docs page
	// (it loads assets from a CDN; /docs serves Swagger UI), no schema
	// routes, and no spec routes (the server serves Spec at /api/openapi.json).
	cfg.CreateHooks = nil
	cfg.OpenAPIPath, cfg.DocsPath, cfg.SchemasPath = "", "", ""
	cfg.Formats = map[string]huma.Format{
		"application/json": huma.DefaultJSONFormat,
		"json":             huma.DefaultJSONFormat,
	}
	cfg.Transformers = []huma.Transformer{s.transformError}
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", Description: "A Trellis API key."},
	}
	cfg.Security = []map[string][]string{{"bearer": {}}}
	api := humago.NewWithPrefix(mux, Prefix, cfg)

	s.registerOrgs(api)
	s.registerContracts(api)
	s.registerPartners(api)
	s.registerKeys(api)
	s.registerAudit(api)
	s.registerUsage(api)
	s.registerRegions(api)
	s.registerJobs(api)
	s.registerUsers(api)
	s.registerLocations(api)
	s.registerSandbox(api)
	s.registerBilling(api)
	s.registerBillingOps(api)
	s.registerCatalogResources(api)
	// Registered whatever the Deps, so the spec (built without services)
	// lists them.
	s.registerNetworkPools(api, s.d.Network)
	s.registerVMs(api)
	s.registerObjectStorage(api)
	s.registerReseller(api)
	s.registerBSS(api)

	// huma registers its ErrorModel for every operation, but every error
	// leaves as problemDetails (see transformError), so the schema is dead.
	delete(api.OpenAPI().Components.Schemas.Map(), "ErrorModel")
	return api
}

// register adds an operation with the API's conventions: errors are
// problems, mutating operations document Idempotency-Key, and bodies are
// already buffered and bounded by bufferBody.
func register[I, O any](api huma.API, op huma.Operation, h func(context.Context, *I) (*O, error)) {
	op.Responses = map[string]*huma.Response{"default": problemResponse(api)}
	if mutating(op.Method) {
		op.Parameters = append(op.Parameters, &huma.Param{
			Name: idempotency.Header,
			In:   "header",
			Description: "Makes the request safe to retry: a repeat with the same key and body " +
				"returns the first response; the same key with another request is refused (409).",
			Schema: &huma.Schema{Type: huma.TypeString, MinLength: ptr(1), MaxLength: ptr(255)},
		})
		op.MaxBodyBytes = -1
	}
	if op.Tags == nil {
		op.Tags = []string{tagOf(op.Path)}
	}
	huma.Register(api, op, h)
}

func mutating(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// tagOf groups operations by their first path segment.
func tagOf(path string) string {
	seg, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return seg
}

func ptr[T any](v T) *T { return &v }
