package app_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/trellis-cloud/trellis/internal/app"
	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/lockedbuf"
	"github.com/trellis-cloud/trellis/internal/network"
	netsim "github.com/trellis-cloud/trellis/internal/network/sim"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// TestRequestLogLinesCarryItsID: with JSON logs, every line logged while a
// request is served carries its request id — the access log's, and a
// domain service's (the network service logging the failure of the step it
// ran inline, with the request's context), which knows nothing of HTTP.
func TestRequestLogLinesCarryItsID(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		logs := &lockedbuf.Buffer{}
		logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		a, creds := newDemo(t, d, app.Config{DataDir: t.TempDir(), Logger: logger})
		v := newClient(t, a.Handler).idch
		logs.Take()

		a.NetworkSim.FailNext(netsim.StepCreateNetwork, 1)
		const id = "obs-request-1"
		req := apitest.Request{Method: "POST", Path: "/idcloudhost/v1/network/network", Body: []byte(url.Values{"name": {"logged"}}.Encode()),
			Header: http.Header{"Apikey": {creds["idcloudhost_key"]}, "X-Request-Id": {id}, "Content-Type": {"application/x-www-form-urlencoded"}}}
		if resp := v.Do(t, a.Handler, req); resp.Status != 200 {
			t.Fatalf("create network: %d %s", resp.Status, resp.Body)
		}
		msgs := map[string]bool{}
		for _, l := range strings.Split(strings.TrimSpace(logs.Take()), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("not a JSON line: %v: %q", err, l)
			}
			if m["request_id"] != id {
				t.Errorf("line without the request's id: %s", l)
			}
			msgs[m["msg"].(string)] = true
		}
		for _, want := range []string{"network step failed; the job retries it", "http request"} {
			if !msgs[want] {
				t.Errorf("no line %q among %v", want, msgs)
			}
		}
	})
}

// TestTraceOfARequest: with a TracerProvider (an in-memory exporter here,
// OTLP in production), a request that writes to the database is one trace:
// its HTTP server span, the transaction spans under it and their
// statements under them, and the job it enqueued; the job's run is a span
// of its own named by its kind, linked to the request's trace. The
// dedicated idcloudhost listener's requests are spans too.
func TestTraceOfARequest(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		exp := tracetest.NewInMemoryExporter()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
		// A provider delay: the step is the job's, due at once (run
		// inline, it would be due only after the safety net).
		a, creds := newDemo(t, d, app.Config{DataDir: t.TempDir(), Tracer: tp, ProviderDelay: time.Millisecond})
		c := newClient(t, a.Handler)
		key := creds["idcloudhost_key"]
		exp.Reset()

		c.idc(200, "POST", "/network/network", key, url.Values{"name": {"traced"}})
		spans := exp.GetSpans()
		var server tracetest.SpanStub
		for _, s := range spans {
			if s.SpanKind == trace.SpanKindServer {
				if server.Name != "" {
					t.Fatalf("two server spans: %s, %s", server.Name, s.Name)
				}
				server = s
			}
		}
		if server.Name != "POST /idcloudhost/v1/network/network" || attr(server.Attributes, "http.route") != server.Name {
			t.Fatalf("server span %q (route %q)", server.Name, attr(server.Attributes, "http.route"))
		}
		byID := map[trace.SpanID]tracetest.SpanStub{}
		for _, s := range spans {
			byID[s.SpanContext.SpanID()] = s
		}
		// under reports whether s descends from the server span.
		under := func(s tracetest.SpanStub) bool {
			for p := s.Parent.SpanID(); p.IsValid(); p = byID[p].Parent.SpanID() {
				if p == server.SpanContext.SpanID() {
					return true
				}
			}
			return false
		}
		txs, stmts, inserts := 0, 0, 0
		for _, s := range spans {
			if s.SpanContext.SpanID() == server.SpanContext.SpanID() {
				continue
			}
			if s.SpanContext.TraceID() != server.SpanContext.TraceID() || !under(s) {
				t.Errorf("span %s is not under the request's span", s.Name)
			}
			switch {
			case s.Name == "db.tx":
				txs++
				if s.Parent.SpanID() != server.SpanContext.SpanID() {
					t.Errorf("a transaction's span is not a child of the request's")
				}
			case attr(s.Attributes, "db.query.text") != "":
				stmts++
				if p := byID[s.Parent.SpanID()]; p.Name != "db.tx" && p.SpanKind != trace.SpanKindServer {
					t.Errorf("statement %s under %s", s.Name, p.Name)
				}
				if s.Name == "INSERT" {
					inserts++
				}
			case s.Name == "river.insert_many":
			default:
				t.Errorf("unexpected span %s", s.Name)
			}
		}
		if txs == 0 || inserts == 0 {
			t.Errorf("%d transactions, %d statements (%d inserts) under the request", txs, stmts, inserts)
		}

		// The job the request enqueued runs under a span of its kind,
		// linked to the request's trace (the demo's jobs run too).
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		started := time.Now()
		stop, err := a.StartWorkers(ctx, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		var job tracetest.SpanStub
		for deadline := time.Now().Add(30 * time.Second); job.Name == ""; {
			for _, s := range exp.GetSpans() {
				for _, l := range s.Links {
					if l.SpanContext.TraceID() == server.SpanContext.TraceID() {
						job = s
					}
				}
			}
			if time.Now().After(deadline) {
				t.Fatal("no job span linked to the request's trace")
			}
			time.Sleep(20 * time.Millisecond) // polls for the job, not for time to pass
		}
		if job.Name != "river.work/"+network.KindNetworkStep || attr(job.Attributes, "kind") != network.KindNetworkStep ||
			job.SpanKind != trace.SpanKindConsumer {
			t.Errorf("job span %s: kind %q, span kind %v", job.Name, attr(job.Attributes, "kind"), job.SpanKind)
		}
		t.Logf("job span after %v", time.Since(started))

		// The dedicated idcloudhost listener serves through the same
		// middleware: a server span of its own.
		exp.Reset()
		r := httptest.NewRequest("GET", "/v1/config/locations", nil)
		r.Header.Set("apikey", key)
		w := httptest.NewRecorder()
		a.IDCloudHostHandler().ServeHTTP(w, r)
		found := false
		for _, s := range exp.GetSpans() {
			found = found || (s.SpanKind == trace.SpanKindServer && s.Name == "GET /idcloudhost/v1/config/locations")
		}
		if w.Code != 200 || !found {
			t.Errorf("dedicated listener: %d, server span %v", w.Code, found)
		}
	})
}

func attr(kvs []attribute.KeyValue, key string) string {
	for _, kv := range kvs {
		if string(kv.Key) == key {
			return kv.Value.String()
		}
	}
	return ""
}
