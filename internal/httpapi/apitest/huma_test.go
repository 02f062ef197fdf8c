package apitest_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
)

type thing struct {
	ID    string  `json:"id" format:"uuid"`
	Name  string  `json:"name" minLength:"1" maxLength:"20"`
	Count int64   `json:"count" minimum:"0"`
	Note  *string `json:"note,omitempty" nullable:"true"`
}

type getThingInput struct {
	ID string `path:"id" format:"uuid"`
}

type thingOutput struct {
	Body thing
}

type createThingInput struct {
	Body struct {
		Name  string `json:"name" minLength:"1" maxLength:"20"`
		Count int64  `json:"count" minimum:"0"`
	}
}

// tinyHumaAPI mirrors how the native API is built: huma on a net/http
// ServeMux under a prefix, OpenAPI 3.1 downgraded to 3.0.3 for the
// validator.
func tinyHumaAPI(t *testing.T) (http.Handler, []byte) {
	t.Helper()
	mux := http.NewServeMux()
	api := humago.NewWithPrefix(mux, "/native/v1", huma.DefaultConfig("Tiny", "1.0.0"))
	huma.Register(api, huma.Operation{OperationID: "getThing", Method: http.MethodGet, Path: "/things/{id}"},
		func(_ context.Context, in *getThingInput) (*thingOutput, error) {
			return &thingOutput{Body: thing{ID: in.ID, Name: "a", Count: 1}}, nil
		})
	huma.Register(api, huma.Operation{OperationID: "createThing", Method: http.MethodPost, Path: "/things",
		DefaultStatus: http.StatusCreated},
		func(_ context.Context, in *createThingInput) (*thingOutput, error) {
			return &thingOutput{Body: thing{ID: "0b3a6c1e-6a43-4d7e-9a39-1b9a2b0f5c11", Name: in.Body.Name, Count: in.Body.Count}}, nil
		})
	spec, err := api.OpenAPI().Downgrade()
	if err != nil {
		t.Fatal(err)
	}
	return mux, spec
}

func TestHumaDowngradedSpec(t *testing.T) {
	t.Parallel()
	h, spec := tinyHumaAPI(t)
	v := apitest.NewValidator(t, spec)
	const id = "0b3a6c1e-6a43-4d7e-9a39-1b9a2b0f5c11"

	// Good exchanges, checked against the real t: any report fails the test.
	if r := v.Do(t, h, apitest.Request{Method: "GET", Path: "/native/v1/things/" + id}); r.Status != http.StatusOK {
		t.Fatalf("GET = %d %s", r.Status, r.Body)
	}
	if r := v.Do(t, h, apitest.Request{Method: "POST", Path: "/native/v1/things", Body: []byte(`{"name":"b","count":2}`)}); r.Status != http.StatusCreated {
		t.Fatalf("POST = %d %s", r.Status, r.Body)
	}
	if got := v.Uncovered(); len(got) != 0 {
		t.Errorf("uncovered = %q", got)
	}

	// A bad request declared as such: huma's 422 problem+json response
	// must match the spec's default error response.
	for _, body := range []string{`{"name":"","count":2}`, `{"name":"b","count":"2"}`, `{"name":"b","count":-1}`} {
		r := v.Do(t, h, apitest.Request{Method: "POST", Path: "/native/v1/things", Body: []byte(body), ExpectInvalidRequest: true})
		if r.Status != http.StatusUnprocessableEntity {
			t.Errorf("POST %s = %d %s", body, r.Status, r.Body)
		}
	}
	// Invalid path parameter format, declared.
	v.Do(t, h, apitest.Request{Method: "GET", Path: "/native/v1/things/nope", ExpectInvalidRequest: true})

	// Bad responses are reported.
	rec := &recorder{TB: t}
	get := apitest.Request{Method: "GET", Path: "/native/v1/things/" + id}
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	v.Check(rec, get, apitest.Response{Status: 200, Header: jsonCT, Body: []byte(`{"id":"` + id + `","name":"a","count":"1"}`)})
	wantReported(t, rec.reported(), "response does not match the spec")

	rec = &recorder{TB: t}
	v.Check(rec, get, apitest.Response{Status: 200, Header: jsonCT, Body: []byte(`{"id":"` + id + `","count":1}`)})
	wantReported(t, rec.reported(), "name")

	// The nullable field survives the downgrade (type ["string","null"] in 3.1).
	rec = &recorder{TB: t}
	v.Check(rec, get, apitest.Response{Status: 200, Header: jsonCT, Body: []byte(`{"id":"` + id + `","name":"a","count":1,"note":null}`)})
	wantClean(t, rec.reported())
}
