package pricing

import (
	"time"

	"github.com/trellis-cloud/trellis/internal/money"
)

// DefaultVersionID is the id of the version EnsureDefault installs.
const DefaultVersionID = "default"

// DefaultEffectiveFrom is when the default version takes effect: the epoch,
// so every period has a price.
var defaultEffectiveFrom = time.Unix(0, 0).UTC()

// dec parses a constant price; the literals below are valid by construction
// (a test checks them against the seed sample).
func dec(s string) money.Decimal {
	d, err := money.ParseDecimal("price", s)
	if err != nil {
		panic("pricing: bad built-in price " + s)
	}
	return d
}

// DefaultItems is the seed's price list (idcloudhost getPricingPolicy
// sample, ID-98), written out here so that nothing reads test data at run
// time. 3.42e-05 is 0.0000342. The last two items are not in the sample:
// the seed bills unassigned floating IPs and load balancers but prints no
// price for them, so the default adds 0.00274/h (about 2 EUR a month) and
// 0.0137/h (about 10 EUR a month); operators set their own with a new
// price version.
func DefaultItems() []Item {
	return []Item{
		{PolicyID: 1001, ResourceType: CPU, ServiceNameUserFriendly: "1 CPU", NumCPUs: 1, Price: dec("0.00521")},
		{PolicyID: 1010, ResourceType: RAM, ServiceNameUserFriendly: "0.5 GB RAM", MegsRAM: 512, Price: dec("0.001645")},
		{PolicyID: 1011, ResourceType: RAM, ServiceNameUserFriendly: "1 GB RAM", MegsRAM: 1024, Price: dec("0.00329")},
		{PolicyID: 1021, ResourceType: Storage, ServiceNameUserFriendly: "Backup", ServiceNameInUptime: UptimeBackup, Price: dec("0.0000342")},
		{PolicyID: 1022, ResourceType: Storage, ServiceNameUserFriendly: "Snapshot", ServiceNameInUptime: UptimeSnapshot, Price: dec("0.0001")},
		{PolicyID: 1023, ResourceType: Storage, ServiceNameUserFriendly: "Storage", ServiceNameInUptime: UptimeMain, Price: dec("0.0001")},
		{PolicyID: 1030, ResourceType: License, ServiceNameUserFriendly: "Windows license per core per hour", ServiceNameInUptime: UptimeWindows, Price: dec("0.00548")},
		{PolicyID: 1040, ResourceType: ObjectStorage, ServiceNameUserFriendly: "Object storage per gigabyte per hour", ServiceNameInUptime: UptimeObjectStorage, Price: dec("0.0000342")},
		{PolicyID: 1050, ResourceType: FloatingIP, ServiceNameUserFriendly: "Unassigned floating IP per hour", Price: dec("0.00274")},
		{PolicyID: 1060, ResourceType: LoadBalancer, ServiceNameUserFriendly: "Load balancer per hour", Price: dec("0.0137")},
	}
}

// DefaultVersion is the version EnsureDefault installs.
func DefaultVersion() Version {
	return Version{ID: DefaultVersionID, EffectiveFrom: defaultEffectiveFrom, Items: DefaultItems(),
		CreatedAt: defaultEffectiveFrom, CreatedBy: "system"}
}

// DefaultServices are the managed-service multipliers EnsureDefault
// installs for the two services of the seed: the ServicePackage sample's
// list (compute and disks ×3, snapshots, backups, object storage, licences
// and floating IPs included).
func DefaultServices() []ServiceMultipliers {
	list := func() []Multiplier {
		return []Multiplier{
			{ResourceType: CPU, PriceMultiplier: dec("3")},
			{ResourceType: RAM, PriceMultiplier: dec("3")},
			{ResourceType: Storage, ServiceNameInUptime: UptimeMain, PriceMultiplier: dec("3")},
			{ResourceType: Storage, ServiceNameInUptime: UptimeBlock, PriceMultiplier: dec("3")},
			{ResourceType: Storage, ServiceNameInUptime: UptimeSnapshot, PriceMultiplier: dec("0")},
			{ResourceType: Storage, ServiceNameInUptime: UptimeBackup, PriceMultiplier: dec("0")},
			{ResourceType: ObjectStorage, PriceMultiplier: dec("0")},
			{ResourceType: License, ServiceNameInUptime: UptimeWindows, PriceMultiplier: dec("0")},
			{ResourceType: FloatingIP, PriceMultiplier: dec("0")},
		}
	}
	return []ServiceMultipliers{
		{Service: "mariadb", Multipliers: list(), UpdatedAt: defaultEffectiveFrom},
		{Service: "postgresql", Multipliers: list(), UpdatedAt: defaultEffectiveFrom},
	}
}
