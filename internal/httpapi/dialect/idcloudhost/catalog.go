package idcloudhost

import (
	"context"
	"net/http"

	"github.com/trellis-cloud/trellis/internal/catalog"
	"github.com/trellis-cloud/trellis/internal/httpapi/wire"
)

// Catalog is what the dialect needs of the resource catalog: host pools,
// OS images and VM parameter rules (implemented by catalog.Service).
type Catalog interface {
	ListHostPools(ctx context.Context, location string) ([]catalog.HostPool, error)
	ListImages(ctx context.Context, f catalog.ImageFilter) ([]catalog.Image, error)
	VMRules(ctx context.Context) (catalog.VMRules, error)
}

var _ Catalog = (*catalog.Service)(nil)

// ---- wire types ----

type hostPoolJSON struct {
	CreatedAt           string `json:"created_at"`
	Description         string `json:"description"`
	IsDefaultDesignated bool   `json:"is_default_designated"`
	Name                string `json:"name"`
	UpdatedAt           string `json:"updated_at"`
	UUID                string `json:"uuid"`
}

func hostPoolOut(p catalog.HostPool) hostPoolJSON {
	return hostPoolJSON{CreatedAt: dateTime(p.CreatedAt), Description: p.Description, IsDefaultDesignated: p.IsDefault,
		Name: p.Name, UpdatedAt: dateTime(p.UpdatedAt), UUID: p.UUID}
}

type vmImageVersionJSON struct {
	OSVersion   string `json:"os_version"`
	DisplayName string `json:"display_name"`
	Published   bool   `json:"published"`
}

type vmImageJSON struct {
	OSName       string               `json:"os_name"`
	DisplayName  string               `json:"display_name"`
	UIPosition   int64                `json:"ui_position"`
	IsDefault    bool                 `json:"is_default"`
	IsAppCatalog bool                 `json:"is_app_catalog"`
	Icon         string               `json:"icon"`
	Versions     []vmImageVersionJSON `json:"versions"`
}

func vmImageOut(im catalog.Image) vmImageJSON {
	out := vmImageJSON{OSName: im.OSName, DisplayName: im.DisplayName, UIPosition: im.UIPosition, IsDefault: im.IsDefault,
		IsAppCatalog: im.IsAppCatalog, Icon: im.Icon, Versions: make([]vmImageVersionJSON, len(im.Versions))}
	for i, v := range im.Versions {
		out.Versions[i] = vmImageVersionJSON{OSVersion: v.OSVersion, DisplayName: v.DisplayName, Published: v.Published}
	}
	return out
}

// vmParamJSON is a VMParam: members by constraint (range: min, max;
// regexp: expression; enum: values, or limits per os_name), as in the
// seed's sample.
type vmParamJSON struct {
	Constraint  string              `json:"constraint"`
	Description string              `json:"description"`
	Expression  *string             `json:"expression,omitempty"`
	LimitedBy   *string             `json:"limited_by,omitempty"`
	Limits      *[]vmParamLimitJSON `json:"limits,omitempty"`
	Mandatory   bool                `json:"mandatory"`
	Max         *int64              `json:"max,omitempty"`
	Min         *int64              `json:"min,omitempty"`
	Parameter   string              `json:"parameter"`
	Type        string              `json:"type"`
	Values      *[]string           `json:"values,omitempty"`
}

type vmParamLimitJSON struct {
	Mandatory *bool     `json:"mandatory,omitempty"`
	Max       *int64    `json:"max,omitempty"`
	Min       *int64    `json:"min,omitempty"`
	OSName    string    `json:"os_name"`
	Values    *[]string `json:"values,omitempty"`
}

func vmParamOut(p catalog.Param) vmParamJSON {
	out := vmParamJSON{Constraint: p.Constraint(), Description: p.Description, Mandatory: p.Mandatory, Parameter: p.Parameter,
		Type: p.Type()}
	switch p.Constraint() {
	case catalog.ConstraintRange:
		out.Min, out.Max = &p.Min, &p.Max
	case catalog.ConstraintRegexp:
		out.Expression = &p.Expression
	}
	if p.Parameter == catalog.ParamOSName {
		vs := append([]string{}, p.Values...)
		out.Values = &vs
	}
	if by := p.LimitedBy(); by != "" {
		out.LimitedBy = &by
		ls := make([]vmParamLimitJSON, len(p.Limits))
		for i, l := range p.Limits {
			ls[i] = vmParamLimitJSON{Mandatory: l.Mandatory, Max: l.Max, Min: l.Min, OSName: l.OSName}
			if p.Parameter == catalog.ParamOSVersion {
				vs := append([]string{}, l.Values...)
				ls[i].Values = &vs
			}
		}
		out.Limits = &ls
	}
	return out
}

// ---- operations ID-13, ID-70 to ID-73 ----

func (s *server) catalogOps() []op {
	return []op{
		{method: http.MethodGet, path: "/user-resource/host_pool/list", located: true, h: s.listHostPools},
		{method: http.MethodGet, path: "/api/parameters/vm", h: s.getVMParameters},
		{method: http.MethodGet, path: "/config/vm_images", h: s.imageList(catalog.AllImages)},
		{method: http.MethodGet, path: "/config/vm_images/plain_os", h: s.imageList(catalog.PlainOS)},
		{method: http.MethodGet, path: "/config/vm_images/app_catalog", h: s.imageList(catalog.AppCatalog)},
	}
}

// ID-13: the pools of the location (the default location without a slug).
func (s *server) listHostPools(ctx context.Context, c *call) (any, error) {
	ps, err := s.d.Catalog.ListHostPools(ctx, c.location.Slug)
	if err != nil {
		return nil, err
	}
	return wire.Map(ps, hostPoolOut), nil
}

// ID-70: the rules VM create and modify enforce, with the image
// catalogue's os_name and os_version values.
func (s *server) getVMParameters(ctx context.Context, _ *call) (any, error) {
	r, err := s.d.Catalog.VMRules(ctx)
	if err != nil {
		return nil, err
	}
	return wire.Map(r.Params, vmParamOut), nil
}

// ID-71, ID-72, ID-73.
func (s *server) imageList(f catalog.ImageFilter) func(context.Context, *call) (any, error) {
	return func(ctx context.Context, _ *call) (any, error) {
		ims, err := s.d.Catalog.ListImages(ctx, f)
		if err != nil {
			return nil, err
		}
		return wire.Map(ims, vmImageOut), nil
	}
}
