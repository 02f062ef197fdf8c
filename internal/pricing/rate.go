package pricing

import (
	"fmt"
	"strings"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/money"
)

// Meter is what a usage record measures.
type Meter string

const (
	// MeterVM is one VM-hour: compute, RAM and its main disk while running,
	// the disk only while stopped.
	MeterVM Meter = "vm"
	// MeterDisk is one hour of an additional block disk (GB × main storage).
	MeterDisk Meter = "disk"
	// MeterSnapshot and MeterBackup are one hour of a snapshot or backup
	// (GB × their storage price).
	MeterSnapshot Meter = "snapshot"
	MeterBackup   Meter = "backup"
	// MeterObjectStorage is measured in GB-hours: the quantity is GB × hours
	// and the unit price the OBJECT_STORAGE price.
	MeterObjectStorage Meter = "object_storage"
	// MeterFloatingIP is one hour of a reserved public IPv4 address that is
	// not assigned (Config.Name: the address).
	MeterFloatingIP Meter = "floating_ip"
	// MeterLoadBalancer is one hour of a load balancer (Config.Name: its
	// display name).
	MeterLoadBalancer Meter = "load_balancer"
)

// Valid reports whether m is a known meter.
func (m Meter) Valid() bool {
	switch m {
	case MeterVM, MeterDisk, MeterSnapshot, MeterBackup, MeterObjectStorage, MeterFloatingIP, MeterLoadBalancer:
		return true
	}
	return false
}

// TimeBased reports whether a record's quantity is a fraction of its hour
// (≤ 1) rather than an amount of GB-hours.
func (m Meter) TimeBased() bool { return m != MeterObjectStorage }

// VM states Rate knows.
const (
	StatusRunning = "running"
	StatusStopped = "stopped"
)

// Uptime types of a rating (the usage view's uptime_types).
const (
	UptimeVMCompute      = "VM_COMPUTE"
	UptimeVMRunning      = "VM_RUNNING"
	UptimeMainStorage    = "MAIN_STORAGE"
	UptimeWindowsLicense = "WINDOWS_LICENSE"
	UptimeBlockStorage   = "BLOCK_STORAGE"
	UptimeSnapshotStore  = "SNAPSHOT_STORAGE"
	UptimeBackupStore    = "BACKUP_STORAGE"
	UptimeObjectStore    = "OBJECT_STORAGE"
	UptimeFloatingIP     = "UNASSIGNED_FLOATING_IP"
	UptimeLoadBalancer   = "LOAD_BALANCER"
)

// Bounds of a configuration, far above any real machine, so that no
// product of them can be absurd.
const (
	MaxCPUs   = 4096
	MaxRAMMB  = 1 << 30 // 1 PiB
	MaxSizeGB = 1 << 30
)

// Config is the configuration a usage record was taken in. Its JSON form is
// what the store keeps (and what groups usage lines): the VM fields carry
// the usage view's names (cpus, ram_MB, disk_size_GB, os_name, vm_name);
// DiskGB and OSName are pointers because the seed shows them null.
type Config struct {
	VMName  string  `json:"vm_name,omitempty"`
	CPUs    int64   `json:"cpus,omitempty"`
	RAMMB   int64   `json:"ram_MB,omitempty"`
	DiskGB  *int64  `json:"disk_size_GB,omitempty"`
	OSName  *string `json:"os_name,omitempty"`
	Status  string  `json:"status,omitempty"`  // vm: running (or empty) | stopped
	Service string  `json:"service,omitempty"` // managed service whose multipliers apply
	Name    string  `json:"name,omitempty"`    // disk, snapshot, backup, bucket: its name
	SizeGB  int64   `json:"size_GB,omitempty"` // disk, snapshot, backup
}

// Rating is the result of Rate.
type Rating struct {
	UnitPrice   money.Decimal // EUR per hour (per GB-hour for object storage), exact
	Description string        // the invoice line name / usage description
	UptimeTypes []string
}

// Rate prices one configuration with a policy. It is pure: the same policy
// and configuration give the same rating, exactly (no rounding: the price is
// a sum of products of decimals). VM:
//
//	running: cpus × CPU(1 core) + ram_MB/1024 × RAM(1024 MB) + disk_GB × STORAGE(main)
//	         [+ cpus × LICENSE(windows) when os_name is windows]
//	stopped: disk_GB × STORAGE(main), description suffixed ", stopped"
//
// and the description is "<vm_name>, <cpus> CPUs, <ram GB> GB RAM, <disk>
// GB disk" as the seed writes it (a null disk reads "null GB disk").
// With Config.Service set, each component is multiplied by that service's
// multiplier for (resource type, serviceNameInUptime), falling back to the
// type's multiplier without a name, else 1.
func Rate(p Policy, meter Meter, c Config) (Rating, error) {
	var mult []Multiplier
	if c.Service != "" {
		m, ok := p.Services[c.Service]
		if !ok {
			return Rating{}, errs.Invalidf("config.service", "no prices are defined for managed service %q", c.Service)
		}
		mult = m
	}
	r := rater{items: p.Version.Items, mult: mult}
	switch meter {
	case MeterVM:
		return r.vm(c)
	case MeterDisk, MeterSnapshot, MeterBackup:
		return r.volume(meter, c)
	case MeterObjectStorage:
		if c.Name == "" {
			return Rating{}, errs.Invalid("config.name", "is required for object storage usage")
		}
		price, err := r.component(ObjectStorage, UptimeObjectStorage, UptimeObjectStorage, money.DecimalFromInt(1))
		if err != nil {
			return Rating{}, err
		}
		return Rating{UnitPrice: price, Description: c.Name + ", object storage", UptimeTypes: []string{UptimeObjectStore}}, nil
	case MeterFloatingIP, MeterLoadBalancer:
		t, what, uptime := FloatingIP, "floating IP", UptimeFloatingIP
		if meter == MeterLoadBalancer {
			t, what, uptime = LoadBalancer, "load balancer", UptimeLoadBalancer
		}
		if c.Name == "" {
			return Rating{}, errs.Invalidf("config.name", "is required for %s usage", what)
		}
		price, err := r.component(t, "", "", money.DecimalFromInt(1))
		if err != nil {
			return Rating{}, err
		}
		return Rating{UnitPrice: price, Description: c.Name + ", " + what, UptimeTypes: []string{uptime}}, nil
	}
	return Rating{}, errs.Invalidf("meter", "must be vm, disk, snapshot, backup, object_storage, floating_ip or load_balancer, not %q", meter)
}

type rater struct {
	items []Item
	mult  []Multiplier
}

// component returns qty × the item's price × the multiplier. multName is
// the serviceNameInUptime the multiplier is looked up by (it differs from
// the item's for additional disks: priced as main storage, multiplied as
// block storage).
func (r rater) component(t ResourceType, itemName, multName string, qty money.Decimal) (money.Decimal, error) {
	var price money.Decimal
	found := false
	for _, it := range r.items {
		if it.ResourceType != t {
			continue
		}
		if (t == CPU && it.NumCPUs == 1) || (t == RAM && it.MegsRAM == 1024) ||
			(t != CPU && t != RAM && it.ServiceNameInUptime == itemName) {
			price, found = it.Price, true
			break
		}
	}
	if !found {
		what := string(t)
		if itemName != "" {
			what += " " + itemName
		}
		return money.Decimal{}, errs.Newf(errs.KindPrecondition, "the pricing policy has no %s price", what)
	}
	v := qty.Mul(price)
	if r.mult != nil {
		v = v.Mul(r.multiplier(t, multName))
	}
	return v, nil
}

func (r rater) multiplier(t ResourceType, name string) money.Decimal {
	var generic *Multiplier
	for i, m := range r.mult {
		if m.ResourceType != t {
			continue
		}
		if m.ServiceNameInUptime == name {
			return m.PriceMultiplier
		}
		if m.ServiceNameInUptime == "" {
			generic = &r.mult[i]
		}
	}
	if generic != nil {
		return generic.PriceMultiplier
	}
	return money.DecimalFromInt(1)
}

// ramGB is ram_MB / 1024, exactly: 1024 = 2^10, so the quotient has at most
// ten decimals and is computed as ram_MB × 10^10 / 1024 in integers.
func ramGB(mb int64) money.Decimal {
	return money.DecimalFromInt(mb * 9765625).Shift(-10) // 10^10 / 1024 = 9765625
}

func (r rater) vm(c Config) (Rating, error) {
	switch {
	case c.VMName == "":
		return Rating{}, errs.Invalid("config.vm_name", "is required")
	case c.CPUs < 1 || c.CPUs > MaxCPUs:
		return Rating{}, errs.Invalidf("config.cpus", "must be between 1 and %d", MaxCPUs)
	case c.RAMMB < 1 || c.RAMMB > MaxRAMMB:
		return Rating{}, errs.Invalidf("config.ram_MB", "must be between 1 and %d", MaxRAMMB)
	case c.DiskGB != nil && (*c.DiskGB < 0 || *c.DiskGB > MaxSizeGB):
		return Rating{}, errs.Invalidf("config.disk_size_GB", "must be between 0 and %d", MaxSizeGB)
	case c.Status != "" && c.Status != StatusRunning && c.Status != StatusStopped:
		return Rating{}, errs.Invalid("config.status", "must be running or stopped")
	}
	disk, diskText := int64(0), "null"
	if c.DiskGB != nil {
		disk, diskText = *c.DiskGB, fmt.Sprint(*c.DiskGB)
	}
	desc := fmt.Sprintf("%s, %d CPUs, %s GB RAM, %s GB disk", c.VMName, c.CPUs, ramGB(c.RAMMB).String(), diskText)
	storage, err := r.component(Storage, UptimeMain, UptimeMain, money.DecimalFromInt(disk))
	if err != nil {
		return Rating{}, err
	}
	if c.Status == StatusStopped {
		return Rating{UnitPrice: storage, Description: desc + ", stopped", UptimeTypes: []string{UptimeMainStorage}}, nil
	}
	cpu, err := r.component(CPU, "", "", money.DecimalFromInt(c.CPUs))
	if err != nil {
		return Rating{}, err
	}
	ram, err := r.component(RAM, "", "", ramGB(c.RAMMB))
	if err != nil {
		return Rating{}, err
	}
	price := cpu.Add(ram).Add(storage)
	types := []string{UptimeVMCompute, UptimeVMRunning, UptimeMainStorage}
	if c.OSName != nil && strings.EqualFold(*c.OSName, "windows") {
		lic, err := r.component(License, UptimeWindows, UptimeWindows, money.DecimalFromInt(c.CPUs))
		if err != nil {
			return Rating{}, err
		}
		price = price.Add(lic)
		types = append(types, UptimeWindowsLicense)
	}
	return Rating{UnitPrice: price, Description: desc, UptimeTypes: types}, nil
}

func (r rater) volume(m Meter, c Config) (Rating, error) {
	if c.Name == "" {
		return Rating{}, errs.Invalidf("config.name", "is required for %s usage", m)
	}
	if c.SizeGB < 1 || c.SizeGB > MaxSizeGB {
		return Rating{}, errs.Invalidf("config.size_GB", "must be between 1 and %d", MaxSizeGB)
	}
	size := money.DecimalFromInt(c.SizeGB)
	var (
		price money.Decimal
		err   error
		typ   string
	)
	switch m {
	case MeterDisk:
		price, err = r.component(Storage, UptimeMain, UptimeBlock, size)
		typ = UptimeBlockStorage
	case MeterSnapshot:
		price, err = r.component(Storage, UptimeSnapshot, UptimeSnapshot, size)
		typ = UptimeSnapshotStore
	default:
		price, err = r.component(Storage, UptimeBackup, UptimeBackup, size)
		typ = UptimeBackupStore
	}
	if err != nil {
		return Rating{}, err
	}
	return Rating{UnitPrice: price, Description: fmt.Sprintf("%s, %d GB %s", c.Name, c.SizeGB, m), UptimeTypes: []string{typ}}, nil
}
