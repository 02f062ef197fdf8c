package native

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/catalog"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/wire"
)

// location is a data centre or resource pool, addressed by slug in the
// location-scoped idcloudhost paths.
type location struct {
	Slug        string    `json:"slug" example:"cyc01"`
	DisplayName string    `json:"displayName" example:"Cycletown"`
	Description string    `json:"description"`
	CountryCode string    `json:"countryCode" example:"est" doc:"ISO 3166-1 alpha-3, lower case."`
	OrderNr     int64     `json:"orderNr" doc:"Display order."`
	IsPreferred bool      `json:"isPreferred"`
	IsDefault   bool      `json:"isDefault" doc:"Exactly one location is the default; requests without a slug use it."`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

func locationFrom(l catalog.Location) location {
	return location{Slug: l.Slug, DisplayName: l.DisplayName, Description: l.Description, CountryCode: l.CountryCode,
		OrderNr: l.OrderNr, IsPreferred: l.IsPreferred, IsDefault: l.IsDefault, CreatedAt: l.CreatedAt.UTC(),
		UpdatedAt: l.UpdatedAt.UTC()}
}

type putLocationInput struct {
	Slug string `path:"slug" pattern:"^[a-z0-9]+$" maxLength:"63" example:"cyc01"`
	Body struct {
		DisplayName string `json:"displayName" minLength:"1" maxLength:"255"`
		Description string `json:"description,omitempty" maxLength:"1000"`
		CountryCode string `json:"countryCode" pattern:"^[a-z]{3}$" example:"est"`
		OrderNr     int64  `json:"orderNr,omitempty" minimum:"0"`
		IsPreferred bool   `json:"isPreferred,omitempty"`
		IsDefault   bool   `json:"isDefault,omitempty" doc:"Make this the default location. The first location is the default anyway; the default cannot be unset, only moved."`
	}
}

type locationSlugParam struct {
	Slug string `path:"slug" maxLength:"63"`
}

func (s *server) registerLocations(api huma.API) {
	register(api, huma.Operation{OperationID: "listLocations", Method: http.MethodGet, Path: "/locations",
		Summary: "List the locations"}, s.listLocations)
	register(api, huma.Operation{OperationID: "putLocation", Method: http.MethodPut, Path: "/locations/{slug}",
		Summary: "Create or replace a location (provider admins)"}, s.putLocation)
	register(api, huma.Operation{OperationID: "deleteLocation", Method: http.MethodDelete, Path: "/locations/{slug}",
		Summary: "Delete a location (provider admins)", Description: "The default location can be deleted only when it is the last one."}, s.deleteLocation)
}

func (s *server) listLocations(ctx context.Context, _ *struct{}) (*output[list[location]], error) {
	return call(ctx, s, func(actor.Actor) ([]catalog.Location, error) {
		return s.d.Catalog.Locations(ctx)
	}, func(ls []catalog.Location) list[location] { return list[location]{Items: wire.Map(ls, locationFrom)} })
}

// locationFieldNames maps the catalog's field names (the idcloudhost wire
// names) to this API's.
var locationFieldNames = map[string]string{
	"display_name": "displayName", "country_code": "countryCode", "order_nr": "orderNr", "is_default": "isDefault",
}

func (s *server) putLocation(ctx context.Context, in *putLocationInput) (*output[location], error) {
	b := in.Body
	return call(ctx, s, func(a actor.Actor) (catalog.Location, error) {
		l, err := s.d.Catalog.PutLocation(ctx, a, catalog.PutLocationInput{Slug: in.Slug, DisplayName: b.DisplayName,
			Description: b.Description, CountryCode: b.CountryCode, OrderNr: b.OrderNr, IsPreferred: b.IsPreferred,
			IsDefault: b.IsDefault})
		var e *errs.Error
		if errors.As(err, &e) {
			if n, ok := locationFieldNames[e.Field]; ok {
				renamed := *e
				renamed.Field = n
				err = &renamed
			}
		}
		return l, err
	}, locationFrom)
}

func (s *server) deleteLocation(ctx context.Context, in *locationSlugParam) (*struct{}, error) {
	return exec(ctx, s, func(a actor.Actor) error { return s.d.Catalog.DeleteLocation(ctx, a, in.Slug) })
}
