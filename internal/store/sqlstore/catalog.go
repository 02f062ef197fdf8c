package sqlstore

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/catalog"
	"github.com/trellis-cloud/trellis/internal/store/db"
)

// Catalog is the catalog.Store.
type Catalog struct{ *Store }

// Tx implements catalog.Store.
func (c Catalog) Tx(ctx context.Context, fn func(catalog.Store) error) error {
	return c.tx(ctx, func(s *Store) error { return fn(Catalog{s}) })
}

var _ catalog.Store = Catalog{}

// locationCols reads a location with its default flag, which lives in the
// single-row location_default table.
const locationCols = `l.slug, l.display_name, l.description, l.country_code, l.order_nr, l.is_preferred,
	(d.slug IS NOT NULL), l.created_at, l.updated_at`

const locationFrom = ` FROM locations l LEFT JOIN location_default d ON d.slug = l.slug`

func scanLocation(sc interface{ Scan(...any) error }) (catalog.Location, error) {
	var l catalog.Location
	var created, updated db.Time
	err := sc.Scan(&l.Slug, &l.DisplayName, &l.Description, &l.CountryCode, &l.OrderNr, &l.IsPreferred, &l.IsDefault,
		&created, &updated)
	l.CreatedAt, l.UpdatedAt = created.Time, updated.Time
	return l, err
}

// ListLocations implements catalog.Store.
func (s *Store) ListLocations(ctx context.Context) ([]catalog.Location, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+locationCols+locationFrom+` ORDER BY l.order_nr, l.slug`)
	if err != nil {
		return nil, s.mapErr(err, "location")
	}
	return collect(rows, scanLocation)
}

// GetLocation implements catalog.Store.
func (s *Store) GetLocation(ctx context.Context, slug string) (catalog.Location, error) {
	l, err := scanLocation(s.r().QueryRowContext(ctx, `SELECT `+locationCols+locationFrom+` WHERE l.slug = $1`, slug))
	return l, s.mapErr(err, "location")
}

// DefaultLocation implements catalog.Store.
func (s *Store) DefaultLocation(ctx context.Context) (catalog.Location, error) {
	l, err := scanLocation(s.r().QueryRowContext(ctx, `SELECT `+locationCols+locationFrom+` WHERE d.slug IS NOT NULL`))
	return l, s.mapErr(err, "location")
}

// UpsertLocation implements catalog.Store.
func (s *Store) UpsertLocation(ctx context.Context, l catalog.Location) (bool, error) {
	var created bool
	err := s.w().QueryRowContext(ctx, `INSERT INTO locations (slug, display_name, description, country_code, order_nr,
		is_preferred, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (slug) DO UPDATE SET display_name = excluded.display_name, description = excluded.description,
		country_code = excluded.country_code, order_nr = excluded.order_nr, is_preferred = excluded.is_preferred,
		updated_at = excluded.updated_at
		RETURNING created_at = $7`,
		l.Slug, l.DisplayName, l.Description, l.CountryCode, l.OrderNr, l.IsPreferred, l.CreatedAt, l.UpdatedAt).Scan(&created)
	return created, s.mapErr(err, "location")
}

// SetDefaultLocation implements catalog.Store: one upsert of the single
// default row (concurrent writers queue on that row; the last one wins).
func (s *Store) SetDefaultLocation(ctx context.Context, slug string, at time.Time) error {
	res, err := s.w().ExecContext(ctx, `UPDATE locations SET updated_at = $2 WHERE slug = $1`, slug, at)
	if err := s.affected(res, err, "location"); err != nil {
		return err
	}
	_, err = s.w().ExecContext(ctx, `INSERT INTO location_default (one, slug) VALUES (1, $1)
		ON CONFLICT (one) DO UPDATE SET slug = excluded.slug`, slug)
	return s.mapErr(err, "location")
}

// DeleteLocation implements catalog.Store. Deleting the default location
// clears the default (the service allows it only for the last location).
func (s *Store) DeleteLocation(ctx context.Context, slug string) error {
	if _, err := s.w().ExecContext(ctx, `DELETE FROM location_default WHERE slug = $1`, slug); err != nil {
		return s.mapErr(err, "location")
	}
	res, err := s.w().ExecContext(ctx, `DELETE FROM locations WHERE slug = $1`, slug)
	return s.affected(res, err, "location")
}
