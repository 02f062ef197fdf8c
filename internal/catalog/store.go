package catalog

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/audit"
)

// Store is the persistence the catalog needs.
type Store interface {
	Tx(ctx context.Context, fn func(Store) error) error

	// ListLocations returns every location by order_nr, then slug.
	ListLocations(ctx context.Context) ([]Location, error)
	GetLocation(ctx context.Context, slug string) (Location, error)
	// DefaultLocation returns the location flagged default (NotFound when
	// there is none: no location exists).
	DefaultLocation(ctx context.Context) (Location, error)
	// UpsertLocation inserts or replaces a location's fields except
	// IsDefault and CreatedAt; it reports whether it inserted.
	UpsertLocation(ctx context.Context, l Location) (created bool, err error)
	// SetDefaultLocation makes slug the default location (there is at
	// most one; NotFound for an unknown slug).
	SetDefaultLocation(ctx context.Context, slug string, at time.Time) error
	// DeleteLocation deletes a location (and the default mark if it has
	// it).
	DeleteLocation(ctx context.Context, slug string) error

	// CountHostPools counts the pools of a location.
	CountHostPools(ctx context.Context, location string) (int, error)
	// ListHostPools returns a location's pools by name, then uuid.
	ListHostPools(ctx context.Context, location string) ([]HostPool, error)
	// GetHostPool returns a pool by uuid, whatever its location.
	GetHostPool(ctx context.Context, uuid string) (HostPool, error)
	// DefaultHostPool returns the default pool of a location (NotFound
	// when the location has none).
	DefaultHostPool(ctx context.Context, location string) (HostPool, error)
	// InsertHostPool inserts a pool (Conflict on a duplicate uuid, or a
	// duplicate name in the location). IsDefault is ignored.
	InsertHostPool(ctx context.Context, p HostPool) error
	// UpdateHostPool rewrites name, description and updated_at.
	UpdateHostPool(ctx context.Context, p HostPool) error
	// SetDefaultHostPool makes the pool its location's default.
	SetDefaultHostPool(ctx context.Context, location, uuid string) error
	// DeleteHostPool deletes a pool (and its default mark).
	DeleteHostPool(ctx context.Context, uuid string) error

	// ListImages returns the images by ui_position, then os_name, each
	// with its versions in order.
	ListImages(ctx context.Context) ([]Image, error)
	GetImage(ctx context.Context, osName string) (Image, error)
	// UpsertImage inserts or replaces an image and its versions (all of
	// them) except IsDefault and CreatedAt; it reports whether it
	// inserted.
	UpsertImage(ctx context.Context, im Image) (created bool, err error)
	// SetDefaultImage makes the image the default one.
	SetDefaultImage(ctx context.Context, osName string) error
	// DeleteImage deletes an image, its versions and its default mark.
	DeleteImage(ctx context.Context, osName string) error

	// ListVMParams returns the stored VM parameter rules by parameter,
	// with their limits by os_name.
	ListVMParams(ctx context.Context) ([]Param, error)
	// PutVMParam inserts or replaces a rule and its limits; it reports
	// whether it inserted.
	PutVMParam(ctx context.Context, p Param) (created bool, err error)
	DeleteVMParam(ctx context.Context, parameter string) error

	AppendAudit(ctx context.Context, e audit.Entry) error
}
