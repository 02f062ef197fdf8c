// Package wire writes every dialect's responses: JSON bodies, and errors
// with the status of httpapi/problem's kind table, the public message, and
// the cause of a 5xx logged once with the request id. A dialect contributes
// only what differs on its wire: its error body (Shape), its Content-Type and
// whether <, > and & are escaped.
package wire

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/middleware"
	"github.com/trellis-cloud/trellis/internal/httpapi/problem"
)

// ContentTypeJSON is the Content-Type of a Format that names none.
const ContentTypeJSON = "application/json"

// Failure is an error as a dialect's error body sees it.
type Failure struct {
	Err       error
	Kind      errs.Kind
	Status    int    // problem.Status(Kind)
	Message   string // problem.Message: the public message; for a 5xx "internal error" and the request id
	Field     string // the input at fault; "" for a 5xx
	RequestID string
}

// Describe gives err its status, public message and field, and logs the
// cause of a 5xx once (with the request id and attrs) on log; a nil log
// logs nothing.
func Describe(ctx context.Context, log *slog.Logger, err error, attrs ...slog.Attr) Failure {
	kind := errs.KindOf(err)
	rid := middleware.RequestIDFrom(ctx)
	f := Failure{Err: err, Kind: kind, Status: problem.Status(kind), Message: problem.Message(err, rid), RequestID: rid}
	if f.Status >= http.StatusInternalServerError {
		if log != nil {
			log.LogAttrs(ctx, slog.LevelError, "request failed",
				append(attrs, slog.String("request_id", rid), slog.String("err", err.Error()))...)
		}
		return f
	}
	f.Field = errs.FieldOf(err)
	return f
}

// Format is how a dialect writes JSON.
type Format struct {
	ContentType string // "" = ContentTypeJSON
	EscapeHTML  bool   // escape <, > and & as encoding/json does by default
	// Shape is the dialect's error body for a failure. It also answers a
	// value that cannot be encoded (a 500).
	Shape func(Failure) any
	// Log receives the causes of 5xx answers; nil logs nothing.
	Log *slog.Logger
}

// JSON writes v as JSON with status. A value that cannot be encoded is a
// 500 with the dialect's internal-error body.
func (f Format) JSON(w http.ResponseWriter, status int, v any) {
	b, err := f.encode(v)
	if err != nil {
		status = http.StatusInternalServerError
		if f.Log != nil {
			f.Log.Error("encoding a response", "err", err)
		}
		b, _ = f.encode(f.shape(Failure{Err: err, Kind: errs.KindInternal, Status: status, Message: "internal error"}))
	}
	ct := f.ContentType
	if ct == "" {
		ct = ContentTypeJSON
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// Error writes err in the dialect's shape with the status of its kind, and
// logs the cause of a 5xx once.
func (f Format) Error(w http.ResponseWriter, r *http.Request, err error) {
	fl := Describe(r.Context(), f.Log, err, slog.String("method", r.Method), slog.String("path", r.URL.Path))
	f.JSON(w, fl.Status, f.shape(fl))
}

func (f Format) shape(fl Failure) any {
	if f.Shape == nil {
		return map[string]string{"message": fl.Message}
	}
	return f.Shape(fl)
}

func (f Format) encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(f.EscapeHTML)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Map applies fn to every element of in (a list of domain values to their
// wire form); nil stays an empty, non-nil list.
func Map[T, U any](in []T, fn func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = fn(v)
	}
	return out
}
