package sqlstore

import (
	"context"
	"database/sql"

	"github.com/trellis-cloud/trellis/internal/catalog"
	"github.com/trellis-cloud/trellis/internal/store/db"
)

// Host pools, OS images and VM parameter rules of the catalog (migration
// 00008).

// hostPoolCols reads a pool with its default flag, which lives in
// host_pool_default.
const hostPoolCols = `p.uuid, p.location_slug, p.name, p.description, (d.pool_uuid IS NOT NULL), p.created_at, p.updated_at`

const hostPoolFrom = ` FROM host_pools p LEFT JOIN host_pool_default d ON d.pool_uuid = p.uuid`

func scanHostPool(sc interface{ Scan(...any) error }) (catalog.HostPool, error) {
	var p catalog.HostPool
	var created, updated db.Time
	err := sc.Scan(&p.UUID, &p.Location, &p.Name, &p.Description, &p.IsDefault, &created, &updated)
	p.CreatedAt, p.UpdatedAt = created.Time, updated.Time
	return p, err
}

// CountHostPools implements catalog.Store.
func (s *Store) CountHostPools(ctx context.Context, location string) (int, error) {
	var n int
	err := s.r().QueryRowContext(ctx, `SELECT COUNT(*) FROM host_pools WHERE location_slug = $1`, location).Scan(&n)
	return n, s.mapErr(err, "host pool")
}

// ListHostPools implements catalog.Store.
func (s *Store) ListHostPools(ctx context.Context, location string) ([]catalog.HostPool, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+hostPoolCols+hostPoolFrom+` WHERE p.location_slug = $1
		ORDER BY p.name, p.uuid`, location)
	if err != nil {
		return nil, s.mapErr(err, "host pool")
	}
	return collect(rows, scanHostPool)
}

// GetHostPool implements catalog.Store.
func (s *Store) GetHostPool(ctx context.Context, uuid string) (catalog.HostPool, error) {
	p, err := scanHostPool(s.r().QueryRowContext(ctx, `SELECT `+hostPoolCols+hostPoolFrom+` WHERE p.uuid = $1`, uuid))
	return p, s.mapErr(err, "host pool")
}

// DefaultHostPool implements catalog.Store.
func (s *Store) DefaultHostPool(ctx context.Context, location string) (catalog.HostPool, error) {
	p, err := scanHostPool(s.r().QueryRowContext(ctx, `SELECT `+hostPoolCols+hostPoolFrom+`
		WHERE d.location_slug = $1`, location))
	return p, s.mapErr(err, "host pool")
}

// InsertHostPool implements catalog.Store.
func (s *Store) InsertHostPool(ctx context.Context, p catalog.HostPool) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO host_pools (uuid, location_slug, name, description, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, p.UUID, p.Location, p.Name, p.Description, p.CreatedAt, p.UpdatedAt)
	return s.mapErr(err, "host pool")
}

// UpdateHostPool implements catalog.Store.
func (s *Store) UpdateHostPool(ctx context.Context, p catalog.HostPool) error {
	res, err := s.w().ExecContext(ctx, `UPDATE host_pools SET name = $2, description = $3, updated_at = $4 WHERE uuid = $1`,
		p.UUID, p.Name, p.Description, p.UpdatedAt)
	return s.affected(res, err, "host pool")
}

// SetDefaultHostPool implements catalog.Store: one upsert of the
// location's default row, conditional on the pool being in the location.
func (s *Store) SetDefaultHostPool(ctx context.Context, location, uuid string) error {
	res, err := s.w().ExecContext(ctx, `INSERT INTO host_pool_default (location_slug, pool_uuid)
		SELECT location_slug, uuid FROM host_pools WHERE uuid = $2 AND location_slug = $1
		ON CONFLICT (location_slug) DO UPDATE SET pool_uuid = excluded.pool_uuid`, location, uuid)
	return s.affected(res, err, "host pool")
}

// DeleteHostPool implements catalog.Store.
func (s *Store) DeleteHostPool(ctx context.Context, uuid string) error {
	return s.tx(ctx, func(s *Store) error {
		if _, err := s.w().ExecContext(ctx, `DELETE FROM host_pool_default WHERE pool_uuid = $1`, uuid); err != nil {
			return s.mapErr(err, "host pool")
		}
		res, err := s.w().ExecContext(ctx, `DELETE FROM host_pools WHERE uuid = $1`, uuid)
		return s.affected(res, err, "host pool")
	})
}

// --- images ---

const imageCols = `i.os_name, i.display_name, i.ui_position, (d.os_name IS NOT NULL), i.is_app_catalog, i.icon,
	i.created_at, i.updated_at`

const imageFrom = ` FROM vm_images i LEFT JOIN vm_image_default d ON d.os_name = i.os_name`

func scanImage(sc interface{ Scan(...any) error }) (catalog.Image, error) {
	var im catalog.Image
	var created, updated db.Time
	err := sc.Scan(&im.OSName, &im.DisplayName, &im.UIPosition, &im.IsDefault, &im.IsAppCatalog, &im.Icon, &created, &updated)
	im.CreatedAt, im.UpdatedAt = created.Time, updated.Time
	return im, err
}

type imageVersionRow struct {
	osName string
	v      catalog.ImageVersion
}

// withVersions fills the versions of images (one query for all).
func (s *Store) withVersions(ctx context.Context, images []catalog.Image, where string, args ...any) ([]catalog.Image, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT os_name, os_version, display_name, published FROM vm_image_versions`+
		where+` ORDER BY os_name, position`, args...)
	if err != nil {
		return nil, s.mapErr(err, "image")
	}
	vs, err := collect(rows, func(sc interface{ Scan(...any) error }) (imageVersionRow, error) {
		var r imageVersionRow
		err := sc.Scan(&r.osName, &r.v.OSVersion, &r.v.DisplayName, &r.v.Published)
		return r, err
	})
	if err != nil {
		return nil, err
	}
	by := map[string][]catalog.ImageVersion{}
	for _, r := range vs {
		by[r.osName] = append(by[r.osName], r.v)
	}
	for i := range images {
		images[i].Versions = by[images[i].OSName]
		if images[i].Versions == nil {
			images[i].Versions = []catalog.ImageVersion{}
		}
	}
	return images, nil
}

// ListImages implements catalog.Store.
func (s *Store) ListImages(ctx context.Context) ([]catalog.Image, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+imageCols+imageFrom+` ORDER BY i.ui_position, i.os_name`)
	if err != nil {
		return nil, s.mapErr(err, "image")
	}
	images, err := collect(rows, scanImage)
	if err != nil {
		return nil, err
	}
	return s.withVersions(ctx, images, "")
}

// GetImage implements catalog.Store.
func (s *Store) GetImage(ctx context.Context, osName string) (catalog.Image, error) {
	im, err := scanImage(s.r().QueryRowContext(ctx, `SELECT `+imageCols+imageFrom+` WHERE i.os_name = $1`, osName))
	if err != nil {
		return im, s.mapErr(err, "image")
	}
	out, err := s.withVersions(ctx, []catalog.Image{im}, ` WHERE os_name = $1`, osName)
	if err != nil {
		return catalog.Image{}, err
	}
	return out[0], nil
}

// UpsertImage implements catalog.Store: the image row, then its versions
// replaced as a whole, in one transaction.
func (s *Store) UpsertImage(ctx context.Context, im catalog.Image) (bool, error) {
	var created bool
	err := s.tx(ctx, func(s *Store) error {
		var n int
		if err := s.w().QueryRowContext(ctx, `SELECT COUNT(*) FROM vm_images WHERE os_name = $1`, im.OSName).Scan(&n); err != nil {
			return s.mapErr(err, "image")
		}
		created = n == 0
		_, err := s.w().ExecContext(ctx, `INSERT INTO vm_images (os_name, display_name, ui_position, is_app_catalog, icon,
			created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (os_name) DO UPDATE SET display_name = excluded.display_name, ui_position = excluded.ui_position,
			is_app_catalog = excluded.is_app_catalog, icon = excluded.icon, updated_at = excluded.updated_at`,
			im.OSName, im.DisplayName, im.UIPosition, im.IsAppCatalog, im.Icon, im.CreatedAt, im.UpdatedAt)
		if err != nil {
			return s.mapErr(err, "image")
		}
		if _, err := s.w().ExecContext(ctx, `DELETE FROM vm_image_versions WHERE os_name = $1`, im.OSName); err != nil {
			return s.mapErr(err, "image")
		}
		for i, v := range im.Versions {
			if _, err := s.w().ExecContext(ctx, `INSERT INTO vm_image_versions (os_name, os_version, position, display_name,
				published) VALUES ($1, $2, $3, $4, $5)`, im.OSName, v.OSVersion, i, v.DisplayName, v.Published); err != nil {
				return s.mapErr(err, "image version")
			}
		}
		return nil
	})
	return created, err
}

// SetDefaultImage implements catalog.Store: one upsert of the single
// default row.
func (s *Store) SetDefaultImage(ctx context.Context, osName string) error {
	res, err := s.w().ExecContext(ctx, `INSERT INTO vm_image_default (one, os_name)
		SELECT 1, os_name FROM vm_images WHERE os_name = $1
		ON CONFLICT (one) DO UPDATE SET os_name = excluded.os_name`, osName)
	return s.affected(res, err, "image")
}

// DeleteImage implements catalog.Store (the versions go by cascade).
func (s *Store) DeleteImage(ctx context.Context, osName string) error {
	return s.tx(ctx, func(s *Store) error {
		if _, err := s.w().ExecContext(ctx, `DELETE FROM vm_image_default WHERE os_name = $1`, osName); err != nil {
			return s.mapErr(err, "image")
		}
		res, err := s.w().ExecContext(ctx, `DELETE FROM vm_images WHERE os_name = $1`, osName)
		return s.affected(res, err, "image")
	})
}

// --- VM parameter rules ---

type paramLimitRow struct {
	parameter string
	l         catalog.Limit
}

// ListVMParams implements catalog.Store.
func (s *Store) ListVMParams(ctx context.Context) ([]catalog.Param, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT parameter, description, mandatory, min_value, max_value, expression, updated_at
		FROM vm_parameters ORDER BY parameter`)
	if err != nil {
		return nil, s.mapErr(err, "vm parameter")
	}
	params, err := collect(rows, func(sc interface{ Scan(...any) error }) (catalog.Param, error) {
		var p catalog.Param
		var updated db.Time
		err := sc.Scan(&p.Parameter, &p.Description, &p.Mandatory, &p.Min, &p.Max, &p.Expression, &updated)
		p.UpdatedAt = updated.Time
		return p, err
	})
	if err != nil {
		return nil, err
	}
	rows, err = s.r().QueryContext(ctx, `SELECT parameter, os_name, min_value, max_value, mandatory FROM vm_parameter_limits
		ORDER BY parameter, os_name`)
	if err != nil {
		return nil, s.mapErr(err, "vm parameter")
	}
	limits, err := collect(rows, func(sc interface{ Scan(...any) error }) (paramLimitRow, error) {
		var r paramLimitRow
		var lo, hi sql.NullInt64
		var m sql.NullBool
		err := sc.Scan(&r.parameter, &r.l.OSName, &lo, &hi, &m)
		if lo.Valid {
			r.l.Min = &lo.Int64
		}
		if hi.Valid {
			r.l.Max = &hi.Int64
		}
		if m.Valid {
			r.l.Mandatory = &m.Bool
		}
		return r, err
	})
	if err != nil {
		return nil, err
	}
	by := map[string][]catalog.Limit{}
	for _, r := range limits {
		by[r.parameter] = append(by[r.parameter], r.l)
	}
	for i := range params {
		params[i].Limits = by[params[i].Parameter]
	}
	return params, nil
}

// PutVMParam implements catalog.Store: the rule row, then its limits
// replaced as a whole, in one transaction.
func (s *Store) PutVMParam(ctx context.Context, p catalog.Param) (bool, error) {
	var created bool
	err := s.tx(ctx, func(s *Store) error {
		var n int
		if err := s.w().QueryRowContext(ctx, `SELECT COUNT(*) FROM vm_parameters WHERE parameter = $1`, p.Parameter).Scan(&n); err != nil {
			return s.mapErr(err, "vm parameter")
		}
		created = n == 0
		_, err := s.w().ExecContext(ctx, `INSERT INTO vm_parameters (parameter, description, mandatory, min_value, max_value,
			expression, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (parameter) DO UPDATE SET description = excluded.description, mandatory = excluded.mandatory,
			min_value = excluded.min_value, max_value = excluded.max_value, expression = excluded.expression,
			updated_at = excluded.updated_at`,
			p.Parameter, p.Description, p.Mandatory, p.Min, p.Max, p.Expression, p.UpdatedAt)
		if err != nil {
			return s.mapErr(err, "vm parameter")
		}
		if _, err := s.w().ExecContext(ctx, `DELETE FROM vm_parameter_limits WHERE parameter = $1`, p.Parameter); err != nil {
			return s.mapErr(err, "vm parameter")
		}
		for _, l := range p.Limits {
			if _, err := s.w().ExecContext(ctx, `INSERT INTO vm_parameter_limits (parameter, os_name, min_value, max_value,
				mandatory) VALUES ($1, $2, $3, $4, $5)`, p.Parameter, l.OSName, l.Min, l.Max, l.Mandatory); err != nil {
				return s.mapErr(err, "vm parameter limit")
			}
		}
		return nil
	})
	return created, err
}

// DeleteVMParam implements catalog.Store (the limits go by cascade).
func (s *Store) DeleteVMParam(ctx context.Context, parameter string) error {
	res, err := s.w().ExecContext(ctx, `DELETE FROM vm_parameters WHERE parameter = $1`, parameter)
	return s.affected(res, err, "vm parameter")
}
