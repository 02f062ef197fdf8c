package catalog_test

import (
	"sync"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/catalog"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

func newService(t *testing.T, d *db.DB) *catalog.Service {
	t.Helper()
	return catalog.NewService(sqlstore.Catalog{Store: sqlstore.New(d)}, clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
}

func defaults(t *testing.T, s *catalog.Service) []string {
	t.Helper()
	ls, err := s.Locations(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range ls {
		if l.IsDefault {
			out = append(out, l.Slug)
		}
	}
	return out
}

func TestLocations(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sys := actor.System("")
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		s := newService(t, d)
		if _, err := s.DefaultLocation(ctx); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("default of an empty catalog: %v", err)
		}
		// Only provider admins change the catalog.
		for _, a := range []actor.Actor{
			{OrgPath: "/p/d/", OrgKind: actor.Distributor, Role: actor.Admin},
			{OrgPath: "/p/", OrgKind: actor.Provider, Role: actor.Staff},
		} {
			if _, err := s.PutLocation(ctx, a, catalog.PutLocationInput{Slug: "x1", DisplayName: "X", CountryCode: "est"}); !errs.Is(err, errs.KindForbidden) {
				t.Fatalf("%+v put a location: %v", a, err)
			}
		}
		// The first location is the default even when not asked.
		l, err := s.PutLocation(ctx, sys, catalog.PutLocationInput{Slug: "bus02", DisplayName: "Busburg", CountryCode: "EST", OrderNr: 2})
		if err != nil || !l.IsDefault || l.CountryCode != "est" {
			t.Fatalf("first location: %+v %v", l, err)
		}
		if err := s.LoadDemo(ctx, sys); err != nil {
			t.Fatal(err)
		}
		if got := defaults(t, s); len(got) != 1 || got[0] != "cyc01" {
			t.Fatalf("defaults after the demo: %v", got)
		}
		if err := s.LoadDemo(ctx, sys); err != nil { // idempotent
			t.Fatal(err)
		}
		ls, _ := s.Locations(ctx)
		if len(ls) != 2 || ls[0].Slug != "cyc01" || !ls[1].IsPreferred || ls[1].Description != "Secondary location" {
			t.Fatalf("demo locations: %+v", ls)
		}
		// The default cannot be unset, only moved; nor deleted while others exist.
		if _, err := s.PutLocation(ctx, sys, catalog.PutLocationInput{Slug: "cyc01", DisplayName: "C", CountryCode: "est"}); !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != "is_default" {
			t.Fatalf("unset the default: %v", err)
		}
		if err := s.DeleteLocation(ctx, sys, "cyc01"); !errs.Is(err, errs.KindPrecondition) {
			t.Fatalf("delete the default: %v", err)
		}
		for _, c := range []struct {
			in    catalog.PutLocationInput
			field string
		}{
			{catalog.PutLocationInput{Slug: "CYC", DisplayName: "C", CountryCode: "est"}, "slug"},
			{catalog.PutLocationInput{Slug: "a-b", DisplayName: "C", CountryCode: "est"}, "slug"},
			{catalog.PutLocationInput{Slug: "", DisplayName: "C", CountryCode: "est"}, "slug"},
			{catalog.PutLocationInput{Slug: "ok", DisplayName: " ", CountryCode: "est"}, "display_name"},
			{catalog.PutLocationInput{Slug: "ok", DisplayName: "C", CountryCode: "ee"}, "country_code"},
			{catalog.PutLocationInput{Slug: "ok", DisplayName: "C", CountryCode: "est", OrderNr: -1}, "order_nr"},
		} {
			if _, err := s.PutLocation(ctx, sys, c.in); !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != c.field {
				t.Errorf("%+v: %v, want invalid %s", c.in, err, c.field)
			}
		}
		if _, err := s.Location(ctx, "NOPE"); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("bad slug: %v", err)
		}

		// Concurrent moves of the default: one default at the end.
		var wg sync.WaitGroup
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				slug := []string{"cyc01", "bus02"}[i%2]
				name := map[string]string{"cyc01": "Cycletown", "bus02": "Busburg"}[slug]
				if _, err := s.PutLocation(ctx, sys, catalog.PutLocationInput{Slug: slug, DisplayName: name, CountryCode: "est", IsDefault: true}); err != nil {
					t.Errorf("move the default to %s: %v", slug, err)
				}
			}()
		}
		wg.Wait()
		if got := defaults(t, s); len(got) != 1 {
			t.Fatalf("defaults after concurrent moves: %v", got)
		}
		other := map[string]string{"cyc01": "bus02", "bus02": "cyc01"}[defaults(t, s)[0]]
		if err := s.DeleteLocation(ctx, sys, other); err != nil {
			t.Fatal(err)
		}
		// The last location may go, default or not.
		if err := s.DeleteLocation(ctx, sys, defaults(t, s)[0]); err != nil {
			t.Fatal(err)
		}
		if ls, _ := s.Locations(ctx); len(ls) != 0 {
			t.Fatalf("left: %+v", ls)
		}
	})
}
