package native

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/validation"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/middleware"
	"github.com/trellis-cloud/trellis/internal/httpapi/wire"
)

const problemContentType = "application/problem+json"

// problemDetails is the body of every error response (RFC 9457).
type problemDetails struct {
	Type      string              `json:"type" doc:"The problem type: urn:trellis:problem:<kind> (invalid, not_found, conflict, precondition, forbidden, unauthenticated, capacity_exceeded, too_large, rate_limited, internal, ...), or about:blank." example:"urn:trellis:problem:capacity_exceeded"`
	Title     string              `json:"title" doc:"A short summary of the problem type." example:"Capacity exceeded"`
	Status    int                 `json:"status" doc:"The HTTP status code." example:"400"`
	Detail    string              `json:"detail" doc:"What went wrong in this occurrence. Server errors only say internal error and give the request id." example:"allocatedCapacity: insufficient capacity"`
	Field     string              `json:"field,omitempty" doc:"The input at fault, as the request named it: a body field, a query, path or header parameter, or body for the body as a whole." example:"allocatedCapacity"`
	RequestID string              `json:"requestId,omitempty" doc:"The request id (also in X-Request-Id), to quote when reporting a problem." example:"3f2a9c0d1b7e4e55a1c2d3e4f5a6b7c8"`
	Errors    []*huma.ErrorDetail `json:"errors,omitempty" doc:"Every schema violation, when the request did not match the schema."`
}

func (p *problemDetails) Error() string { return p.Detail }

// GetStatus makes a problem a huma.StatusError, so handlers return it as is.
func (p *problemDetails) GetStatus() int { return p.Status }

// ContentType makes huma send problems as application/problem+json.
func (p *problemDetails) ContentType(string) string { return problemContentType }

func problemResponse(api huma.API) *huma.Response {
	schema := api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[problemDetails](), true, "ProblemDetails")
	return &huma.Response{
		Description: "An error, as RFC 9457 problem details.",
		Content:     map[string]*huma.MediaType{problemContentType: {Schema: schema}},
	}
}

// fail turns a domain error into the problem a handler returns. 5xx causes
// are logged and never shown.
func (s *server) fail(ctx context.Context, err error) *problemDetails {
	return problemOf(wire.Describe(ctx, s.logger(), err))
}

// problemOf is the problem of a failure.
func problemOf(f wire.Failure) *problemDetails {
	return &problemDetails{
		Type:      "urn:trellis:problem:" + f.Kind.String(),
		Title:     titleOf(f.Kind),
		Status:    f.Status,
		Detail:    f.Message,
		Field:     f.Field,
		RequestID: f.RequestID,
	}
}

// problemFormat writes problems (and answers a value that cannot be
// encoded with one); the causes of 5xx answers go to log.
func problemFormat(log *slog.Logger) wire.Format {
	return wire.Format{ContentType: problemContentType, EscapeHTML: true, Log: log,
		Shape: func(f wire.Failure) any { return problemOf(f) }}
}

func titleOf(k errs.Kind) string {
	t := strings.ReplaceAll(k.String(), "_", " ")
	return strings.ToUpper(t[:1]) + t[1:]
}

// writeError writes err as a problem; the middlewares (authentication, rate
// limit, idempotency, body limit) use it.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	problemFormat(s.logger()).Error(w, r, err)
}

// WriteError writes err as a problem outside the API's handlers (the
// server's checks before routing, panic recovery, which logs the panic).
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	problemFormat(nil).Error(w, r, err)
}

func writeProblem(w http.ResponseWriter, p *problemDetails) {
	problemFormat(nil).JSON(w, p.Status, p)
}

// transformError reshapes the errors huma makes itself (schema violations,
// malformed JSON, unreadable bodies) into problems, without replacing
// huma's package-level NewError. Handlers' errors are problems already.
func (s *server) transformError(ctx huma.Context, _ string, v any) (any, error) {
	em, ok := v.(*huma.ErrorModel)
	if !ok {
		return v, nil
	}
	rid := middleware.RequestIDFrom(ctx.Context())
	p := &problemDetails{Type: "about:blank", Title: http.StatusText(em.Status), Status: em.Status, RequestID: rid}
	if em.Status >= http.StatusInternalServerError {
		causes := make([]string, 0, len(em.Errors))
		for _, d := range em.Errors {
			causes = append(causes, d.Error())
		}
		p := s.fail(ctx.Context(), errors.New(em.Detail+": "+strings.Join(causes, "; ")))
		p.Status = em.Status // the status line is already decided
		return p, nil
	}
	switch em.Status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		p.Type, p.Title = "urn:trellis:problem:"+errs.KindInvalid.String(), titleOf(errs.KindInvalid)
	case http.StatusRequestEntityTooLarge:
		p.Type, p.Title = "urn:trellis:problem:"+errs.KindTooLarge.String(), titleOf(errs.KindTooLarge)
	}
	p.Detail = em.Detail
	for _, d := range em.Errors {
		// The value is not echoed back: it can be a whole (large) body.
		p.Errors = append(p.Errors, &huma.ErrorDetail{Message: reword(d.Message), Location: locate(d)})
	}
	if len(p.Errors) > 0 {
		p.Field = fieldOf(p.Errors[0].Location)
		p.Detail = p.Field + ": " + p.Errors[0].Message
		if n := len(p.Errors) - 1; n > 0 {
			p.Detail += " (and " + pluralize(n, "more error") + ")"
		}
	} else if em.Status == http.StatusBadRequest || em.Status == http.StatusRequestEntityTooLarge {
		// huma's detail-less 4xx are about the body: missing or too large.
		p.Field = "body"
	}
	return p, nil
}

// locate returns where an error is. huma reports a missing required
// property at its object ("body"); the property itself is more useful.
func locate(d *huma.ErrorDetail) string {
	var name string
	if n, _ := fmt.Sscanf(d.Message, validation.MsgExpectedRequiredProperty, &name); n == 1 {
		return d.Location + "." + name
	}
	return d.Location
}

// reword replaces huma's message for an integer beyond int64 (over the
// exclusiveMaximum 2^63 of every int64 field), "expected number <
// 9.223372036854776e+18", with one a client can act on.
func reword(msg string) string {
	if msg == huma.ErrorFormatter(validation.MsgExpectedExclusiveMaximumNumber, float64(1<<63)) {
		return "expected an integer of at most 9223372036854775807"
	}
	return msg
}

// schemaProblem is a 422 like huma's own, for schema violations found
// before huma runs.
func schemaProblem(ctx context.Context, field, msg string) *problemDetails {
	return &problemDetails{
		Type:      "urn:trellis:problem:" + errs.KindInvalid.String(),
		Title:     titleOf(errs.KindInvalid),
		Status:    http.StatusUnprocessableEntity,
		Detail:    field + ": " + msg,
		Field:     field,
		RequestID: middleware.RequestIDFrom(ctx),
		Errors:    []*huma.ErrorDetail{{Message: msg, Location: "body." + field}},
	}
}

// fieldOf names the input of a huma location: "body.reservedCapacity" →
// "reservedCapacity", "query.limit" → "limit", "body" → "body".
func fieldOf(location string) string {
	if _, rest, ok := strings.Cut(location, "."); ok {
		return rest
	}
	return location
}

func pluralize(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
