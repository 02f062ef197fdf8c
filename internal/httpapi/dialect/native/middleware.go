package native

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/middleware"
	"github.com/trellis-cloud/trellis/internal/httpapi/problem"
)

// maxBody bounds request bodies even when the outer server sets no limit;
// a smaller outer limit takes effect first.
const maxBody = 1 << 20

// bufferBody reads the whole body before huma does. huma turns every body
// read error, *http.MaxBytesError included, into a 500 "cannot read request
// body"; reading it here lets an oversize body be the 413 it is, whoever set
// the limit. It also refuses null members (see nullMember).
func bufferBody(limit int64, writeError func(http.ResponseWriter, *http.Request, error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body == nil || r.Body == http.NoBody {
				next.ServeHTTP(w, r)
				return
			}
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
			if err != nil {
				if err = problem.FromDecode(err); !errs.Is(err, errs.KindTooLarge) {
					// The client went away or stalled: its request, not our fault.
					err = &errs.Error{Kind: errs.KindInvalid, Field: "body", Msg: "could not be read", Err: err}
				}
				writeError(w, r, err)
				return
			}
			if field := nullMember(body); field != "" {
				writeProblem(w, schemaProblem(r.Context(), field, "expected a value, got null"))
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			next.ServeHTTP(w, r)
		})
	}
}

// nullMember returns the first member of a JSON object body whose value is
// null. No input of this API is nullable, but huma's validator skips null
// optional members as if absent (validate.go, handleMapString), which would
// let {"reservedCapacity": null} through as "no change". Anything that is
// not a JSON object is left to huma to report.
func nullMember(body []byte) string {
	var members map[string]json.RawMessage
	if json.Unmarshal(body, &members) != nil {
		return ""
	}
	for _, k := range slices.Sorted(maps.Keys(members)) {
		if string(bytes.TrimSpace(members[k])) == "null" {
			return k
		}
	}
	return ""
}

// problemRoutes answers requests that match no route with a problem: 405
// with Allow when the path exists with other methods, 404 otherwise.
func problemRoutes(mux *http.ServeMux, writeError func(http.ResponseWriter, *http.Request, error)) http.Handler {
	return middleware.UnknownRoutes(mux, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, errs.NotFound("route"))
	}, func(w http.ResponseWriter, r *http.Request, allowed []string) {
		writeProblem(w, &problemDetails{
			Type:      "about:blank",
			Title:     http.StatusText(http.StatusMethodNotAllowed),
			Status:    http.StatusMethodNotAllowed,
			Detail:    "use " + strings.Join(allowed, ", "),
			RequestID: middleware.RequestIDFrom(r.Context()),
		})
	})
}
