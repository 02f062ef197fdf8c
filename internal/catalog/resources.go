package catalog

import (
	"context"
	"fmt"
	"strings"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/validate"
)

// catalogOperator checks the caller may change host pools, images and VM
// parameter rules: provider staff or admins (the day-to-day offer, unlike
// locations, which only admins change).
func catalogOperator(a actor.Actor) error {
	if err := a.RequireKind(actor.Provider); err != nil {
		return err
	}
	return a.Require(actor.Staff)
}

// --- host pools ---

// fieldPool is the wire name of the pool a VM asks for.
const fieldPool = "designated_pool_uuid"

// ListHostPools lists the pools of a location (empty for an unknown one).
func (s *Service) ListHostPools(ctx context.Context, location string) ([]HostPool, error) {
	if !ValidSlug(location) {
		return nil, nil
	}
	return s.store.ListHostPools(ctx, location)
}

// HostPool returns the pool a VM in location asks for. An unknown uuid, or
// one of another location, is Invalid naming designated_pool_uuid.
func (s *Service) HostPool(ctx context.Context, location, uuid string) (HostPool, error) {
	u, ok := ids.Normalize(uuid)
	if !ok {
		return HostPool{}, errs.Invalid(fieldPool, "must be a UUID")
	}
	p, err := s.store.GetHostPool(ctx, u)
	if errs.Is(err, errs.KindNotFound) || (err == nil && p.Location != location) {
		return HostPool{}, errs.Invalidf(fieldPool, "no such host pool in location %s", location)
	}
	return p, err
}

// DefaultHostPool returns the default pool of a location; a location
// without pools is Invalid naming designated_pool_uuid (no VM can be
// placed there).
func (s *Service) DefaultHostPool(ctx context.Context, location string) (HostPool, error) {
	p, err := s.store.DefaultHostPool(ctx, location)
	if errs.Is(err, errs.KindNotFound) {
		return HostPool{}, errs.Invalidf(fieldPool, "location %s has no host pool", location)
	}
	return p, err
}

// GetHostPool returns a pool by uuid, whatever its location (NotFound).
func (s *Service) GetHostPool(ctx context.Context, uuid string) (HostPool, error) {
	u, ok := ids.Normalize(uuid)
	if !ok {
		return HostPool{}, errs.NotFound("host pool")
	}
	return s.store.GetHostPool(ctx, u)
}

// PutHostPool creates a pool (in.UUID "") or replaces the name,
// description and default flag of one (UpdateHostPool). The first pool of
// a location becomes its default; IsDefault moves the default to this
// pool; clearing it on the default pool is refused (there must always be
// one). A pool cannot move between locations.
func (s *Service) PutHostPool(ctx context.Context, a actor.Actor, in PutHostPoolInput) (HostPool, error) {
	if err := catalogOperator(a); err != nil {
		return HostPool{}, err
	}
	if err := in.Validate(); err != nil {
		return HostPool{}, err
	}
	if in.UUID != "" {
		return s.updateHostPool(ctx, a, UpdateHostPoolInput{UUID: in.UUID, Name: &in.Name, Description: &in.Description,
			IsDefault: &in.IsDefault}, in.Location)
	}
	var out HostPool
	err := s.store.Tx(ctx, func(tx Store) error {
		now := s.now()
		if _, err := tx.GetLocation(ctx, in.Location); errs.Is(err, errs.KindNotFound) {
			return errs.Invalid("location", "no such location")
		} else if err != nil {
			return err
		}
		p := HostPool{UUID: in.NewUUID, Location: in.Location, Name: in.Name, Description: in.Description,
			CreatedAt: now, UpdatedAt: now}
		if p.UUID == "" {
			p.UUID = ids.New()
		}
		if _, err := tx.GetHostPool(ctx, p.UUID); err == nil {
			return &errs.Error{Kind: errs.KindConflict, Field: "uuid", Msg: "a host pool with this uuid exists"}
		} else if !errs.Is(err, errs.KindNotFound) {
			return err
		}
		if err := tx.InsertHostPool(ctx, p); err != nil {
			if errs.Is(err, errs.KindConflict) {
				return nameConflict()
			}
			return err
		}
		var err error
		out, err = s.finishPoolTx(ctx, tx, a, p, in.IsDefault, "host_pool.create")
		return err
	})
	return out, err
}

// UpdateHostPoolInput changes a pool; nil members keep their value.
type UpdateHostPoolInput struct {
	UUID              string
	Name, Description *string
	// IsDefault true makes the pool its location's default; false on the
	// default pool is refused (the default can only move).
	IsDefault *bool
}

// Validate checks the input (idcloudhost wire names); an update of an
// existing pool must also change something (checked once it is found).
func (in *UpdateHostPoolInput) Validate() error {
	u, ok := ids.Normalize(in.UUID)
	if !ok {
		return errs.Invalid("uuid", "must be a UUID")
	}
	in.UUID = u
	if in.Name != nil {
		n, err := validate.Name("name", *in.Name)
		if err != nil {
			return err
		}
		in.Name = &n
	}
	if in.Description != nil {
		d, err := validate.Text("description", strings.TrimSpace(*in.Description), 1000)
		if err != nil {
			return err
		}
		in.Description = &d
	}
	return nil
}

// UpdateHostPool changes a pool's name, description or default flag.
func (s *Service) UpdateHostPool(ctx context.Context, a actor.Actor, in UpdateHostPoolInput) (HostPool, error) {
	if err := catalogOperator(a); err != nil {
		return HostPool{}, err
	}
	if err := in.Validate(); err != nil {
		return HostPool{}, err
	}
	return s.updateHostPool(ctx, a, in, "")
}

// updateHostPool applies a validated update; location, when not "", must
// be the pool's.
func (s *Service) updateHostPool(ctx context.Context, a actor.Actor, in UpdateHostPoolInput, location string) (HostPool, error) {
	var out HostPool
	err := s.store.Tx(ctx, func(tx Store) error {
		p, err := tx.GetHostPool(ctx, in.UUID)
		if err != nil {
			return err
		}
		if in.Name == nil && in.Description == nil && in.IsDefault == nil {
			return errs.Invalid("body", "nothing to change: give name, description or isDefault")
		}
		if location != "" && location != p.Location {
			return errs.Invalid("location", "a host pool cannot move to another location")
		}
		if in.IsDefault != nil && p.IsDefault && !*in.IsDefault {
			return errs.Invalid("is_default_designated", "the default pool stays default until another pool of its location is made default")
		}
		if in.Name != nil {
			p.Name = *in.Name
		}
		if in.Description != nil {
			p.Description = *in.Description
		}
		p.UpdatedAt = s.now()
		if err := tx.UpdateHostPool(ctx, p); err != nil {
			if errs.Is(err, errs.KindConflict) {
				return nameConflict()
			}
			return err
		}
		out, err = s.finishPoolTx(ctx, tx, a, p, in.IsDefault != nil && *in.IsDefault, "host_pool.update")
		return err
	})
	return out, err
}

// finishPoolTx makes the pool the default if asked or if its location has
// none, reads it back and writes the audit entry.
func (s *Service) finishPoolTx(ctx context.Context, tx Store, a actor.Actor, p HostPool, makeDefault bool, action string) (HostPool, error) {
	if !makeDefault {
		if _, err := tx.DefaultHostPool(ctx, p.Location); errs.Is(err, errs.KindNotFound) {
			makeDefault = true
		} else if err != nil {
			return HostPool{}, err
		}
	}
	if makeDefault {
		if err := tx.SetDefaultHostPool(ctx, p.Location, p.UUID); err != nil {
			return HostPool{}, err
		}
	}
	out, err := tx.GetHostPool(ctx, p.UUID)
	if err != nil {
		return HostPool{}, err
	}
	return out, tx.AppendAudit(ctx, audit.New(a, p.UpdatedAt, action, "host_pool", p.UUID, "/",
		fmt.Sprintf("location=%s name=%q default=%v", p.Location, p.Name, out.IsDefault)))
}

func nameConflict() error {
	return &errs.Error{Kind: errs.KindConflict, Field: "name", Msg: "another host pool of the location has this name"}
}

// DeleteHostPool deletes a pool. The default pool of a location can be
// deleted only when it is the location's last pool. VMs placed in the
// pool keep their placement (compute keeps the pool's name).
func (s *Service) DeleteHostPool(ctx context.Context, a actor.Actor, uuid string) error {
	if err := catalogOperator(a); err != nil {
		return err
	}
	u, ok := ids.Normalize(uuid)
	if !ok {
		return errs.NotFound("host pool")
	}
	return s.store.Tx(ctx, func(tx Store) error {
		p, err := tx.GetHostPool(ctx, u)
		if err != nil {
			return err
		}
		if p.IsDefault {
			n, err := tx.CountHostPools(ctx, p.Location)
			if err != nil {
				return err
			}
			if n > 1 {
				return errs.New(errs.KindPrecondition, "the default host pool cannot be deleted; make another pool of its location default first")
			}
		}
		if err := tx.DeleteHostPool(ctx, u); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, s.now(), "host_pool.delete", "host_pool", u, "/",
			fmt.Sprintf("location=%s name=%q", p.Location, p.Name)))
	})
}

// --- images ---

// ImageFilter selects images.
type ImageFilter int

const (
	AllImages  ImageFilter = iota // every image
	PlainOS                       // is_app_catalog false
	AppCatalog                    // is_app_catalog true
)

// ListImages lists the images by ui_position, then os_name, with all their
// versions (published or not, as the seed's VMImage shows the flag).
func (s *Service) ListImages(ctx context.Context, f ImageFilter) ([]Image, error) {
	all, err := s.store.ListImages(ctx)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, im := range all {
		if f == AllImages || (f == AppCatalog) == im.IsAppCatalog {
			out = append(out, im)
		}
	}
	return out, nil
}

// GetImage returns an image by os_name (NotFound).
func (s *Service) GetImage(ctx context.Context, osName string) (Image, error) {
	if !ValidOSName(osName) {
		return Image{}, errs.NotFound("image")
	}
	return s.store.GetImage(ctx, osName)
}

// Image returns the image a VM installs: an unknown os_name is Invalid
// naming os_name, a version that is not published Invalid naming
// os_version.
func (s *Service) Image(ctx context.Context, osName, osVersion string) (Image, error) {
	if osName == "" {
		return Image{}, required(ParamOSName)
	}
	if osVersion == "" {
		return Image{}, required(ParamOSVersion)
	}
	im, err := s.GetImage(ctx, osName)
	if errs.Is(err, errs.KindNotFound) {
		return Image{}, errs.Invalidf(ParamOSName, "no image %q in the catalogue", osName)
	}
	if err != nil {
		return Image{}, err
	}
	if !im.Published(osVersion) {
		var vs []string
		for _, v := range im.Versions {
			if v.Published {
				vs = append(vs, v.OSVersion)
			}
		}
		return Image{}, errs.Invalidf(ParamOSVersion, "must be one of the published versions of %s: %s", osName, strings.Join(vs, ", "))
	}
	return im, nil
}

// PutImage creates or replaces an image with its versions. The first
// image becomes the default; IsDefault moves the default to this one;
// clearing it on the default image is refused.
func (s *Service) PutImage(ctx context.Context, a actor.Actor, in PutImageInput) (Image, error) {
	if err := catalogOperator(a); err != nil {
		return Image{}, err
	}
	if err := in.Validate(); err != nil {
		return Image{}, err
	}
	var out Image
	err := s.store.Tx(ctx, func(tx Store) error {
		now := s.now()
		old, err := tx.GetImage(ctx, in.OSName)
		switch {
		case err == nil:
			if old.IsDefault && !in.IsDefault {
				return errs.Invalid("is_default", "the default image stays default until another image is made default")
			}
		case !errs.Is(err, errs.KindNotFound):
			return err
		}
		im := Image{OSName: in.OSName, DisplayName: in.DisplayName, UIPosition: in.UIPosition, IsAppCatalog: in.IsAppCatalog,
			Icon: in.Icon, Versions: in.Versions, CreatedAt: now, UpdatedAt: now}
		created, err := tx.UpsertImage(ctx, im)
		if err != nil {
			return err
		}
		makeDefault := in.IsDefault
		if !makeDefault {
			var all []Image
			if all, err = tx.ListImages(ctx); err != nil {
				return err
			}
			makeDefault = true
			for _, o := range all {
				if o.IsDefault {
					makeDefault = false
				}
			}
		}
		if makeDefault {
			if err := tx.SetDefaultImage(ctx, im.OSName); err != nil {
				return err
			}
		}
		if out, err = tx.GetImage(ctx, im.OSName); err != nil {
			return err
		}
		action := "image.update"
		if created {
			action = "image.create"
		}
		return tx.AppendAudit(ctx, audit.New(a, now, action, "image", im.OSName, "/",
			fmt.Sprintf("versions=%d app_catalog=%v default=%v", len(im.Versions), im.IsAppCatalog, out.IsDefault)))
	})
	return out, err
}

// DeleteImage deletes an image. The default image can be deleted only when
// it is the last one. Existing VMs keep their os_name and os_version.
func (s *Service) DeleteImage(ctx context.Context, a actor.Actor, osName string) error {
	if err := catalogOperator(a); err != nil {
		return err
	}
	if !ValidOSName(osName) {
		return errs.NotFound("image")
	}
	return s.store.Tx(ctx, func(tx Store) error {
		im, err := tx.GetImage(ctx, osName)
		if err != nil {
			return err
		}
		if im.IsDefault {
			all, err := tx.ListImages(ctx)
			if err != nil {
				return err
			}
			if len(all) > 1 {
				return errs.New(errs.KindPrecondition, "the default image cannot be deleted; make another image default first")
			}
		}
		if err := tx.DeleteImage(ctx, osName); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, s.now(), "image.delete", "image", osName, "/", im.DisplayName))
	})
}

// --- VM parameter rules ---

// VMRules returns the rules in force (the stored rules with the image
// catalogue's enums).
func (s *Service) VMRules(ctx context.Context) (VMRules, error) {
	return s.vmRules(ctx, s.store)
}

func (s *Service) vmRules(ctx context.Context, q Store) (VMRules, error) {
	params, err := q.ListVMParams(ctx)
	if err != nil {
		return VMRules{}, err
	}
	images, err := q.ListImages(ctx)
	if err != nil {
		return VMRules{}, err
	}
	return newVMRules(params, images)
}

// PutVMParam creates or replaces a VM parameter rule and returns it as
// served.
func (s *Service) PutVMParam(ctx context.Context, a actor.Actor, in PutParamInput) (Param, error) {
	if err := catalogOperator(a); err != nil {
		return Param{}, err
	}
	if err := in.Validate(); err != nil {
		return Param{}, err
	}
	var out Param
	err := s.store.Tx(ctx, func(tx Store) error {
		now := s.now()
		p := Param{Parameter: in.Parameter, Description: in.Description, Mandatory: in.Mandatory,
			Expression: in.Expression, Limits: in.Limits, UpdatedAt: now}
		if in.Min != nil {
			p.Min = *in.Min
		}
		if in.Max != nil {
			p.Max = *in.Max
		}
		created, err := tx.PutVMParam(ctx, p)
		if err != nil {
			return err
		}
		rules, err := s.vmRules(ctx, tx)
		if err != nil {
			return err
		}
		out, _ = rules.Param(p.Parameter)
		action := "vm_parameter.update"
		if created {
			action = "vm_parameter.create"
		}
		return tx.AppendAudit(ctx, audit.New(a, now, action, "vm_parameter", p.Parameter, "/",
			fmt.Sprintf("mandatory=%v min=%d max=%d expression=%q limits=%d", p.Mandatory, p.Min, p.Max, p.Expression, len(p.Limits))))
	})
	return out, err
}

// DeleteVMParam removes a rule: the parameter is then neither served nor
// enforced.
func (s *Service) DeleteVMParam(ctx context.Context, a actor.Actor, parameter string) error {
	if err := catalogOperator(a); err != nil {
		return err
	}
	if _, ok := paramKinds[parameter]; !ok {
		return errs.NotFound("vm parameter")
	}
	return s.store.Tx(ctx, func(tx Store) error {
		if err := tx.DeleteVMParam(ctx, parameter); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, s.now(), "vm_parameter.delete", "vm_parameter", parameter, "/", ""))
	})
}
