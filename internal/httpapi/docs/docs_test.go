package docs

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var specs = []Spec{
	{Name: "Admin API", URL: "/api/v1/openapi.json"},
	{Name: "Impossible Cloud </script><b>", URL: "../impossiblecloud/v1/openapi.json"},
}

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET "+Path+"/", Handler(specs))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// get fetches u without following redirects and without transparent gzip,
// so the test sees exactly what the server sends.
func get(t *testing.T, u string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{
		Transport:     &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestRedirect(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	resp, _ := get(t, srv.URL+"/docs", nil)
	if resp.StatusCode/100 != 3 || resp.Header.Get("Location") != "/docs/" {
		t.Errorf("GET /docs: %d Location %q, want redirect to /docs/", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Also when mounted without the mux's own redirect.
	rec := httptest.NewRecorder()
	Handler(specs).ServeHTTP(rec, httptest.NewRequest("GET", "/docs", nil))
	if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/docs/" {
		t.Errorf("handler GET /docs: %d %q", rec.Code, rec.Header().Get("Location"))
	}
}

var (
	attrURL = regexp.MustCompile(`(?:src|href)="([^"]*)"`)
	// absolute is anything naming a host: a scheme, or a protocol-relative URL.
	absolute = regexp.MustCompile(`(?i)^(?:[a-z][a-z0-9+.-]*:|//)`)
)

func TestPageAndAssetsAreLocal(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	base, _ := url.Parse(srv.URL + "/docs/")

	resp, page := get(t, base.String(), nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /docs/: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if strings.Contains(string(page), "http") {
		t.Errorf("page mentions http: %s", page)
	}

	refs := attrURL.FindAllStringSubmatch(string(page), -1)
	if len(refs) < 5 {
		t.Fatalf("found only %d references in page", len(refs))
	}
	for _, m := range refs {
		ref := m[1]
		if absolute.MatchString(ref) {
			t.Errorf("page references another origin: %q", ref)
			continue
		}
		u := base.ResolveReference(&url.URL{Path: ref})
		if u.Host != base.Host {
			t.Errorf("%q resolves off-origin to %s", ref, u)
		}
		// Browsers send Accept-Encoding; also check clients that do not
		// get the assets decompressed.
		for _, ae := range []string{"gzip, deflate, br", ""} {
			resp, body := get(t, u.String(), map[string]string{"Accept-Encoding": ae})
			if resp.StatusCode != 200 || len(body) == 0 {
				t.Errorf("GET %s (Accept-Encoding %q): %d, %d bytes", u.Path, ae, resp.StatusCode, len(body))
				continue
			}
			if resp.Header.Get("Content-Encoding") == "gzip" {
				zr, err := gzip.NewReader(strings.NewReader(string(body)))
				if err != nil {
					t.Errorf("GET %s: bad gzip: %v", u.Path, err)
					continue
				}
				if _, err := io.ReadAll(zr); err != nil {
					t.Errorf("GET %s: bad gzip: %v", u.Path, err)
				}
			}
		}
	}
}

func TestInitializer(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	resp, js := get(t, srv.URL+"/docs/swagger-initializer.js", nil)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") {
		t.Fatalf("GET initializer: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := string(js)
	for _, want := range []string{
		`{"url":"/api/v1/openapi.json","name":"Admin API"}`,
		`"url":"../impossiblecloud/v1/openapi.json"`,
		`validatorUrl: null`,         // else the UI posts specs to validator.swagger.io
		`layout: "StandaloneLayout"`, // the layout with the top-bar selector
	} {
		if !strings.Contains(s, want) {
			t.Errorf("initializer lacks %s:\n%s", want, s)
		}
	}
	if strings.Contains(s, "</script>") || strings.Contains(s, "<b>") {
		t.Errorf("spec name not escaped:\n%s", s)
	}
	if strings.Contains(s, "http") {
		t.Errorf("initializer mentions http:\n%s", s)
	}
}

func TestNotFoundAndMethods(t *testing.T) {
	t.Parallel()
	h := Handler(specs)
	for _, tt := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/docs/nope.js", 404},
		{"GET", "/elsewhere", 404},
		{"POST", "/docs/", 405},
		{"HEAD", "/docs/", 200},
		{"HEAD", "/docs/swagger-ui.css", 200},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		if rec.Code != tt.want {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.path, rec.Code, tt.want)
		}
	}
}
