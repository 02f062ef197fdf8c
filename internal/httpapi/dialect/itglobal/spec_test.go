package itglobal_test

import (
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/itglobal"
)

type specOp struct {
	OperationID string   `json:"operationId"`
	Roles       []string `json:"x-roles"`
	Feature     string   `json:"x-feature"`
	Inferred    bool     `json:"x-inferred"`
	Deprecated  bool     `json:"deprecated"`
	RequestBody *struct {
		Content map[string]struct {
			Schema struct {
				Ref string `json:"$ref"`
			} `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
}

type specDoc struct {
	Info struct {
		Description string `json:"description"`
	} `json:"info"`
	Paths map[string]map[string]specOp `json:"paths"`
}

func loadSpec(t *testing.T) specDoc {
	t.Helper()
	var d specDoc
	if err := json.Unmarshal(itglobal.Spec(), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestSpecValid: the document is valid OpenAPI 3.0.3 (the validator
// loads and validates it) with 54 operations.
func TestSpecValid(t *testing.T) {
	t.Parallel()
	v := apitest.NewValidator(t, itglobal.Spec())
	if n := len(v.Uncovered()); n != 54 {
		t.Fatalf("%d operations in the spec, want 54", n)
	}
}

// TestRouteTableMatchesSpec: the route table and the document list the
// same operations with the same roles, feature and inferred flag, and the
// description lists every inferred path.
func TestRouteTableMatchesSpec(t *testing.T) {
	t.Parallel()
	d := loadSpec(t)
	routes := itglobal.Routes()
	if len(routes) != 54 {
		t.Fatalf("%d routes, want 54", len(routes))
	}
	seen := map[string]bool{}
	for i, r := range routes {
		if want := "IT-" + itoa(i+1); r.ID != want {
			t.Errorf("route %d is %s, want %s (the seed's order)", i, r.ID, want)
		}
		op, ok := d.Paths[r.Path][strings.ToLower(r.Method)]
		if !ok {
			t.Errorf("%s %s %s: not in the spec", r.ID, r.Method, r.Path)
			continue
		}
		seen[r.Method+" "+r.Path] = true
		if op.OperationID != "it"+strings.TrimPrefix(r.ID, "IT-") {
			t.Errorf("%s: operationId %s", r.ID, op.OperationID)
		}
		if !slices.Equal(op.Roles, r.Roles) || op.Feature != r.Feature || op.Inferred != r.Inferred {
			t.Errorf("%s: spec roles %v feature %q inferred %t; table %v %q %t", r.ID, op.Roles, op.Feature, op.Inferred,
				r.Roles, r.Feature, r.Inferred)
		}
		line := "- " + r.ID + " `" + r.Method + " /v2" + r.Path + "`"
		if r.Inferred {
			line += " [inferred]"
		}
		if !strings.Contains(d.Info.Description, line+" (") {
			t.Errorf("%s: info.description does not list %q", r.ID, line)
		}
	}
	for path, ops := range d.Paths {
		for m := range ops {
			if !seen[strings.ToUpper(m)+" "+path] {
				t.Errorf("spec operation %s %s is not in the route table", m, path)
			}
		}
	}
	for _, kw := range []string{"IT-amb-3", "IT-amb-4", "IT-amb-5", "IT-amb-7", "IT-amb-9", "IT-amb-11", "IT-amb-12", "IT-amb-14", "IT-amb-20"} {
		if !strings.Contains(d.Info.Description, kw) {
			t.Errorf("info.description does not state the decision %s", kw)
		}
	}
}

// TestRouteOf names the route pattern of a request, or "".
func TestRouteOf(t *testing.T) {
	t.Parallel()
	of := itglobal.RouteOf()
	for _, c := range []struct{ method, path, want string }{
		{"GET", "/itglobal/v2/operations/projects/by-day", "GET /itglobal/v2/operations/projects/by-day"},
		{"GET", "/itglobal/v2/operations/projects/12", "GET /itglobal/v2/operations/projects/{id}"},
		{"DELETE", "/itglobal/v2/simpleone/accounts/by-user", "DELETE /itglobal/v2/simpleone/accounts/by-user"},
		{"DELETE", "/itglobal/v2/simpleone/accounts/abc", "DELETE /itglobal/v2/simpleone/accounts/{accountId}"},
		{"GET", "/itglobal/v2/nope", ""},
	} {
		if got := of(httptest.NewRequest(c.method, c.path, nil)); got != c.want {
			t.Errorf("%s %s: %q, want %q", c.method, c.path, got, c.want)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
