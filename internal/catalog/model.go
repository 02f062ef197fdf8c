// Package catalog holds what the provider offers everywhere: the locations
// (data centres or resource pools) that location-scoped APIs address by
// slug, the host pools (server classes) of each location, the OS image
// catalogue and the VM parameter rules that VM creation and modification
// enforce (vmrules.go).
//
// Exactly one location is the default; requests without a slug use it.
// Each location with pools has exactly one default pool, and the image
// catalogue one default image. All of it is data the operator edits
// through the native admin API; --demo loads the seed's examples.
package catalog

import (
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
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

// HostPool is a server class of a location (idcloudhost "designated pool"):
// the hosts a VM runs on. Each location has exactly one default pool once it
// has any; VM creation without designated_pool_uuid uses it.
type HostPool struct {
	UUID        string
	Location    string // the location slug
	Name        string
	Description string
	IsDefault   bool // is_default_designated
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// PutHostPoolInput creates (UUID "") or updates a host pool.
type PutHostPoolInput struct {
	UUID        string // "" creates a pool with a new uuid (or with NewUUID)
	NewUUID     string // create only: the uuid to give the pool ("" = a fresh one); --demo uses the seed's uuids
	Location    string
	Name        string
	Description string
	// IsDefault makes the pool its location's default (the previous one
	// loses the flag). The first pool of a location is the default
	// whatever it says; the default cannot be unset, only moved.
	IsDefault bool
}

// Validate checks the input; field names are the idcloudhost wire names
// (name, description, is_default_designated, location, uuid).
func (in *PutHostPoolInput) Validate() error {
	if in.UUID != "" {
		u, ok := ids.Normalize(in.UUID)
		if !ok {
			return errs.Invalid("uuid", "must be a UUID")
		}
		in.UUID = u
	}
	if in.NewUUID != "" {
		u, ok := ids.Normalize(in.NewUUID)
		if !ok {
			return errs.Invalid("uuid", "must be a UUID")
		}
		in.NewUUID = u
	}
	if in.UUID == "" && !ValidSlug(in.Location) {
		return errs.Invalidf("location", "must be a location slug (1 to %d characters of a-z and 0-9)", MaxSlug)
	}
	var err error
	if in.Name, err = validate.Name("name", in.Name); err != nil {
		return err
	}
	if in.Description, err = validate.Text("description", strings.TrimSpace(in.Description), 1000); err != nil {
		return err
	}
	return nil
}

// Image is an OS image of the VM image catalogue (idcloudhost VMImage):
// plain OS or app catalog, with its versions. The published versions are
// the os_name/os_version values VM creation accepts (ID-amb-31).
type Image struct {
	OSName       string // ^[a-z0-9][a-z0-9._-]*$, the key
	DisplayName  string
	UIPosition   int64
	IsDefault    bool // at most one image is the default; the first one is
	IsAppCatalog bool
	Icon         string
	Versions     []ImageVersion // in display order
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// ImageVersion is one version of an image.
type ImageVersion struct {
	OSVersion   string
	DisplayName string
	Published   bool // only published versions can be installed
}

// Published reports whether the image has the version, published.
func (im Image) Published(osVersion string) bool {
	for _, v := range im.Versions {
		if v.OSVersion == osVersion && v.Published {
			return true
		}
	}
	return false
}

// PutImageInput creates or replaces an image (the versions are replaced as
// a whole).
type PutImageInput struct {
	OSName       string
	DisplayName  string
	UIPosition   int64
	IsDefault    bool // make it the default image (the first image is the default anyway)
	IsAppCatalog bool
	Icon         string
	Versions     []ImageVersion
}

var osNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// MaxOSName bounds an os_name or os_version.
const MaxOSName = 64

// ValidOSName reports whether s has the os_name syntax.
func ValidOSName(s string) bool { return len(s) <= MaxOSName && osNameRE.MatchString(s) }

// Validate checks the input; field names are the idcloudhost wire names.
func (in *PutImageInput) Validate() error {
	if !ValidOSName(in.OSName) {
		return errs.Invalidf("os_name", "must be 1 to %d characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit", MaxOSName)
	}
	var err error
	if in.DisplayName, err = validate.Name("display_name", in.DisplayName); err != nil {
		return err
	}
	if in.UIPosition < 0 {
		return errs.Invalid("ui_position", "must not be negative")
	}
	if in.Icon, err = validate.Text("icon", in.Icon, 100_000); err != nil {
		return err
	}
	if len(in.Versions) > 100 {
		return errs.Invalid("versions", "at most 100 versions")
	}
	seen := map[string]bool{}
	for i := range in.Versions {
		v := &in.Versions[i]
		v.OSVersion = strings.TrimSpace(v.OSVersion)
		if v.OSVersion == "" || len(v.OSVersion) > MaxOSName || strings.ContainsFunc(v.OSVersion, unicode.IsSpace) ||
			!utf8.ValidString(v.OSVersion) {
			return errs.Invalidf("versions", "version %d: os_version must be 1 to %d characters without spaces", i+1, MaxOSName)
		}
		if seen[v.OSVersion] {
			return errs.Invalidf("versions", "os_version %q is listed twice", v.OSVersion)
		}
		seen[v.OSVersion] = true
		if v.DisplayName == "" {
			v.DisplayName = v.OSVersion
		}
		if v.DisplayName, err = validate.Name("versions", v.DisplayName); err != nil {
			return errs.Invalidf("versions", "version %q: display_name must be 1 to %d characters without control characters", v.OSVersion, validate.MaxName)
		}
	}
	return nil
}
