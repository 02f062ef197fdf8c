package middleware

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics holds the HTTP request metrics. Create one per registry with
// NewMetrics and share it between mounts.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics registers trellis_http_requests_total{method,route,status} and
// trellis_http_request_duration_seconds{method,route} on reg. It panics if
// they are already registered there (a wiring bug).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trellis_http_requests_total",
			Help: "HTTP requests served, by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "trellis_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by method and route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// Middleware records every request. routeOf must return the ServeMux
// pattern, never the raw path, or the label set grows with every id a client
// sends; build it with MuxRoute (see there for why r.Pattern cannot be used).
// Requests no pattern matches are labelled "unmatched".
func (m *Metrics) Middleware(routeOf func(*http.Request) string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &statusWriter{ResponseWriter: w}
			next.ServeHTTP(sw, r)
			method, route := methodLabel(r.Method), routeOf(r)
			if route == "" {
				route = Unmatched
			}
			m.requests.WithLabelValues(method, route, strconv.Itoa(sw.Status())).Inc()
			m.duration.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
		})
	}
}

// methodLabel folds non-standard methods into "other": the method is client
// input and would otherwise be an unbounded label.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "other"
}
