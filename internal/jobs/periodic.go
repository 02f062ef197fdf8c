package jobs

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics measures each timed step on its own, so a failing step is seen
// (and alerted on) without hiding the others.
type Metrics struct {
	lastSuccess *prometheus.GaugeVec
	failures    *prometheus.CounterVec
	skips       *prometheus.CounterVec
	duration    *prometheus.HistogramVec
}

// NewMetrics registers the step metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "trellis_job_step_last_success_timestamp_seconds",
			Help: "The instant (app clock) the periodic step last succeeded for."}, []string{"step"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trellis_job_step_failures_total",
			Help: "Runs of the periodic step that failed."}, []string{"step"}),
		skips: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trellis_job_step_skipped_total",
			Help: "Runs of the periodic step skipped because a step it depends on did not succeed."}, []string{"step"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "trellis_job_step_duration_seconds",
			Help: "How long each run of the periodic step took.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)}, []string{"step"}),
	}
	reg.MustRegister(m.lastSuccess, m.failures, m.skips, m.duration)
	return m
}

func (m *Metrics) observe(step string, at time.Time, took time.Duration, err error) {
	if m == nil {
		return
	}
	m.duration.WithLabelValues(step).Observe(took.Seconds())
	if err != nil {
		m.failures.WithLabelValues(step).Inc()
		return
	}
	m.lastSuccess.WithLabelValues(step).Set(float64(at.UnixNano()) / 1e9)
}

func (m *Metrics) skipped(step string) {
	if m != nil {
		m.skips.WithLabelValues(step).Inc()
	}
}

// Claimer takes a sweep's period (sqlstore.Store): true for exactly one of
// the callers that claim the same name and period.
type Claimer interface {
	ClaimPeriod(ctx context.Context, name string, period time.Time, node string, at time.Time) (bool, error)
}

// Clock is the time a periodic sweep reads.
type Clock interface{ Now() time.Time }

// OncePerPeriod returns a job body that runs fn at the clock's time only on
// the node that claims the current period (the clock's time truncated to
// every): with N nodes on one database the sweep runs once per period.
// The sweeps are idempotent and do all that is due at their instant, so a
// period lost to a crash after the claim is caught up by the next one, and
// a failed step is retried there.
func OncePerPeriod(c Claimer, clk Clock, node, name string, every time.Duration,
	fn func(ctx context.Context, at time.Time) error) func(context.Context) error {
	return func(ctx context.Context) error {
		at := clk.Now()
		won, err := c.ClaimPeriod(ctx, name, at.Truncate(every), node, at)
		if err != nil || !won {
			return err
		}
		return fn(ctx, at)
	}
}
