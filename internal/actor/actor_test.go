package actor

import (
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/errs"
)

func TestScopeAndRoles(t *testing.T) {
	t.Parallel()
	var zero Actor
	if strings.HasPrefix("/any/path/", zero.Scope()) || zero.Sees("/any/") {
		t.Fatal("a zero actor's scope matches an org path")
	}
	if err := zero.Require(Viewer); !errs.Is(err, errs.KindForbidden) {
		t.Fatalf("zero actor passed a role check: %v", err)
	}
	d := Actor{OrgPath: "/p/d/", OrgKind: Distributor, Role: Staff}
	if !d.Sees("/p/d/x/") || d.Sees("/p/other/") || d.Sees("/p/") {
		t.Fatal("subtree check")
	}
	for _, tc := range []struct {
		role, min Role
		ok        bool
	}{{Admin, Staff, true}, {Staff, Staff, true}, {Viewer, Staff, false}, {Staff, Admin, false}, {"", Viewer, false}} {
		if err := (Actor{Role: tc.role}).Require(tc.min); (err == nil) != tc.ok {
			t.Errorf("%s requiring %s: %v", tc.role, tc.min, err)
		}
	}
	if err := d.RequireKind(Partner); !errs.Is(err, errs.KindForbidden) || !strings.Contains(err.Error(), "partner keys") {
		t.Fatalf("kind check: %v", err)
	}
	if k, ok := Provider.ChildKind(); !ok || k != Distributor {
		t.Fatal("provider's children are distributors")
	}
	if _, ok := Customer.ChildKind(); ok {
		t.Fatal("customers have no children")
	}
}
