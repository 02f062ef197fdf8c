package app

import (
	"io"
	"log/slog"
	"net/http"

	"github.com/trellis-cloud/trellis/internal/httpapi"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/telemetry"
)

// instrument runs first in New: every line logged with a request's context
// carries the request's id (and trace), whoever logs it; and with a Tracer
// the database's transactions and statements are spans (the HTTP
// middleware and the job queue get cfg.Tracer through their configs).
func instrument(d *db.DB, cfg Config) (*db.DB, Config) {
	h := slog.Handler(slog.NewTextHandler(io.Discard, nil))
	if cfg.Logger != nil {
		h = cfg.Logger.Handler()
	}
	cfg.Logger = slog.New(telemetry.LogHandler(h))
	return d.Traced(cfg.Tracer), cfg
}

// AdminHandler serves the operator's listener (serve --admin-http): pprof
// under /debug/pprof/ and /metrics. With Config.AdminListener set, the
// public handler no longer serves /metrics (unless a MetricsToken guards
// it there).
func (a *App) AdminHandler() http.Handler { return httpapi.Admin(a.Registry) }
