package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"

	"github.com/trellis-cloud/trellis/internal/lockedbuf"
)

// serve runs `trellis serve args…` on ephemeral ports until the test ends
// and returns the public and admin base URLs ("" without --admin-http) and
// the server's log.
func serve(t *testing.T, args ...string) (public, admin string, logs *lockedbuf.Buffer) {
	t.Helper()
	t.Setenv("TRELLIS_DB", "")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	var c CLI
	p, err := kong.New(&c, kong.Name("trellis"), kong.Exit(func(int) { t.Fatalf("kong exited on %v", args) }))
	if err != nil {
		t.Fatal(err)
	}
	k, err := p.Parse(append([]string{"serve", "--data-dir", t.TempDir(), "--http", "127.0.0.1:0", "--s3", ""}, args...))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out, logs := &lockedbuf.Buffer{}, &lockedbuf.Buffer{}
	done := make(chan error, 1)
	go func() { done <- k.Run(&Globals{Ctx: ctx, Stdout: out, Stderr: logs}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	serving := regexp.MustCompile(`serving (http://\S+) `)
	adminRe := regexp.MustCompile(`admin: (http://[^/\s]+)/debug/pprof/`)
	for deadline := time.Now().Add(30 * time.Second); ; {
		s := out.String()
		// The admin listener's line follows the public one: wait for
		// both when the admin listener was asked for.
		if m := serving.FindStringSubmatch(s); m != nil {
			public = m[1]
			if m := adminRe.FindStringSubmatch(s); m != nil {
				admin = m[1]
			}
			if admin != "" || !slices.Contains(args, "--admin-http") {
				return public, admin, logs
			}
		}
		select {
		case err := <-done:
			t.Fatalf("serve returned: %v\n%s%s", err, s, logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s%s", s, logs)
		}
		time.Sleep(10 * time.Millisecond) // polls for the listener, not for time to pass
	}
}

func fetch(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Request-Id", "cli-test")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeAdminListener: --admin-http serves pprof and /metrics on its own
// address, and /metrics leaves the public listener — unless a metrics
// token is set, which keeps it there behind the token. Without the flag
// there is no admin listener and /metrics stays public (loopback).
// --log-format json writes JSON lines carrying the request id.
func TestServeAdminListener(t *testing.T) {
	t.Run("admin", func(t *testing.T) {
		public, admin, logs := serve(t, "--admin-http", "127.0.0.1:0", "--log-format", "json")
		if admin == "" || admin == public {
			t.Fatalf("admin listener %q (public %q)", admin, public)
		}
		for _, c := range []struct {
			url  string
			want int
			has  string
		}{
			{admin + "/debug/pprof/", 200, "goroutine"},
			{admin + "/debug/pprof/goroutine?debug=1", 200, "goroutine profile"},
			{admin + "/debug/pprof/cmdline", 200, ""},
			{admin + "/metrics", 200, "go_goroutines"},
			{admin + "/api/v1/orgs", 404, ""},
			{public + "/metrics", 404, ""},
			{public + "/debug/pprof/", 404, ""},
			{public + "/healthz", 200, `"ok"`},
		} {
			if code, body := fetch(t, c.url, ""); code != c.want || !strings.Contains(body, c.has) {
				t.Errorf("GET %s: %d, want %d with %q: %.200s", c.url, code, c.want, c.has, body)
			}
		}
		found := false
		for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("not a JSON log line: %q", l)
			}
			found = found || (m["msg"] == "http request" && m["path"] == "/healthz" && m["request_id"] == "cli-test")
		}
		if !found {
			t.Errorf("no JSON access log line of /healthz with its request id:\n%s", logs)
		}
	})
	t.Run("admin and token", func(t *testing.T) {
		const token = "scrape-token-0123456789abcdef"
		public, admin, _ := serve(t, "--admin-http", "127.0.0.1:0", "--metrics-token", token)
		if code, _ := fetch(t, admin+"/metrics", ""); code != 200 {
			t.Errorf("admin /metrics: %d", code)
		}
		if code, _ := fetch(t, public+"/metrics", ""); code != 401 {
			t.Errorf("public /metrics without the token: %d, want 401", code)
		}
		if code, body := fetch(t, public+"/metrics", token); code != 200 || !strings.Contains(body, "go_goroutines") {
			t.Errorf("public /metrics with the token: %d", code)
		}
	})
	t.Run("no admin", func(t *testing.T) {
		public, admin, logs := serve(t)
		if admin != "" {
			t.Fatalf("admin listener %q without --admin-http", admin)
		}
		if code, _ := fetch(t, public+"/metrics", ""); code != 200 { // loopback, as before
			t.Errorf("public /metrics: %d", code)
		}
		if code, _ := fetch(t, public+"/debug/pprof/", ""); code != 404 {
			t.Errorf("public pprof: %d", code)
		}
		if !strings.Contains(logs.String(), "request_id=cli-test") {
			t.Errorf("text log without the request id:\n%s", logs)
		}
	})
}
