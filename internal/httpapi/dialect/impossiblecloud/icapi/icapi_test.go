package icapi_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/impossiblecloud/icapi"
)

// stub implements only the operations under test; calling any other
// method panics on the nil embedded interface.
type stub struct {
	icapi.ServerInterface
	partner openapi_types.UUID
}

func (s *stub) DeletePartner(w http.ResponseWriter, _ *http.Request, partnerID openapi_types.UUID) {
	s.partner = partnerID
	w.WriteHeader(http.StatusNoContent)
}

func (s *stub) ListStorageAccounts(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusOK)
}

func (s *stub) GetStorageAccount(w http.ResponseWriter, _ *http.Request, _ string) {
	w.WriteHeader(http.StatusTeapot)
}

// TestHandlerWithOptions pins the generated-router behaviour the dialect
// relies on: Go 1.22 method patterns under a base URL on a caller's mux,
// uuid path parameters parsed by the wrapper, and parse errors routed to
// ErrorHandlerFunc.
func TestHandlerWithOptions(t *testing.T) {
	t.Parallel()
	s := &stub{}
	mux := http.NewServeMux()
	var handlerErr error
	icapi.HandlerWithOptions(s, icapi.StdHTTPServerOptions{
		BaseURL:    "/impossiblecloud/v1",
		BaseRouter: mux,
		ErrorHandlerFunc: func(w http.ResponseWriter, _ *http.Request, err error) {
			handlerErr = err
			w.WriteHeader(http.StatusUnprocessableEntity)
		},
	})

	cases := []struct {
		method, path string
		want         int
	}{
		{http.MethodDelete, "/impossiblecloud/v1/partner/0b3a6c1e-6a43-4d7e-9a39-1b9a2b0f5c11", http.StatusNoContent},
		{http.MethodDelete, "/impossiblecloud/v1/partner/not-a-uuid", http.StatusUnprocessableEntity},
		// The literal segment wins over {accountID}.
		{http.MethodGet, "/impossiblecloud/v1/storage-account/list", http.StatusOK},
		{http.MethodGet, "/impossiblecloud/v1/storage-account/abc", http.StatusTeapot},
		{http.MethodPost, "/impossiblecloud/v1/storage-account/list", http.StatusMethodNotAllowed},
		{http.MethodGet, "/storage-account/list", http.StatusNotFound},
	}
	for _, c := range cases {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
		if rec.Code != c.want {
			t.Errorf("%s %s = %d, want %d", c.method, c.path, rec.Code, c.want)
		}
	}
	if s.partner.String() != "0b3a6c1e-6a43-4d7e-9a39-1b9a2b0f5c11" {
		t.Errorf("partnerID = %s", s.partner)
	}
	var formatErr *icapi.InvalidParamFormatError
	if !errors.As(handlerErr, &formatErr) {
		t.Errorf("ErrorHandlerFunc got %T, want *InvalidParamFormatError", handlerErr)
	}
}
