// Package catalog holds what the provider offers everywhere: for now the
// locations (data centres or resource pools) that location-scoped APIs
// address by slug. Exactly one location is the default; requests without a
// slug use it.
package catalog

import (
	"regexp"
	"strings"
	"time"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/validate"
)

// Location is a data centre or resource pool.
type Location struct {
	Slug        string // ^[a-z0-9]+$, the URL segment (idcloudhost /v1/{slug}/…)
	DisplayName string
	Description string
	CountryCode string // ISO 3166-1 alpha-3, lower case ("est")
	OrderNr     int64  // display order
	IsPreferred bool
	IsDefault   bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

var (
	slugRE    = regexp.MustCompile(`^[a-z0-9]+$`)
	countryRE = regexp.MustCompile(`^[a-z]{3}$`)
)

// MaxSlug bounds a slug: it is a URL segment.
const MaxSlug = 63

// ValidSlug reports whether s has the slug syntax (the router uses it to
// tell a slug segment from a path segment).
func ValidSlug(s string) bool { return len(s) <= MaxSlug && slugRE.MatchString(s) }

// PutLocationInput creates or replaces a location.
type PutLocationInput struct {
	Slug        string
	DisplayName string
	Description string
	CountryCode string
	OrderNr     int64
	IsPreferred bool
	// IsDefault makes this the default location (the previous default
	// loses the flag). The first location is the default whatever it says.
	IsDefault bool
}

// Validate checks the input; field names are the wire names of the
// idcloudhost Location object, which the native API shares.
func (in *PutLocationInput) Validate() error {
	if !ValidSlug(in.Slug) {
		return errs.Invalidf("slug", "must be 1 to %d characters of a-z and 0-9", MaxSlug)
	}
	var err error
	if in.DisplayName, err = validate.Name("display_name", in.DisplayName); err != nil {
		return err
	}
	if in.Description, err = validate.Text("description", strings.TrimSpace(in.Description), 1000); err != nil {
		return err
	}
	in.CountryCode = strings.ToLower(strings.TrimSpace(in.CountryCode))
	if !countryRE.MatchString(in.CountryCode) {
		return errs.Invalid("country_code", "must be a three-letter ISO 3166-1 alpha-3 code")
	}
	if in.OrderNr < 0 {
		return errs.Invalid("order_nr", "must not be negative")
	}
	return nil
}
