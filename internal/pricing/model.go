// Package pricing holds the price policy (the idcloudhost /v1/pricing/policy:
// decimal prices per hour per CPU, GB of RAM, GB of storage, Windows licence
// core and GB of object storage), its versions with effective dates, the
// price multipliers of managed services, and Rate, the pure function that
// turns one resource configuration into a unit price per hour.
//
// Versions are immutable: a price change is a new version effective from a
// future instant, so usage already recorded (rated with the version effective
// at its period's start) never changes price after the fact.
package pricing

import (
	"fmt"
	"time"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/money"
)

// ResourceType is what a policy item prices.
type ResourceType string

const (
	CPU           ResourceType = "CPU"            // per core (numCpus)
	RAM           ResourceType = "RAM"            // per megsRam MB
	Storage       ResourceType = "STORAGE"        // per GB, by serviceNameInUptime main|snapshot|backup
	License       ResourceType = "LICENSE"        // per core, serviceNameInUptime windows
	ObjectStorage ResourceType = "OBJECT_STORAGE" // per GB, serviceNameInUptime object_storage
	// FloatingIP prices a reserved public IPv4 address while it is not
	// assigned, per hour (the seed's service package lists the type among
	// its multipliers; the seed's policy sample has no item for it, so the
	// default policy adds one).
	FloatingIP ResourceType = "UNASSIGNED_FLOATING_IP"
	// LoadBalancer prices a network load balancer per hour (not in the
	// seed's policy sample; the default policy adds it).
	LoadBalancer ResourceType = "LOAD_BALANCER"
)

// serviceNameInUptime values.
const (
	UptimeMain          = "main"
	UptimeBlock         = "block" // additional block disks (multipliers only)
	UptimeSnapshot      = "snapshot"
	UptimeBackup        = "backup"
	UptimeWindows       = "windows"
	UptimeObjectStorage = "object_storage"
)

// Item is one line of a policy version, as the seed's getPricingPolicy shows
// it. NumCPUs is set on CPU items only, MegsRAM on RAM items only,
// ServiceNameInUptime on the others; zero/empty means absent.
type Item struct {
	PolicyID                int64
	ResourceType            ResourceType
	ServiceNameUserFriendly string
	NumCPUs                 int64
	MegsRAM                 int64
	ServiceNameInUptime     string
	Price                   money.Decimal // EUR per hour (per GB-hour for storage kinds)
}

// Version is a complete price list effective from an instant until the next
// version's EffectiveFrom.
type Version struct {
	ID            string
	EffectiveFrom time.Time
	Items         []Item
	CreatedAt     time.Time
	CreatedBy     string // actor id; "system" for the default
}

// Multiplier scales one price component of a managed service's resources
// (the seed's ServicePackage prices). An empty ServiceNameInUptime applies to
// every component of the resource type.
type Multiplier struct {
	ResourceType        ResourceType
	ServiceNameInUptime string
	PriceMultiplier     money.Decimal
}

// ServiceMultipliers is the multiplier list of one managed service
// ("postgresql", "mariadb", …).
type ServiceMultipliers struct {
	Service     string
	Multipliers []Multiplier
	UpdatedAt   time.Time
}

// Policy is what rating needs: one version's items and every service's
// multipliers (not versioned: a change applies to usage rated afterwards).
type Policy struct {
	Version  Version
	Services map[string][]Multiplier
}

// MaxItems bounds a version; MaxPriceDecimals and MaxPriceDigits bound a
// price (the seed's prices have at most 7 decimals).
const (
	MaxItems         = 200
	MaxPriceDecimals = 12
	MaxPriceDigits   = 24
	MaxMultipliers   = 50
	MaxServiceLen    = 64
	MaxNameLen       = 200
)

// knownUptime lists the serviceNameInUptime values a policy item of a
// resource type may carry.
var knownUptime = map[ResourceType][]string{
	Storage:       {UptimeMain, UptimeSnapshot, UptimeBackup},
	License:       {UptimeWindows},
	ObjectStorage: {UptimeObjectStorage},
	FloatingIP:    {""},
	LoadBalancer:  {""},
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// CreateVersionInput is an admin's new price list.
type CreateVersionInput struct {
	EffectiveFrom time.Time
	Items         []Item
}

// ValidateItems checks a price list: known types, the per-type field set,
// prices ≥ 0 with bounded precision, unique policy ids and unique
// (type, size or uptime name) keys, and the base items Rate needs (CPU of
// 1 core, RAM of 1024 MB, main storage). Field names are the wire names
// ("items[2].price").
func ValidateItems(items []Item) error {
	if len(items) == 0 {
		return errs.Invalid("items", "must list at least one price")
	}
	if len(items) > MaxItems {
		return errs.Invalidf("items", "must list at most %d prices", MaxItems)
	}
	ids := map[int64]bool{}
	keys := map[string]bool{}
	for i, it := range items {
		f := func(name string) string { return fmt.Sprintf("items[%d].%s", i, name) }
		if it.PolicyID <= 0 {
			return errs.Invalid(f("policyId"), "must be a positive integer")
		}
		if ids[it.PolicyID] {
			return errs.Invalidf(f("policyId"), "%d is used twice", it.PolicyID)
		}
		ids[it.PolicyID] = true
		if len(it.ServiceNameUserFriendly) > MaxNameLen {
			return errs.Invalidf(f("serviceNameUserFriendly"), "must be at most %d bytes", MaxNameLen)
		}
		if err := validPrice(f("price"), it.Price); err != nil {
			return err
		}
		var key string
		switch it.ResourceType {
		case CPU:
			if it.NumCPUs <= 0 {
				return errs.Invalid(f("numCpus"), "is required for a CPU price and must be positive")
			}
			if it.MegsRAM != 0 || it.ServiceNameInUptime != "" {
				return errs.Invalid(f("resourceType"), "a CPU price has numCpus only")
			}
			key = fmt.Sprintf("CPU/%d", it.NumCPUs)
		case RAM:
			if it.MegsRAM <= 0 {
				return errs.Invalid(f("megsRam"), "is required for a RAM price and must be positive")
			}
			if it.NumCPUs != 0 || it.ServiceNameInUptime != "" {
				return errs.Invalid(f("resourceType"), "a RAM price has megsRam only")
			}
			key = fmt.Sprintf("RAM/%d", it.MegsRAM)
		case Storage, License, ObjectStorage, FloatingIP, LoadBalancer:
			if !contains(knownUptime[it.ResourceType], it.ServiceNameInUptime) {
				return errs.Invalidf(f("serviceNameInUptime"), "must be one of %v for %s", knownUptime[it.ResourceType], it.ResourceType)
			}
			if it.NumCPUs != 0 || it.MegsRAM != 0 {
				return errs.Invalidf(f("resourceType"), "a %s price has serviceNameInUptime only", it.ResourceType)
			}
			key = string(it.ResourceType) + "/" + it.ServiceNameInUptime
		default:
			return errs.Invalidf(f("resourceType"), "must be CPU, RAM, STORAGE, LICENSE, OBJECT_STORAGE, UNASSIGNED_FLOATING_IP or LOAD_BALANCER, not %q", it.ResourceType)
		}
		if keys[key] {
			return errs.Invalidf(f("resourceType"), "%s is priced twice", key)
		}
		keys[key] = true
	}
	for _, need := range []string{"CPU/1", "RAM/1024", "STORAGE/main"} {
		if !keys[need] {
			return errs.Invalidf("items", "must price %s (rating builds every VM price from it)", need)
		}
	}
	return nil
}

func validPrice(field string, p money.Decimal) error {
	if p.Sign() < 0 {
		return errs.Invalid(field, "must not be negative")
	}
	if p.Exponent() < -MaxPriceDecimals && !p.Equal(p.Truncate(MaxPriceDecimals)) {
		return errs.Invalidf(field, "must have at most %d decimals", MaxPriceDecimals)
	}
	if p.NumDigits() > MaxPriceDigits {
		return errs.Invalidf(field, "must have at most %d digits", MaxPriceDigits)
	}
	return nil
}

// ValidateMultipliers checks a managed service's multiplier list.
func ValidateMultipliers(service string, ms []Multiplier) error {
	if service == "" || len(service) > MaxServiceLen {
		return errs.Invalidf("service", "must be 1 to %d bytes", MaxServiceLen)
	}
	for _, c := range service {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return errs.Invalid("service", "must consist of a-z, 0-9, - and _")
		}
	}
	if len(ms) > MaxMultipliers {
		return errs.Invalidf("prices", "must list at most %d multipliers", MaxMultipliers)
	}
	seen := map[string]bool{}
	for i, m := range ms {
		f := func(name string) string { return fmt.Sprintf("prices[%d].%s", i, name) }
		switch m.ResourceType {
		case CPU, RAM, Storage, License, ObjectStorage, FloatingIP, LoadBalancer:
		default:
			return errs.Invalidf(f("resourceType"), "unknown resource type %q", m.ResourceType)
		}
		if len(m.ServiceNameInUptime) > MaxServiceLen {
			return errs.Invalidf(f("serviceNameInUptime"), "must be at most %d bytes", MaxServiceLen)
		}
		if err := validPrice(f("priceMultiplier"), m.PriceMultiplier); err != nil {
			return err
		}
		k := string(m.ResourceType) + "/" + m.ServiceNameInUptime
		if seen[k] {
			return errs.Invalidf(f("resourceType"), "%s is listed twice", k)
		}
		seen[k] = true
	}
	return nil
}
