// Package httpapi assembles the HTTP surface: every dialect under its
// prefix, the docs, health, readiness and metrics, behind the shared
// middleware.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/trace"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/idcloudhost"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/impossiblecloud"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/infiterra"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/itglobal"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/native"
	"github.com/trellis-cloud/trellis/internal/httpapi/docs"
	"github.com/trellis-cloud/trellis/internal/httpapi/middleware"
	"github.com/trellis-cloud/trellis/internal/httpapi/textguard"
	"github.com/trellis-cloud/trellis/internal/httpapi/wire"
)

// DefaultBodyLimit bounds request bodies.
const DefaultBodyLimit = 1 << 20

// Config is what the HTTP surface needs.
type Config struct {
	Logger    *slog.Logger
	Registry  *prometheus.Registry
	BodyLimit int64
	Ready     func(ctx context.Context) error // database reachable
	// MetricsToken, when set, is the bearer token /metrics requires;
	// empty: /metrics answers loopback clients only.
	MetricsToken string
	// AdminMetrics: /metrics is served on the admin listener (Admin), so
	// the public one answers it 404, unless MetricsToken is set (then it
	// stays here too, behind the token).
	AdminMetrics bool
	// Tracer, when set, gives every request an HTTP server span (nil: no
	// tracing).
	Tracer          trace.TracerProvider
	Native          native.Deps
	ImpossibleCloud impossiblecloud.Deps
	IDCloudHost     idcloudhost.Deps
	ITGlobal        itglobal.Deps
	Infiterra       infiterra.Deps
	// ActivateResellerAccount activates a reseller account from the link
	// of its activation e-mail (GET /itglobal/activate?account=…&token=…).
	ActivateResellerAccount func(ctx context.Context, id, token string) error
}

// Dialects lists the specs Trellis serves, by the name `trellis openapi`
// takes.
func Dialects() map[string]func() []byte {
	return map[string]func() []byte{
		"native":          native.Spec,
		"impossiblecloud": impossiblecloud.Spec,
		"idcloudhost":     idcloudhost.Spec,
		"itglobal":        itglobal.Spec,
		"infiterra":       infiterra.Spec,
	}
}

// New returns the root handler.
func New(cfg Config) http.Handler {
	if cfg.BodyLimit <= 0 {
		cfg.BodyLimit = DefaultBodyLimit
	}
	mux := http.NewServeMux()
	mux.Handle(native.Prefix+"/", native.Handler(cfg.Native))
	mux.Handle(impossiblecloud.Prefix+"/", impossiblecloud.Handler(cfg.ImpossibleCloud))
	mux.Handle(idcloudhost.Prefix+"/", idcloudhost.Handler(cfg.IDCloudHost))
	mux.Handle(itglobal.Prefix+"/", itglobal.Handler(cfg.ITGlobal))
	// More specific than the Impossible Cloud mount it sits under.
	mux.Handle(infiterra.Prefix+"/", infiterra.Handler(cfg.Infiterra))
	mux.HandleFunc("GET /itglobal/activate", activate(cfg.ActivateResellerAccount))
	mux.Handle("GET /api/openapi.json", specHandler(native.Spec()))
	mux.Handle("GET /impossiblecloud/openapi.json", specHandler(impossiblecloud.Spec()))
	mux.Handle("GET "+idcloudhost.SpecPath, specHandler(idcloudhost.Spec()))
	mux.Handle("GET "+itglobal.SpecPath, specHandler(itglobal.Spec()))
	mux.Handle("GET "+infiterra.SpecPath, specHandler(infiterra.Spec()))
	mux.Handle("GET "+docs.Path+"/", docs.Handler([]docs.Spec{
		{Name: "Impossible Cloud Management Console", URL: "/impossiblecloud/openapi.json"},
		{Name: "idcloudhost cloud API", URL: idcloudhost.SpecPath},
		{Name: "ITGLOBAL Partner API v2", URL: itglobal.SpecPath},
		{Name: "Infiterra BSS service manager", URL: infiterra.SpecPath},
		{Name: "Trellis native admin API", URL: "/api/openapi.json"},
	}))
	mux.Handle("GET "+docs.Path, http.RedirectHandler(docs.Path+"/", http.StatusMovedPermanently))
	// The front door leads to the documentation (a 302: the console will
	// take "/" over).
	mux.Handle("GET /{$}", http.RedirectHandler(docs.Path+"/", http.StatusFound))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		jsonFormat.JSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := cfg.Ready(ctx); err != nil {
			cfg.Logger.WarnContext(r.Context(), "not ready", "err", err)
			jsonFormat.JSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "detail": "database unreachable"})
			return
		}
		jsonFormat.JSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	if !cfg.AdminMetrics || cfg.MetricsToken != "" {
		mux.Handle("GET /metrics", protectMetrics(cfg.MetricsToken, promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{})))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeAnyError(w, r, errs.New(errs.KindNotFound, "no such route: "+r.Method+" "+r.URL.Path))
	})

	// Dialects route inside their own muxes; name their routes with their
	// own patterns so metrics see "/impossiblecloud/v1/partner/{partnerID}",
	// not the mount point.
	outer := middleware.MuxRoute(mux)
	inner := map[string]func(*http.Request) string{
		impossiblecloud.Prefix + "/": impossiblecloud.RouteOf(),
		native.Prefix + "/":          native.RouteOf(),
		idcloudhost.Prefix + "/":     idcloudhost.RouteOf(),
		itglobal.Prefix + "/":        itglobal.RouteOf(),
		infiterra.Prefix + "/":       infiterra.RouteOf(),
	}
	route := func(r *http.Request) string {
		// The longest mount wins: the Infiterra routes sit under the
		// Impossible Cloud prefix.
		best := ""
		for prefix := range inner {
			if strings.HasPrefix(r.URL.Path, prefix) && len(prefix) > len(best) {
				best = prefix
			}
		}
		if best == "" {
			return outer(r)
		}
		if p := inner[best](r); p != "" {
			return p
		}
		return middleware.Unmatched
	}
	metrics := middleware.NewMetrics(cfg.Registry)
	return middleware.Chain(mux,
		middleware.RequestID,
		middleware.Trace(cfg.Tracer, route),
		middleware.AccessLog(cfg.Logger, route),
		metrics.Middleware(route),
		middleware.Recover(cfg.Logger, writeAnyError),
		middleware.BodyLimit(cfg.BodyLimit),
		// Text no field may hold is refused here, once, for every dialect.
		textguard.Middleware(func(r *http.Request) string {
			if p := route(r); p != "" && p != middleware.Unmatched {
				return p
			}
			return idcloudhost.LocationPattern(r)
		}, writeAnyError),
	)
}

// writeAnyError writes an error outside a dialect's own handler (panics,
// unknown routes) in the shape of the dialect the path belongs to.
func writeAnyError(w http.ResponseWriter, r *http.Request, err error) {
	switch p := r.URL.Path; {
	case strings.HasPrefix(p, idcloudhost.Prefix+"/"):
		idcloudhost.WriteError(w, r, err)
	case strings.HasPrefix(p, infiterra.Prefix+"/"):
		infiterra.WriteError(w, r, err)
	case strings.HasPrefix(p, itglobal.Prefix+"/"):
		itglobal.WriteError(w, r, err)
	case strings.HasPrefix(p, impossiblecloud.Prefix+"/"):
		impossiblecloud.WriteError(w, r, err)
	case strings.HasPrefix(p, native.Prefix+"/"):
		native.WriteError(w, r, err)
	default:
		rootFormat.Error(w, r, err)
	}
}

// rootFormat answers the paths of no dialect: problem+json.
var rootFormat = wire.Format{ContentType: "application/problem+json", EscapeHTML: true, Shape: func(f wire.Failure) any {
	return rootProblem{Title: http.StatusText(f.Status), Status: f.Status, Detail: f.Message, RequestID: f.RequestID}
}}

// rootProblem is the problem+json body outside the dialects.
type rootProblem struct {
	Detail    string `json:"detail"`
	RequestID string `json:"requestId"`
	Status    int    `json:"status"`
	Title     string `json:"title"`
}

// jsonFormat writes the health, readiness and activation answers.
var jsonFormat = wire.Format{EscapeHTML: true}

func specHandler(spec []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(spec)
	})
}

// activate serves the link of a reseller account's activation e-mail: the
// token in the link is the proof, so no key is needed.
func activate(fn func(ctx context.Context, id, token string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		id, token := q.Get("account"), q.Get("token")
		var err error
		switch {
		case fn == nil:
			err = errs.New(errs.KindNotFound, "no such route: "+r.Method+" "+r.URL.Path)
		case id == "":
			err = errs.Invalid("account", "is required")
		case token == "":
			err = errs.Invalid("token", "is required")
		default:
			err = fn(r.Context(), id, token)
		}
		if err != nil {
			writeAnyError(w, r, err)
			return
		}
		jsonFormat.JSON(w, http.StatusOK, map[string]string{"status": "activated", "account": id})
	}
}
