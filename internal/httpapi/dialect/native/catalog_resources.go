package native

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/catalog"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/wire"
)

// The resource catalog: host pools per location, the OS image catalogue
// and the VM parameter rules that idcloudhost VM create and modify enforce
// (and GET /api/parameters/vm serves). Any key reads them; provider staff
// and admins change them.

// ---- host pools ----

// hostPool is a server class of a location (idcloudhost "designated pool").
type hostPool struct {
	ID          string    `json:"id" format:"uuid"`
	Location    string    `json:"location" example:"cyc01"`
	Name        string    `json:"name" example:"General"`
	Description string    `json:"description"`
	IsDefault   bool      `json:"isDefault" doc:"The location's default pool (exactly one per location with pools): VMs created without a pool go there."`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

func hostPoolFrom(p catalog.HostPool) hostPool {
	return hostPool{ID: p.UUID, Location: p.Location, Name: p.Name, Description: p.Description, IsDefault: p.IsDefault,
		CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC()}
}

type createHostPoolInput struct {
	Slug string `path:"slug" pattern:"^[a-z0-9]+$" maxLength:"63" example:"cyc01"`
	Body struct {
		ID          string `json:"id,omitempty" format:"uuid" doc:"The pool's uuid; a new one when omitted."`
		Name        string `json:"name" minLength:"1" maxLength:"255" example:"Performance"`
		Description string `json:"description,omitempty" maxLength:"1000"`
		IsDefault   bool   `json:"isDefault,omitempty" doc:"Make it the location's default pool. The first pool of a location is the default anyway."`
	}
}

type updateHostPoolInput struct {
	ID   string `path:"id" format:"uuid"`
	Body struct {
		Name        *string `json:"name,omitempty" minLength:"1" maxLength:"255"`
		Description *string `json:"description,omitempty" maxLength:"1000"`
		IsDefault   *bool   `json:"isDefault,omitempty" doc:"true makes it the location's default pool; false on the default pool is refused (the default can only move)."`
	}
}

// hostPoolFieldNames maps the catalog's field names (the idcloudhost wire
// names) to this API's.
var hostPoolFieldNames = map[string]string{"is_default_designated": "isDefault", "uuid": "id", "location": "slug"}

// ---- images ----

type imageVersion struct {
	OSVersion   string `json:"osVersion" minLength:"1" maxLength:"64" example:"22.04-lts"`
	DisplayName string `json:"displayName,omitempty" maxLength:"255" doc:"Defaults to osVersion."`
	Published   bool   `json:"published" doc:"Only published versions can be installed; they are the os_version values of GET /api/parameters/vm."`
}

// image is an OS image of the VM image catalogue.
type image struct {
	OSName       string         `json:"osName" example:"ubuntu"`
	DisplayName  string         `json:"displayName" example:"Ubuntu"`
	UIPosition   int64          `json:"uiPosition"`
	IsDefault    bool           `json:"isDefault" doc:"The default image (the first image is; only one is)."`
	IsAppCatalog bool           `json:"isAppCatalog"`
	Icon         string         `json:"icon"`
	Versions     []imageVersion `json:"versions"`
	CreatedAt    time.Time      `json:"createdAt"`
	UpdatedAt    time.Time      `json:"updatedAt"`
}

func imageFrom(im catalog.Image) image {
	out := image{OSName: im.OSName, DisplayName: im.DisplayName, UIPosition: im.UIPosition, IsDefault: im.IsDefault,
		IsAppCatalog: im.IsAppCatalog, Icon: im.Icon, Versions: make([]imageVersion, len(im.Versions)),
		CreatedAt: im.CreatedAt.UTC(), UpdatedAt: im.UpdatedAt.UTC()}
	for i, v := range im.Versions {
		out.Versions[i] = imageVersion{OSVersion: v.OSVersion, DisplayName: v.DisplayName, Published: v.Published}
	}
	return out
}

type osNameParam struct {
	OSName string `path:"osName" pattern:"^[a-z0-9][a-z0-9._-]*$" maxLength:"64" example:"ubuntu"`
}

type putImageInput struct {
	OSName string `path:"osName" pattern:"^[a-z0-9][a-z0-9._-]*$" maxLength:"64" example:"ubuntu"`
	Body   struct {
		DisplayName  string         `json:"displayName" minLength:"1" maxLength:"255"`
		UIPosition   int64          `json:"uiPosition,omitempty" minimum:"0"`
		IsDefault    bool           `json:"isDefault,omitempty" doc:"Make it the default image. The first image is the default anyway; the default cannot be unset, only moved."`
		IsAppCatalog bool           `json:"isAppCatalog,omitempty"`
		Icon         string         `json:"icon,omitempty" maxLength:"100000"`
		Versions     []imageVersion `json:"versions,omitempty" maxItems:"100" doc:"Replaces the image's versions, in display order."`
	}
}

var imageFieldNames = map[string]string{"display_name": "displayName", "ui_position": "uiPosition", "is_default": "isDefault",
	"os_name": "osName"}

// ---- VM parameter rules ----

type vmParameterLimit struct {
	OSName    string   `json:"osName" example:"windows"`
	Min       *int64   `json:"min,omitempty" minimum:"0"`
	Max       *int64   `json:"max,omitempty" minimum:"0"`
	Mandatory *bool    `json:"mandatory,omitempty"`
	Values    []string `json:"values,omitempty" doc:"os_version only: the OS's published versions (from the image catalogue)."`
}

// vmParameter is one VM parameter rule as served (os_name and os_version
// values come from the image catalogue).
type vmParameter struct {
	Parameter   string             `json:"parameter" example:"vcpu"`
	Type        string             `json:"type" enum:"integer,string"`
	Constraint  string             `json:"constraint" enum:"range,regexp,enum"`
	Description string             `json:"description"`
	Mandatory   bool               `json:"mandatory"`
	Min         *int64             `json:"min,omitempty"`
	Max         *int64             `json:"max,omitempty"`
	Expression  string             `json:"expression,omitempty" doc:"Served verbatim; leading look-aheads are checked in code."`
	Values      []string           `json:"values,omitempty"`
	LimitedBy   string             `json:"limitedBy,omitempty" enum:"os_name"`
	Limits      []vmParameterLimit `json:"limits,omitempty"`
	UpdatedAt   time.Time          `json:"updatedAt"`
}

func vmParameterFrom(p catalog.Param) vmParameter {
	out := vmParameter{Parameter: p.Parameter, Type: p.Type(), Constraint: p.Constraint(), Description: p.Description,
		Mandatory: p.Mandatory, Expression: p.Expression, Values: p.Values, LimitedBy: p.LimitedBy(), UpdatedAt: p.UpdatedAt.UTC()}
	if p.Constraint() == catalog.ConstraintRange {
		out.Min, out.Max = &p.Min, &p.Max
	}
	for _, l := range p.Limits {
		out.Limits = append(out.Limits, vmParameterLimit{OSName: l.OSName, Min: l.Min, Max: l.Max, Mandatory: l.Mandatory, Values: l.Values})
	}
	return out
}

type parameterParam struct {
	Parameter string `path:"parameter" enum:"disks,name,os_name,os_version,password,ram,username,vcpu"`
}

type putVMParameterInput struct {
	Parameter string `path:"parameter" enum:"disks,name,os_name,os_version,password,ram,username,vcpu"`
	Body      struct {
		Description string `json:"description,omitempty" maxLength:"1000"`
		Mandatory   bool   `json:"mandatory"`
		Min         *int64 `json:"min,omitempty" minimum:"0" maximum:"2147483647" doc:"Range parameters (disks, ram, vcpu) only, and required there."`
		Max         *int64 `json:"max,omitempty" minimum:"0" maximum:"2147483647" doc:"Range parameters only, and required there."`
		Expression  string `json:"expression,omitempty" maxLength:"1000" doc:"Regexp parameters (name, password, username) only, and required there: an RE2 expression, or ^ followed by look-aheads (?=…) and an RE2 rest."`
		Limits      []struct {
			OSName    string `json:"osName" pattern:"^[a-z0-9][a-z0-9._-]*$" maxLength:"64"`
			Min       *int64 `json:"min,omitempty" minimum:"0" maximum:"2147483647"`
			Max       *int64 `json:"max,omitempty" minimum:"0" maximum:"2147483647"`
			Mandatory *bool  `json:"mandatory,omitempty"`
		} `json:"limits,omitempty" maxItems:"100" doc:"Per-OS overrides: min and max of range parameters, mandatory of any. Not for os_name and os_version, whose values are the image catalogue's."`
	}
}

// ---- routes ----

// registerCatalogResources adds the host pool, image and VM parameter
// operations.
func (s *server) registerCatalogResources(api huma.API) {
	tags := []string{"catalog"}
	register(api, huma.Operation{OperationID: "listHostPools", Method: http.MethodGet, Path: "/locations/{slug}/host-pools",
		Tags: tags, Summary: "List a location's host pools"}, s.listHostPools)
	register(api, huma.Operation{OperationID: "createHostPool", Method: http.MethodPost, Path: "/locations/{slug}/host-pools",
		Tags: tags, Summary: "Create a host pool (provider staff)", DefaultStatus: http.StatusCreated,
		Description: "Pool names are unique within a location (409). The location's first pool becomes its default."}, s.createHostPool)
	register(api, huma.Operation{OperationID: "getHostPool", Method: http.MethodGet, Path: "/host-pools/{id}",
		Tags: tags, Summary: "Get a host pool"}, s.getHostPool)
	register(api, huma.Operation{OperationID: "updateHostPool", Method: http.MethodPatch, Path: "/host-pools/{id}",
		Tags: tags, Summary: "Change a host pool (provider staff)"}, s.updateHostPool)
	register(api, huma.Operation{OperationID: "deleteHostPool", Method: http.MethodDelete, Path: "/host-pools/{id}",
		Tags: tags, Summary: "Delete a host pool (provider staff)",
		Description: "The default pool of a location can be deleted only when it is the location's last pool (409)."}, s.deleteHostPool)

	register(api, huma.Operation{OperationID: "listImages", Method: http.MethodGet, Path: "/images",
		Tags: tags, Summary: "List the OS images"}, s.listImages)
	register(api, huma.Operation{OperationID: "getImage", Method: http.MethodGet, Path: "/images/{osName}",
		Tags: tags, Summary: "Get an OS image"}, s.getImage)
	register(api, huma.Operation{OperationID: "putImage", Method: http.MethodPut, Path: "/images/{osName}",
		Tags: tags, Summary: "Create or replace an OS image (provider staff)",
		Description: "The versions are replaced as a whole. Existing VMs keep their os_name and os_version."}, s.putImage)
	register(api, huma.Operation{OperationID: "deleteImage", Method: http.MethodDelete, Path: "/images/{osName}",
		Tags: tags, Summary: "Delete an OS image (provider staff)",
		Description: "The default image can be deleted only when it is the last one (409)."}, s.deleteImage)

	register(api, huma.Operation{OperationID: "listVMParameters", Method: http.MethodGet, Path: "/vm-parameters",
		Tags: tags, Summary: "List the VM parameter rules in force"}, s.listVMParameters)
	register(api, huma.Operation{OperationID: "putVMParameter", Method: http.MethodPut, Path: "/vm-parameters/{parameter}",
		Tags: tags, Summary: "Create or replace a VM parameter rule (provider staff)",
		Description: "VM create and modify enforce the rule at once, and idcloudhost GET /api/parameters/vm serves it."}, s.putVMParameter)
	register(api, huma.Operation{OperationID: "deleteVMParameter", Method: http.MethodDelete, Path: "/vm-parameters/{parameter}",
		Tags: tags, Summary: "Remove a VM parameter rule (provider staff)",
		Description: "The parameter is then neither served nor enforced."}, s.deleteVMParameter)
}

// requireLocation checks the path's location exists (404 naming slug).
func (s *server) requireLocation(ctx context.Context, slug string) error {
	_, err := s.d.Catalog.Location(ctx, slug)
	if errs.Is(err, errs.KindNotFound) {
		return &errs.Error{Kind: errs.KindNotFound, Field: "slug", Msg: "no such location: " + slug}
	}
	return err
}

func (s *server) listHostPools(ctx context.Context, in *locationSlugParam) (*output[list[hostPool]], error) {
	return call(ctx, s, func(actor.Actor) ([]catalog.HostPool, error) {
		if err := s.requireLocation(ctx, in.Slug); err != nil {
			return nil, err
		}
		return s.d.Catalog.ListHostPools(ctx, in.Slug)
	}, func(ps []catalog.HostPool) list[hostPool] { return list[hostPool]{Items: wire.Map(ps, hostPoolFrom)} })
}

func (s *server) createHostPool(ctx context.Context, in *createHostPoolInput) (*output[hostPool], error) {
	b := in.Body
	return call(ctx, s, func(a actor.Actor) (catalog.HostPool, error) {
		if err := catalogWriter(a); err != nil {
			return catalog.HostPool{}, err
		}
		if err := s.requireLocation(ctx, in.Slug); err != nil {
			return catalog.HostPool{}, err
		}
		p, err := s.d.Catalog.PutHostPool(ctx, a, catalog.PutHostPoolInput{NewUUID: b.ID, Location: in.Slug, Name: b.Name,
			Description: b.Description, IsDefault: b.IsDefault})
		return p, renameFields(err, hostPoolFieldNames)
	}, hostPoolFrom)
}

func (s *server) getHostPool(ctx context.Context, in *idParam) (*output[hostPool], error) {
	return call(ctx, s, func(actor.Actor) (catalog.HostPool, error) {
		return s.d.Catalog.GetHostPool(ctx, in.ID)
	}, hostPoolFrom)
}

func (s *server) updateHostPool(ctx context.Context, in *updateHostPoolInput) (*output[hostPool], error) {
	b := in.Body
	return call(ctx, s, func(a actor.Actor) (catalog.HostPool, error) {
		p, err := s.d.Catalog.UpdateHostPool(ctx, a, catalog.UpdateHostPoolInput{UUID: in.ID, Name: b.Name,
			Description: b.Description, IsDefault: b.IsDefault})
		return p, renameFields(err, hostPoolFieldNames)
	}, hostPoolFrom)
}

func (s *server) deleteHostPool(ctx context.Context, in *idParam) (*struct{}, error) {
	return exec(ctx, s, func(a actor.Actor) error { return s.d.Catalog.DeleteHostPool(ctx, a, in.ID) })
}

func (s *server) listImages(ctx context.Context, _ *struct{}) (*output[list[image]], error) {
	return call(ctx, s, func(actor.Actor) ([]catalog.Image, error) {
		return s.d.Catalog.ListImages(ctx, catalog.AllImages)
	}, func(ims []catalog.Image) list[image] { return list[image]{Items: wire.Map(ims, imageFrom)} })
}

func (s *server) getImage(ctx context.Context, in *osNameParam) (*output[image], error) {
	return call(ctx, s, func(actor.Actor) (catalog.Image, error) {
		return s.d.Catalog.GetImage(ctx, in.OSName)
	}, imageFrom)
}

func (s *server) putImage(ctx context.Context, in *putImageInput) (*output[image], error) {
	b := in.Body
	return call(ctx, s, func(a actor.Actor) (catalog.Image, error) {
		vs := make([]catalog.ImageVersion, len(b.Versions))
		for i, v := range b.Versions {
			vs[i] = catalog.ImageVersion{OSVersion: v.OSVersion, DisplayName: v.DisplayName, Published: v.Published}
		}
		im, err := s.d.Catalog.PutImage(ctx, a, catalog.PutImageInput{OSName: in.OSName, DisplayName: b.DisplayName,
			UIPosition: b.UIPosition, IsDefault: b.IsDefault, IsAppCatalog: b.IsAppCatalog, Icon: b.Icon, Versions: vs})
		return im, renameFields(err, imageFieldNames)
	}, imageFrom)
}

func (s *server) deleteImage(ctx context.Context, in *osNameParam) (*struct{}, error) {
	return exec(ctx, s, func(a actor.Actor) error { return s.d.Catalog.DeleteImage(ctx, a, in.OSName) })
}

func (s *server) listVMParameters(ctx context.Context, _ *struct{}) (*output[list[vmParameter]], error) {
	return call(ctx, s, func(actor.Actor) (catalog.VMRules, error) {
		return s.d.Catalog.VMRules(ctx)
	}, func(r catalog.VMRules) list[vmParameter] {
		return list[vmParameter]{Items: wire.Map(r.Params, vmParameterFrom)}
	})
}

func (s *server) putVMParameter(ctx context.Context, in *putVMParameterInput) (*output[vmParameter], error) {
	b := in.Body
	return call(ctx, s, func(a actor.Actor) (catalog.Param, error) {
		var limits []catalog.Limit
		for _, l := range b.Limits {
			limits = append(limits, catalog.Limit{OSName: l.OSName, Min: l.Min, Max: l.Max, Mandatory: l.Mandatory})
		}
		return s.d.Catalog.PutVMParam(ctx, a, catalog.PutParamInput{Parameter: in.Parameter, Description: b.Description,
			Mandatory: b.Mandatory, Min: b.Min, Max: b.Max, Expression: b.Expression, Limits: limits})
	}, vmParameterFrom)
}

func (s *server) deleteVMParameter(ctx context.Context, in *parameterParam) (*struct{}, error) {
	return exec(ctx, s, func(a actor.Actor) error { return s.d.Catalog.DeleteVMParam(ctx, a, in.Parameter) })
}

// catalogWriter refuses callers that may not change the catalog before any
// lookup, so a forbidden caller learns nothing (403 rather than 404).
func catalogWriter(a actor.Actor) error {
	if err := a.RequireKind(actor.Provider); err != nil {
		return err
	}
	return a.Require(actor.Staff)
}
