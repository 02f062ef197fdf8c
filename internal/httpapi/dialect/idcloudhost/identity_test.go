package idcloudhost_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/idcloudhost"
	"github.com/trellis-cloud/trellis/internal/httpapi/ratelimit"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

var secretRE = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)

type tokenBody struct {
	BillingAccountID int64   `json:"billing_account_id"`
	ConsumerID       string  `json:"consumer_id"`
	CreatedAt        string  `json:"created_at"`
	Description      string  `json:"description"`
	ID               int64   `json:"id"`
	KongID           string  `json:"kong_id"`
	Restricted       bool    `json:"restricted"`
	Token            string  `json:"token"`
	UpdatedAt        *string `json:"updated_at"`
	UserID           int64   `json:"user_id"`
}

// TestIdentitySeedRequests sends the seed's user, token and location curl
// examples verbatim and compares the answers with the seed's samples.
func TestIdentitySeedRequests(t *testing.T) {
	t.Parallel()
	v := apitest.NewValidator(t, idcloudhost.Spec())
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, v)

		// ID-1: the sample, except the avatar (a real Gravatar URL of the
		// e-mail instead of the seed's placeholder).
		resp := f.send(t, keyUser, readSeedRequest(t, "getUser"))
		wantStatus(t, resp, http.StatusOK)
		got := decode[map[string]any](t, resp)
		want := sample(t, "getUser").(map[string]any)
		if a := got["profile_data"].(map[string]any)["avatar"].(string); a != access.Gravatar("user@example.com") {
			t.Errorf("avatar %q", a)
		}
		got["profile_data"].(map[string]any)["avatar"] = want["profile_data"].(map[string]any)["avatar"]
		// The call itself is the user's latest activity.
		want["last_activity"] = "2026-03-02 09:30:00"
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("getUser (-sample +got):\n%s", d)
		}

		// ID-7: exactly the sample.
		resp = f.send(t, keyUser, readSeedRequest(t, "listLocations"))
		wantStatus(t, resp, http.StatusOK)
		if d := cmp.Diff(sample(t, "listLocations"), decode[any](t, resp)); d != "" {
			t.Errorf("listLocations (-sample +got):\n%s", d)
		}

		// ID-6: the sample, with masked secrets.
		resp = f.send(t, keyUser, readSeedRequest(t, "listTokens"))
		wantStatus(t, resp, http.StatusOK)
		wantTokens := sample(t, "listTokens").([]any)
		for _, tok := range wantTokens {
			m := tok.(map[string]any)
			m["token"] = m["token"].(string)[:4] + strings.Repeat("*", 28)
		}
		if d := cmp.Diff(wantTokens, decode[any](t, resp)); d != "" {
			t.Errorf("listTokens (-sample, masked +got):\n%s", d)
		}

		// ID-5: all tokens; the new one restricted to 6 with its secret,
		// which then authenticates as restricted.
		f.clk.Advance(time.Hour)
		resp = f.send(t, keyUser, readSeedRequest(t, "createToken"))
		wantStatus(t, resp, http.StatusOK)
		toks := decode[[]tokenBody](t, resp)
		if len(toks) != 3 || toks[0].ID != 2 || toks[1].ID != 7 {
			t.Fatalf("createToken: %s", resp.Body)
		}
		nt := toks[2]
		if nt.ID != 9 || !nt.Restricted || nt.BillingAccountID != 6 || nt.Description != "Token Description" ||
			!secretRE.MatchString(nt.Token) || nt.UserID != 8 || nt.ConsumerID != toks[0].ConsumerID ||
			nt.CreatedAt != "2026-03-02 10:30:00" || nt.UpdatedAt != nil || strings.Contains(toks[0].Token+toks[1].Token, nt.Token) {
			t.Fatalf("new token: %+v", nt)
		}
		if strings.Contains(toks[0].Token, "vYNKd8VWHg583sTkAZ8vKbyVtyXWILXn") || toks[0].Token != "vYNK"+strings.Repeat("*", 28) {
			t.Fatalf("an old token's secret is shown: %q", toks[0].Token)
		}
		resp = f.form(t, nt.Token, "GET", "/user-resource/user", "")
		wantStatus(t, resp, http.StatusOK)
		resp = f.form(t, nt.Token, "GET", "/user-resource/token/list", "")
		wantStatus(t, resp, http.StatusOK)

		// ID-4 and ID-3 as the seed sends them: tokens 3 and 0 do not exist,
		// the answers are errors as the samples show (in the seed's shape).
		resp = f.send(t, keyUser, readSeedRequest(t, "updateToken"))
		wantStatus(t, resp, http.StatusNotFound)
		if msg := errorMessage(t, resp); msg != "token_id: no such token" {
			t.Errorf("updateToken of token 3: %q", msg)
		}
		resp = f.send(t, keyUser, readSeedRequest(t, "deleteToken"))
		wantStatus(t, resp, http.StatusNotFound)

		// ... and on an existing token: the seed's update, then delete.
		resp = f.form(t, keyUser, "PATCH", "/user-resource/token", "description=Description changed&restricted=false&token_id="+itoa(nt.ID))
		wantStatus(t, resp, http.StatusOK)
		upd := decode[tokenBody](t, resp)
		if upd.ID != nt.ID || upd.Restricted || upd.BillingAccountID != 6 || upd.Description != "Description changed" ||
			upd.UpdatedAt == nil || *upd.UpdatedAt != "2026-03-02 10:30:00" || upd.Token != nt.Token[:4]+strings.Repeat("*", 28) {
			t.Fatalf("updated token: %+v", upd)
		}
		resp = f.form(t, nt.Token, "GET", "/user-resource/user", "") // no longer restricted, still valid
		wantStatus(t, resp, http.StatusOK)
		resp = f.form(t, keyUser, "DELETE", "/user-resource/token", "token_id="+itoa(nt.ID))
		wantStatus(t, resp, http.StatusOK)
		if string(resp.Body) != "{\"success\":true}\n" {
			t.Fatalf("delete: %s", resp.Body)
		}
		resp = f.form(t, nt.Token, "GET", "/user-resource/user", "")
		wantStatus(t, resp, http.StatusUnauthorized)

		// ID-2: the seed's "+98765" arrives as " 98765" (unencoded form);
		// values are trimmed.
		f.clk.Advance(time.Minute)
		resp = f.send(t, keyUser, readSeedRequest(t, "updateUserProfile"))
		wantStatus(t, resp, http.StatusOK)
		prof := decode[map[string]any](t, resp)
		wantProf := sample(t, "updateUserProfile").(map[string]any)
		wantProf["avatar"], wantProf["phone_number"], wantProf["updated_at"] = access.Gravatar("user@example.com"), "98765", "2026-03-02 10:31:00"
		if d := cmp.Diff(wantProf, prof); d != "" {
			t.Errorf("updateUserProfile (-want +got):\n%s", d)
		}
		// Encoded, the "+" survives.
		resp = f.form(t, keyUser, "PATCH", "/user-resource/user/profile", "phone_number=%2B98765")
		wantStatus(t, resp, http.StatusOK)
		if p := decode[map[string]any](t, resp); p["phone_number"] != "+98765" || p["first_name"] != "Cloudia" {
			t.Errorf("profile: %v", p)
		}
	})
	for _, op := range v.Uncovered() {
		switch op {
		case "GET /user-resource/user", "PATCH /user-resource/user/profile", "DELETE /user-resource/token",
			"PATCH /user-resource/token", "POST /user-resource/token", "GET /user-resource/token/list", "GET /config/locations":
			t.Errorf("operation never answered with success: %s", op)
		}
	}
}

// TestAuthentication: the apikey header (any letter case), 401 in the
// seed's error shape, restricted tokens.
func TestAuthentication(t *testing.T) {
	t.Parallel()
	v := apitest.NewValidator(t, idcloudhost.Spec())
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d, v)
		for _, c := range []struct {
			name   string
			header http.Header
			status int
		}{
			{"missing", http.Header{}, http.StatusUnauthorized},
			{"empty", http.Header{"Apikey": {""}}, http.StatusUnauthorized},
			{"wrong", http.Header{"Apikey": {"meowmeowmeow"}}, http.StatusUnauthorized},
			{"wrong, right length", http.Header{"Apikey": {strings.Repeat("a", 32)}}, http.StatusUnauthorized},
			{"bearer is not apikey", http.Header{"Authorization": {"Bearer " + keyUser}}, http.StatusUnauthorized},
			{"lower case", http.Header{"apikey": {keyUser}}, http.StatusOK},
			{"upper case", http.Header{"APIKEY": {keyUser}}, http.StatusOK},
		} {
			h := http.Header{}
			for k, vs := range c.header {
				for _, x := range vs {
					h.Add(k, x) // Add canonicalises the name as a server would see it
				}
			}
			resp := f.v.Do(t, f.h, apitest.Request{Method: "GET", Path: prefix + "/user-resource/user", Header: h})
			if resp.Status != c.status {
				t.Errorf("%s: status %d: %s", c.name, resp.Status, resp.Body)
			}
			if c.status == http.StatusUnauthorized && errorMessage(t, resp) == "" {
				t.Errorf("%s: no message", c.name)
			}
		}

		// A restricted token works but cannot manage tokens: 403 in the
		// gateway's shape.
		resp := f.form(t, keyRestricted, "GET", "/user-resource/user", "")
		wantStatus(t, resp, http.StatusOK)
		for _, c := range []struct{ method, path, body string }{
			{"POST", "/user-resource/token", "description=x"},
			{"PATCH", "/user-resource/token", "token_id=7&restricted=false"},
			{"DELETE", "/user-resource/token", "token_id=2"},
		} {
			resp := f.form(t, keyRestricted, c.method, c.path, c.body)
			wantStatus(t, resp, http.StatusForbidden)
			var body map[string]map[string]map[string]string
			if err := json.Unmarshal(resp.Body, &body); err != nil ||
				body["errors"]["consumer::resource_forbidden"]["subtype"] != "resource_forbidden" {
				t.Fatalf("%s %s: %s", c.method, c.path, resp.Body)
			}
		}
		// The other user sees only its own tokens and cannot bind a token
		// to user 8's account (404, like a missing one).
		resp = f.form(t, f.otherKey, "GET", "/user-resource/token/list", "")
		wantStatus(t, resp, http.StatusOK)
		if toks := decode[[]tokenBody](t, resp); len(toks) != 1 || toks[0].UserID == access.DemoIDCHUserID {
			t.Fatalf("other user's tokens: %s", resp.Body)
		}
		resp = f.form(t, f.otherKey, "POST", "/user-resource/token", "restricted=true&billing_account_id=6")
		wantStatus(t, resp, http.StatusNotFound)
		resp = f.form(t, f.otherKey, "PATCH", "/user-resource/token", "token_id=2&description=mine")
		wantStatus(t, resp, http.StatusNotFound)
		resp = f.form(t, f.otherKey, "DELETE", "/user-resource/token", "token_id=7")
		wantStatus(t, resp, http.StatusNotFound)
		resp = f.form(t, keyUser, "GET", "/user-resource/token/list", "")
		if toks := decode[[]tokenBody](t, resp); len(toks) != 2 || toks[0].Description != "hea token" {
			t.Fatalf("user 8's tokens changed: %s", resp.Body)
		}
	})
}

// TestParameterBag: query, form (on DELETE and GET too) and JSON bodies
// alike, precedence, typed errors that name the field.
func TestParameterBag(t *testing.T) {
	t.Parallel()
	v := apitest.NewValidator(t, idcloudhost.Spec())
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d, v)
		create := func(req apitest.Request) tokenBody {
			t.Helper()
			resp := f.do(t, keyUser, req)
			wantStatus(t, resp, http.StatusOK)
			toks := decode[[]tokenBody](t, resp)
			return toks[len(toks)-1]
		}
		// JSON with JSON types, and FlexBoolean strings.
		tok := create(apitest.Request{Method: "POST", Path: prefix + "/user-resource/token",
			Body: []byte(`{"description": "json", "restricted": true, "billing_account_id": 9}`)})
		if !tok.Restricted || tok.BillingAccountID != 9 || tok.Description != "json" {
			t.Fatalf("JSON create: %+v", tok)
		}
		tok = create(apitest.Request{Method: "POST", Path: prefix + "/user-resource/token",
			Body: []byte(`{"description": "json2", "restricted": "True", "billing_account_id": 6}`)})
		if !tok.Restricted || tok.BillingAccountID != 6 {
			t.Fatalf("JSON create with a string boolean: %+v", tok)
		}
		// Query only.
		tok = create(apitest.Request{Method: "POST", Path: prefix + "/user-resource/token?description=q&restricted=yes&billing_account_id=6"})
		if tok.Description != "q" || !tok.Restricted {
			t.Fatalf("query create: %+v", tok)
		}
		// The body wins over the query.
		resp := f.form(t, keyUser, "PATCH", "/user-resource/token?token_id=2&description=query", "token_id="+itoa(tok.ID)+"&description=body")
		wantStatus(t, resp, http.StatusOK)
		if got := decode[tokenBody](t, resp); got.ID != tok.ID || got.Description != "body" {
			t.Fatalf("precedence: %+v", got)
		}
		// JSON wins over the query too; DELETE reads its JSON body.
		resp = f.do(t, keyUser, apitest.Request{Method: "DELETE", Path: prefix + "/user-resource/token?token_id=2",
			Body: []byte(`{"token_id": ` + itoa(tok.ID) + `}`)})
		wantStatus(t, resp, http.StatusOK)
		resp = f.form(t, keyUser, "GET", "/user-resource/user", "") // token 2 still works
		wantStatus(t, resp, http.StatusOK)
		// DELETE with the id in the query string.
		resp = f.do(t, keyUser, apitest.Request{Method: "DELETE", Path: prefix + "/user-resource/token?token_id=" + itoa(tok.ID-1)})
		wantStatus(t, resp, http.StatusOK)
		// multipart form.
		resp = f.do(t, keyUser, apitest.Request{Method: "PATCH", Path: prefix + "/user-resource/user/profile",
			Header: http.Header{"Content-Type": {"multipart/form-data; boundary=XX"}},
			Body:   []byte("--XX\r\nContent-Disposition: form-data; name=\"last_name\"\r\n\r\nMultipart\r\n--XX--\r\n"),
			// The spec declares url-encoded and JSON bodies only.
			ExpectInvalidRequest: true})
		wantStatus(t, resp, http.StatusOK)
		if p := decode[map[string]any](t, resp); p["last_name"] != "Multipart" {
			t.Fatalf("multipart: %v", p)
		}

		// Bad input: 400 naming the field; nothing changes.
		for _, c := range []struct {
			req     apitest.Request
			field   string
			invalid bool // the spec refuses it too
		}{
			{apitest.Request{Method: "DELETE", Path: prefix + "/user-resource/token", Body: []byte("token_id=abc"),
				Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}}, "token_id", true},
			{apitest.Request{Method: "DELETE", Path: prefix + "/user-resource/token", Body: []byte("token_id=-1"),
				Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}}, "token_id", true},
			{apitest.Request{Method: "DELETE", Path: prefix + "/user-resource/token", Body: []byte(`{"token_id": 1.5}`)}, "token_id", true},
			{apitest.Request{Method: "DELETE", Path: prefix + "/user-resource/token"}, "token_id", false},
			{apitest.Request{Method: "POST", Path: prefix + "/user-resource/token", Body: []byte("restricted=maybe"),
				Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}}, "restricted", true},
			{apitest.Request{Method: "POST", Path: prefix + "/user-resource/token", Body: []byte("restricted=true"),
				Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}}, "billing_account_id", false},
			{apitest.Request{Method: "POST", Path: prefix + "/user-resource/token", Body: []byte(`[1]`)}, "body", true},
			{apitest.Request{Method: "POST", Path: prefix + "/user-resource/token", Body: []byte(`{"description": 1`)}, "body", true},
			{apitest.Request{Method: "POST", Path: prefix + "/user-resource/token", Body: []byte("description=x"),
				Header: http.Header{"Content-Type": {"text/plain"}}}, "Content-Type", true},
			{apitest.Request{Method: "PATCH", Path: prefix + "/user-resource/user/profile", Body: []byte(`{"first_name": {"a": 1}}`)}, "first_name", true},
			{apitest.Request{Method: "PATCH", Path: prefix + "/user-resource/user/profile", Body: []byte("first_name=a%01b"),
				Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}}, "first_name", false},
		} {
			c.req.ExpectInvalidRequest = c.invalid
			resp := f.do(t, keyUser, c.req)
			if resp.Status != http.StatusBadRequest {
				t.Errorf("%s %s %s: status %d: %s", c.req.Method, c.req.Path, c.req.Body, resp.Status, resp.Body)
				continue
			}
			if msg := errorMessage(t, resp); c.field != "" && !strings.HasPrefix(msg, c.field+": ") {
				t.Errorf("%s %s: message %q does not name %s", c.req.Method, c.req.Body, msg, c.field)
			}
		}
		resp = f.form(t, keyUser, "GET", "/user-resource/token/list", "")
		if toks := decode[[]tokenBody](t, resp); len(toks) != 3 {
			t.Fatalf("tokens after bad input: %s", resp.Body)
		}
	})
}

func itoa(n int64) string { return strings.TrimSpace(string(must(json.Marshal(n)))) }

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestIdempotencyKey: a create replayed with the same key creates one
// token and answers the first response again; the same key with another
// body is a 409.
func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	v := apitest.NewValidator(t, idcloudhost.Spec())
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d, v)
		req := func(body string) apitest.Request {
			return apitest.Request{Method: "POST", Path: prefix + "/user-resource/token", Body: []byte(body),
				Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Idempotency-Key": {"k1"}}}
		}
		var wg sync.WaitGroup
		bodies := make([]string, 10)
		for i := range bodies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp := f.do(t, keyUser, req("description=once"))
				if resp.Status == http.StatusOK {
					bodies[i] = string(resp.Body)
				} else if resp.Status != http.StatusConflict { // still in progress
					t.Errorf("replay: %d %s", resp.Status, resp.Body)
				}
			}()
		}
		wg.Wait()
		first := ""
		for _, b := range bodies {
			if b != "" && first == "" {
				first = b
			}
			if b != "" && b != first {
				t.Fatalf("replays differ:\n%s\n%s", first, b)
			}
		}
		resp := f.do(t, keyUser, req("description=once"))
		wantStatus(t, resp, http.StatusOK)
		if string(resp.Body) != first || resp.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay: %s", resp.Body)
		}
		resp = f.do(t, keyUser, req("description=twice"))
		wantStatus(t, resp, http.StatusConflict)
		resp = f.form(t, keyUser, "GET", "/user-resource/token/list", "")
		if toks := decode[[]tokenBody](t, resp); len(toks) != 3 {
			t.Fatalf("%d tokens after replays, want 3", len(toks))
		}
	})
}

// TestRateLimit: per token, 429 in the seed's error shape.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	v := apitest.NewValidator(t, idcloudhost.Spec())
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		lim := ratelimit.New(0.001, 2, time.Now)
		f := newFixture(t, d, v, withLimiter(lim))
		for i := 0; i < 2; i++ {
			wantStatus(t, f.form(t, keyUser, "GET", "/config/locations", ""), http.StatusOK)
		}
		resp := f.form(t, keyUser, "GET", "/config/locations", "")
		wantStatus(t, resp, http.StatusTooManyRequests)
		if resp.Header.Get("Retry-After") == "" || errorMessage(t, resp) == "" {
			t.Fatalf("429: %v %s", resp.Header, resp.Body)
		}
		// Another token has its own bucket.
		wantStatus(t, f.form(t, keyRestricted, "GET", "/config/locations", ""), http.StatusOK)
	})
}

// TestRoutes: unknown routes and methods in the seed's error shape, route
// labels for metrics, and last_activity written at most once a minute.
func TestRoutes(t *testing.T) {
	t.Parallel()
	v := apitest.NewValidator(t, idcloudhost.Spec())
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d, v)
		resp := f.do(t, keyUser, apitest.Request{Method: "GET", Path: prefix + "/no/such/route", AllowUnknownRoute: true})
		wantStatus(t, resp, http.StatusNotFound)
		errorMessage(t, resp)
		resp = f.do(t, keyUser, apitest.Request{Method: "PUT", Path: prefix + "/user-resource/token", AllowUnknownRoute: true})
		wantStatus(t, resp, http.StatusMethodNotAllowed)
		if resp.Header.Get("Allow") != "POST, PATCH, DELETE" {
			t.Fatalf("Allow: %q", resp.Header.Get("Allow"))
		}

		routeOf := idcloudhost.RouteOf()
		for path, want := range map[string]string{
			prefix + "/user-resource/token/list": "GET " + prefix + "/user-resource/token/list",
			prefix + "/nope":                     "",
		} {
			r, _ := http.NewRequest("GET", path, nil)
			if got := routeOf(r); got != want {
				t.Errorf("route of %s = %q, want %q", path, got, want)
			}
		}

		user := func() access.IDCHUser {
			u, err := f.idn.GetUser(f.ctx, sys, access.DemoIDCHUserID)
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		wantStatus(t, f.form(t, keyUser, "GET", "/config/locations", ""), http.StatusOK)
		if got := user().LastActivity; !got.Equal(t0) {
			t.Fatalf("last_activity %v after the first call", got)
		}
		f.clk.Advance(30 * time.Second)
		wantStatus(t, f.form(t, keyUser, "GET", "/config/locations", ""), http.StatusOK)
		if got := user().LastActivity; !got.Equal(t0) {
			t.Fatalf("last_activity %v moved within a minute", got)
		}
		f.clk.Advance(31 * time.Second)
		wantStatus(t, f.form(t, keyUser, "GET", "/config/locations", ""), http.StatusOK)
		if got := user().LastActivity; !got.Equal(t0.Add(61 * time.Second)) {
			t.Fatalf("last_activity %v after a minute", got)
		}
	})
}
