// Package docs serves Swagger UI at /docs with every API spec selectable in
// the top bar. All assets are embedded (swgui's Swagger UI v5 build), so the
// page works offline and makes no request to any other host.
//
// swgui's own handlers take a single spec URL, so the index page and its
// initializer are generated here, using Swagger UI's `urls` option, and only
// swgui's static assets are reused.
package docs

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/swaggest/swgui/v5/static"
	"github.com/vearutop/statigz"
)

// Path is where the UI is served. The page and its assets are under Path+"/".
const Path = "/docs"

// Spec is one API description offered in the UI's selector.
type Spec struct {
	Name string // shown in the selector
	URL  string // where the browser fetches the spec; relative ("../api/v1/openapi.json") or same-origin ("/api/v1/openapi.json")
}

// index loads the assets by relative URLs, so the page also works behind a
// proxy that adds a path prefix. The initializer is a separate file rather
// than an inline script so a strict Content-Security-Policy can be applied.
const index = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Trellis API</title>
<link rel="stylesheet" type="text/css" href="swagger-ui.css">
<link rel="icon" type="image/png" href="favicon-32x32.png" sizes="32x32">
<link rel="icon" type="image/png" href="favicon-16x16.png" sizes="16x16">
<style>html{box-sizing:border-box;overflow-y:scroll}*,*:before,*:after{box-sizing:inherit}body{margin:0;background:#fafafa}</style>
</head>
<body>
<div id="swagger-ui"></div>
<script src="swagger-ui-bundle.js"></script>
<script src="swagger-ui-standalone-preset.js"></script>
<script src="swagger-initializer.js"></script>
</body>
</html>
`

// initializer starts Swagger UI; %URLS% is replaced by the spec list.
// validatorUrl null stops the UI from sending specs to validator.swagger.io
// (its default), the one outbound request Swagger UI makes on its own.
const initializer = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    urls: %URLS%,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout",
    validatorUrl: null,
    showExtensions: true,
    showCommonExtensions: true
  });
};
`

// Handler serves the UI at Path with specs in the selector, the first one
// shown by default. Mount it for both Path and Path+"/", e.g.
//
//	mux.Handle("GET /docs/", docs.Handler(specs)) // the mux redirects /docs to /docs/
func Handler(specs []Spec) http.Handler {
	type entry struct {
		URL  string `json:"url"`
		Name string `json:"name"`
	}
	entries := make([]entry, 0, len(specs))
	for _, s := range specs {
		entries = append(entries, entry{URL: s.URL, Name: s.Name})
	}
	// json.Marshal escapes <, > and &, so the result is also safe as a JS
	// literal; it cannot fail on strings.
	urls, _ := json.Marshal(entries)
	initJS := []byte(strings.Replace(initializer, "%URLS%", string(urls), 1))

	assets := http.StripPrefix(Path+"/", statigz.FileServer(static.FS))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case Path:
			http.Redirect(w, r, Path+"/", http.StatusMovedPermanently)
		case Path + "/":
			serve(w, r, "text/html; charset=utf-8", []byte(index))
		case Path + "/swagger-initializer.js":
			serve(w, r, "text/javascript; charset=utf-8", initJS)
		default:
			if !strings.HasPrefix(r.URL.Path, Path+"/") {
				http.NotFound(w, r)
				return
			}
			assets.ServeHTTP(w, r)
		}
	})
}

func serve(w http.ResponseWriter, r *http.Request, contentType string, body []byte) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(body)
}
