package infiterra

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/trellis-cloud/trellis/internal/bss"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/authn"
	"github.com/trellis-cloud/trellis/internal/httpapi/middleware"
	"github.com/trellis-cloud/trellis/internal/httpapi/ratelimit"
	"github.com/trellis-cloud/trellis/internal/httpapi/wire"
)

// The HTTP header names of the contract (reference §1.3).
const (
	HeaderApplicationID = "X-CloudPlatform-ApplicationId"
	HeaderAPIKey        = "X-CloudPlatform-APIKey"
	HeaderTrackID       = "X-CloudPlatform-TrackId"
	// HeaderSettingPrefix is followed by a settings field's ID.
	HeaderSettingPrefix = "X-CloudPlatform-Setting-"
)

// Messages fixed by the contract.
const (
	// MessageDenied is Web API's AuthorizeAttribute answer, which the SDK
	// relies on for a failed authorization.
	MessageDenied = "Authorization has been denied for this request."
	// MessageTooMany answers a client over its rate limit (429, with
	// Retry-After): too many calls, or too many failed authentications.
	MessageTooMany = "Too many requests; retry later."
	// MessageInvalidBody answers a body that is not the endpoint's JSON.
	MessageInvalidBody = "invalid request body"
	// MessageInternal is Web API's answer to an unhandled failure; the cause
	// is logged, never sent.
	MessageInternal = "An error has occurred."
)

// maxBody bounds a request body even when the server mounts the handler
// without a body limit; a BSS request is a few kilobytes.
const maxBody = 1 << 20

// maxTrackID bounds the track id recorded in logs and audit rows; a longer
// or non-printable one is replaced by the request id.
const maxTrackID = 128

// contentType is what every answer carries, whatever Accept says (§1.2).
const contentType = "application/json; charset=utf-8"

// Service is the BSS core as the dialect uses it (implemented by
// *bss.Service). It speaks bss's inputs and catalog; the wire model is the
// dialect's (model.go, mapping.go, catalog.go). An operation's refusal is an error with a kind; the
// contract answers it with HTTP 200 and Code -1 (envelope.go).
type Service interface {
	Authenticate(ctx context.Context, appIDHeader, apiKeyHeader string) (bss.Installation, error)
	Settings(ctx context.Context, c bss.Call) []bss.Setting
	ValidateSettings(ctx context.Context, c bss.Call, in []bss.SettingValue) []string
	Catalog(ctx context.Context, c bss.Call) bss.Catalog
	AccountOptions(ctx context.Context, c bss.Call) []bss.CustomField
	SynchronizeAccount(ctx context.Context, c bss.Call, in bss.AccountInput) (bss.Outcome, error)
	AccountExists(ctx context.Context, c bss.Call, in bss.AccountInput) (bss.Outcome, error)
	DeleteAccount(ctx context.Context, c bss.Call, in bss.AccountInput) (bss.Outcome, error)
	Subscription(ctx context.Context, c bss.Call, action string, in bss.SubscriptionInput, checkOnly bool) (bss.Outcome, error)
	Addon(ctx context.Context, c bss.Call, action string, in bss.SubscriptionInput, checkOnly bool) (bss.Outcome, error)
}

// Deps are what the dialect calls.
type Deps struct {
	BSS    Service      // installations and the fifteen operations (*bss.Service)
	Logger *slog.Logger // every call (with its track id) and the causes of 500s; nil discards
	// Limiter limits calls per installation (application id); nil: none.
	Limiter *ratelimit.Limiter
	// AuthFailures limits failed authentications per client address,
	// before the installation is looked up; nil: no limit.
	AuthFailures *authn.Failures
}

// Route is one endpoint, for docs and tests.
type Route struct {
	Path    string   // below Prefix, lower case, e.g. "/subscriptions/create"
	Methods []string // "POST", or "GET" and "POST" for the three bare endpoints
	Summary string   // the seed's name of the URL field
}

// route is one row of the route table.
type route struct {
	path    string
	bare    bool // GET and POST, no body read, the answer not enveloped
	summary string
	// serve answers the call: the body, its status and, for a 5xx, the
	// cause to log.
	serve func(s *server, ctx context.Context, c bss.Call, in request) (any, int, error)
}

// request is what an operation receives besides the call.
type request struct {
	body      []byte
	checkOnly bool // ?checkonly=true
}

// routes is THE route table, in the seed's order. The SDK names the actions
// Fields/Get, Accounts/SyncOptions and so on; paths are compared in lower
// case.
func routes() []route {
	return []route{
		{"/fields/get", true, "Getting Settings Fields", (*server).fieldsGet},
		{"/fields/validate", false, "Validate Setting Fields", (*server).fieldsValidate},
		{"/fields/servicedefinition", true, "Get Service Definitions", (*server).serviceDefinition},
		{"/accounts/syncoptions", true, "Account Get Synchronization Options", (*server).syncOptions},
		{"/accounts/synchronize", false, "Account Synchronize", account(Service.SynchronizeAccount, accountResult)},
		{"/accounts/delete", false, "Account Delete", account(Service.DeleteAccount, plainResult)},
		{"/accounts/exists", false, "Account Exists", account(Service.AccountExists, plainResult)},
		{"/subscriptions/create", false, "Subscription Create", service(Service.Subscription, "create")},
		{"/subscriptions/update", false, "Subscription Update", service(Service.Subscription, "update")},
		{"/subscriptions/activate", false, "Subscription Activate", service(Service.Subscription, "activate")},
		{"/subscriptions/suspend", false, "Subscription Suspend", service(Service.Subscription, "suspend")},
		{"/subscriptions/cancel", false, "Subscription Cancel", service(Service.Subscription, "cancel")},
		{"/addons/create", false, "Addon Create", service(Service.Addon, "create")},
		{"/addons/update", false, "Addon Update", service(Service.Addon, "update")},
		{"/addons/cancel", false, "Addon Cancel", service(Service.Addon, "cancel")},
	}
}

// Routes lists the endpoints in the seed's order.
func Routes() []Route {
	rs := routes()
	out := make([]Route, len(rs))
	for i, r := range rs {
		out[i] = Route{Path: r.path, Methods: r.methods(), Summary: r.summary}
	}
	return out
}

func (r route) methods() []string {
	if r.bare {
		return []string{http.MethodGet, http.MethodPost}
	}
	return []string{http.MethodPost}
}

func (r route) allows(method string) bool {
	return method == http.MethodPost || (r.bare && method == http.MethodGet)
}

type server struct {
	svc      Service
	log      *slog.Logger
	routes   map[string]route
	limiter  *ratelimit.Limiter
	failures *authn.Failures
}

func newServer(d Deps) *server {
	s := &server{svc: d.BSS, log: d.Logger, routes: map[string]route{}, limiter: d.Limiter, failures: d.AuthFailures}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	for _, r := range routes() {
		s.routes[r.path] = r
	}
	return s
}

// match finds the route of a request path: the part below Prefix, compared
// case-insensitively and without trailing slashes (§1.1 [rec]).
func (s *server) match(path string) (route, bool) {
	if len(path) < len(Prefix) || !strings.EqualFold(path[:len(Prefix)], Prefix) {
		return route{}, false
	}
	rest := strings.ToLower(strings.TrimRight(path[len(Prefix):], "/"))
	r, ok := s.routes[rest]
	return r, ok
}

// Handler serves every path under Prefix.
func Handler(d Deps) http.Handler {
	s := newServer(d)
	return http.HandlerFunc(s.serveHTTP)
}

// RouteOf returns a function naming the endpoint of a request (for metrics
// and logs): "POST /impossiblecloud/v1/integration/infiterra/subscriptions/create"
// whatever the request's casing, or "" when no endpoint serves it. It needs
// no services.
func RouteOf() func(*http.Request) string {
	s := newServer(Deps{})
	return func(r *http.Request) string {
		rt, ok := s.match(r.URL.Path)
		if !ok || !rt.allows(r.Method) {
			return ""
		}
		return r.Method + " " + Prefix + rt.path
	}
}

func (s *server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		// An unhandled failure is Web API's 500, in the envelope; the
		// cause stays in the log. http.ErrAbortHandler keeps its meaning.
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "infiterra: panic", "method", r.Method, "path", r.URL.Path,
				"request_id", middleware.RequestIDFrom(r.Context()), "panic", fmt.Sprint(v))
			format.JSON(w, http.StatusInternalServerError, internalError())
		}
	}()

	rt, ok := s.match(r.URL.Path)
	if !ok {
		format.JSON(w, http.StatusNotFound, message{"No HTTP resource was found that matches the request URI '" + r.URL.Path + "'."})
		return
	}
	if !rt.allows(r.Method) {
		w.Header().Set("Allow", strings.Join(rt.methods(), ", "))
		format.JSON(w, http.StatusMethodNotAllowed, message{"The requested resource does not support http method '" + r.Method + "'."})
		return
	}

	ctx := r.Context()
	if err := s.failures.Check(w, r); err != nil {
		format.JSON(w, http.StatusTooManyRequests, message{MessageTooMany})
		return
	}
	inst, err := s.authenticate(ctx, r)
	if err != nil {
		s.failures.Record(r, err)
		if errs.KindOf(err) == errs.KindUnauthenticated {
			s.log.InfoContext(r.Context(), "infiterra: authorization denied", "path", r.URL.Path, "app_id", r.Header.Get(HeaderApplicationID),
				"track_id", r.Header.Get(HeaderTrackID), "err", err)
			format.JSON(w, http.StatusUnauthorized, message{MessageDenied})
			return
		}
		s.log.ErrorContext(ctx, "infiterra: authenticate", "path", r.URL.Path, "request_id", middleware.RequestIDFrom(ctx), "err", err)
		format.JSON(w, http.StatusInternalServerError, internalError())
		return
	}
	if s.limiter != nil {
		if ok, wait := s.limiter.Allow("infiterra:" + inst.AppID); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(ratelimit.RetryAfterSeconds(wait)))
			format.JSON(w, http.StatusTooManyRequests, message{MessageTooMany})
			return
		}
	}
	c := bss.Call{Inst: inst, TrackID: trackID(r), Settings: s.settings(ctx, r, inst)}

	in := request{checkOnly: queryCheckOnly(r)}
	if !rt.bare {
		in.body, err = io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil || len(in.body) > maxBody {
			// Too large or unreadable: the same answer as unparseable
			// JSON (nil body), which the operation gives.
			in.body = nil
		}
	}
	v, status, cause := rt.serve(s, ctx, c, in)
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	attrs := append([]any{"route", r.Method + " " + rt.path, "app_id", inst.AppID,
		"track_id", c.TrackID, "request_id", middleware.RequestIDFrom(ctx), "status", status}, outcome(v)...)
	level := slog.LevelInfo
	if status >= http.StatusInternalServerError {
		level = slog.LevelError
		if cause != nil {
			attrs = append(attrs, "err", cause)
		}
	}
	s.log.Log(ctx, level, "infiterra call", attrs...)
	s.log.DebugContext(ctx, "infiterra exchange", "route", rt.path, "track_id", c.TrackID, "request", string(in.body), "response", v)
	format.JSON(w, status, v)
}

// authenticate checks the two authorization headers; both must be present
// (the SDK's first rule), the rest is the service's.
func (s *server) authenticate(ctx context.Context, r *http.Request) (bss.Installation, error) {
	appID, key := strings.TrimSpace(r.Header.Get(HeaderApplicationID)), strings.TrimSpace(r.Header.Get(HeaderAPIKey))
	if appID == "" || key == "" {
		return bss.Installation{}, errs.New(errs.KindUnauthenticated, "missing "+HeaderApplicationID+" or "+HeaderAPIKey)
	}
	return s.svc.Authenticate(ctx, appID, key)
}

// trackID is the BSS's correlation id when it is safe to log and record,
// else the request id.
func trackID(r *http.Request) string {
	id := strings.TrimSpace(r.Header.Get(HeaderTrackID))
	if id == "" || len(id) > maxTrackID || strings.IndexFunc(id, func(c rune) bool { return c < 0x20 || c > 0x7e }) >= 0 {
		return middleware.RequestIDFrom(r.Context())
	}
	return id
}

// settings collects the X-CloudPlatform-Setting-<FieldID> headers keyed by
// field ID. Go canonicalises header names ("…-Setting-Icapikey"), so the ID
// is recovered by comparing it case-insensitively with the IDs fields/get
// declares; an undeclared one keeps the header's spelling. Repeated headers
// are one multi-value field, joined with "|" as the SDK splits them.
func (s *server) settings(ctx context.Context, r *http.Request, inst bss.Installation) map[string]string {
	var names []string
	for name := range r.Header {
		if len(name) > len(HeaderSettingPrefix) && strings.EqualFold(name[:len(HeaderSettingPrefix)], HeaderSettingPrefix) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	sort.Strings(names)
	declared := map[string]string{}
	for _, f := range s.svc.Settings(ctx, bss.Call{Inst: inst}) {
		declared[strings.ToLower(f.ID)] = f.ID
	}
	out := make(map[string]string, len(names))
	for _, name := range names {
		id := name[len(HeaderSettingPrefix):]
		if d, ok := declared[strings.ToLower(id)]; ok {
			id = d
		}
		var vals []string
		for _, v := range r.Header.Values(name) {
			vals = append(vals, strings.TrimSpace(v))
		}
		out[id] = strings.Join(vals, "|")
	}
	return out
}

// queryCheckOnly reports ?checkonly=true; the name and the value are
// compared case-insensitively (the docs call pre-check a "parameter").
func queryCheckOnly(r *http.Request) bool {
	for name, vals := range r.URL.Query() {
		if !strings.EqualFold(name, "checkonly") {
			continue
		}
		for _, v := range vals {
			if b, err := strconv.ParseBool(strings.ToLower(strings.TrimSpace(v))); err == nil && b {
				return true
			}
		}
	}
	return false
}

// ---- operations ----

func (s *server) fieldsGet(ctx context.Context, c bss.Call, _ request) (any, int, error) {
	return fieldCollection(s.svc.Settings(ctx, c)), http.StatusOK, nil
}

func (s *server) serviceDefinition(ctx context.Context, c bss.Call, _ request) (any, int, error) {
	return productTypes(s.svc.Catalog(ctx, c)), http.StatusOK, nil
}

func (s *server) syncOptions(ctx context.Context, c bss.Call, _ request) (any, int, error) {
	return customFields(s.svc.AccountOptions(ctx, c), false), http.StatusOK, nil
}

// fieldsValidate answers a list of problems; an unreadable body is one
// problem, since the endpoint's answer has no envelope to carry a Code.
func (s *server) fieldsValidate(ctx context.Context, c bss.Call, in request) (any, int, error) {
	var fc FieldCollection
	if err := decode(in.body, &fc); err != nil {
		return []string{MessageInvalidBody}, http.StatusOK, nil
	}
	problems := s.svc.ValidateSettings(ctx, c, fc.Values())
	if problems == nil {
		problems = []string{} // [] = valid; null would not be a list
	}
	return problems, http.StatusOK, nil
}

func account[T any](op func(Service, context.Context, bss.Call, bss.AccountInput) (bss.Outcome, error),
	render func(resultDefinition, bss.Outcome) T) func(*server, context.Context, bss.Call, request) (any, int, error) {
	return func(s *server, ctx context.Context, c bss.Call, in request) (any, int, error) {
		var def AccountDefinition
		if err := decode(in.body, &def); err != nil {
			return invalidBody(), http.StatusOK, nil
		}
		out, err := op(s.svc, ctx, c, def.Input())
		return answer(out, err, render)
	}
}

func service(op func(Service, context.Context, bss.Call, string, bss.SubscriptionInput, bool) (bss.Outcome, error), action string) func(*server, context.Context, bss.Call, request) (any, int, error) {
	return func(s *server, ctx context.Context, c bss.Call, in request) (any, int, error) {
		var def ServiceDefinition
		if err := decode(in.body, &def); err != nil {
			return invalidBody(), http.StatusOK, nil
		}
		out, err := op(s.svc, ctx, c, action, def.Input(), def.CheckOnly || in.checkOnly)
		return answer(out, err, serviceResult)
	}
}

// decode reads a JSON object (not null, not an array, nothing after it)
// into v; names match case-insensitively and unknown fields are ignored.
// The SDK's model needs encoding/json's leniency (Newtonsoft reads names
// in any case, enums as names or integers: model.go), which the shared
// decoder's strict typed rules do not give.
func decode(body []byte, v any) error {
	b := bytes.TrimSpace(body)
	if len(b) == 0 || b[0] != '{' {
		return errors.New("not a JSON object")
	}
	return json.Unmarshal(b, v)
}

// ---- answers ----

// message is Web API's error body (401, 404, 405).
type message struct {
	Message string `json:"Message"`
}

// WriteError writes err in the dialect's shape outside its handler (the
// server's panic recovery and unknown routes): 401 and 404 as Web API
// words them, anything else the 500 envelope.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	switch errs.KindOf(err) {
	case errs.KindUnauthenticated:
		format.JSON(w, http.StatusUnauthorized, message{MessageDenied})
	case errs.KindNotFound:
		format.JSON(w, http.StatusNotFound, message{"No HTTP resource was found that matches the request URI '" + r.URL.Path + "'."})
	case errs.KindInvalid:
		// Text no field may hold (a NUL byte, invalid UTF-8, an over-long
		// value), refused before the call is read: the envelope, naming
		// the field.
		format.JSON(w, http.StatusBadRequest, resultDefinition{Code: -1, Message: errs.Public(err)})
	default:
		format.JSON(w, http.StatusInternalServerError, internalError())
	}
}

// format writes UTF-8 JSON without HTML escaping; a value that cannot be
// encoded is the 500 envelope.
var format = wire.Format{ContentType: contentType, Shape: func(wire.Failure) any { return internalError() }}
