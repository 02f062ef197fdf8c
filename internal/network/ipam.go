package network

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
)

// IP address management, the pure part. Where addresses come from:
//
//   - A network's IPv4 subnet is the n-th /SubnetBits (default /24) of
//     Config.PrivateRange (default 10.0.0.0/8, so 65,536 networks per user),
//     n the lowest index the user does not use: subnets never overlap within
//     a user (a unique index on (org, index) backs the per-user lock); two
//     users may use the same subnet, their VLANs are separate.
//   - Inside a subnet, .1 is the gateway; VMs and load balancers take the
//     lowest free host address (.2 …), claimed under the network's row lock
//     and unique per network (the network_addresses primary key). A released
//     address is free again.
//   - A network's IPv6 subnet is the n-th /64 of Config.IPv6Range (default
//     2001:db8::/32), n from the global counter "ipv6_net" (never reused).
//     A VM's IPv6 address is its /64 plus the EUI-64 interface id of its MAC.
//   - MAC addresses are 02:xx:xx:xx:xx:xx (locally administered, unicast)
//     with the 40-bit index from the global counter "mac" (never reused;
//     unique index as a backstop).
//   - Public IPv4 addresses come from the operator's CIDRs per location
//     (PoolRange), network and broadcast addresses and listed exclusions
//     left out; every address is a row, claimed by a conditional update
//     (see Service.reserveTx), so an address is never handed out twice, on
//     any number of nodes sharing one database.

// subnetAt returns the index-th /bits subnet of base.
func subnetAt(base netip.Prefix, bits int, index int64) (netip.Prefix, error) {
	if !base.Addr().Is4() || bits < base.Bits() || bits > 30 {
		return netip.Prefix{}, fmt.Errorf("network: bad private range %s for /%d subnets", base, bits)
	}
	if index < 0 || index >= int64(1)<<(bits-base.Bits()) {
		return netip.Prefix{}, errs.New(errs.KindCapacityExceeded, "no free private subnet left for this user")
	}
	b := base.Masked().Addr().As4()
	v := binary.BigEndian.Uint32(b[:]) + uint32(index)<<(32-bits)
	var out [4]byte
	binary.BigEndian.PutUint32(out[:], v)
	return netip.PrefixFrom(netip.AddrFrom4(out), bits), nil
}

// subnetCount is how many subnets of /bits base holds.
func subnetCount(base netip.Prefix, bits int) int64 { return int64(1) << (bits - base.Bits()) }

// hostAt returns host number n of an IPv4 subnet (n ≥ 1).
func hostAt(p netip.Prefix, n int64) netip.Addr {
	b := p.Masked().Addr().As4()
	v := binary.BigEndian.Uint32(b[:]) + uint32(n)
	var out [4]byte
	binary.BigEndian.PutUint32(out[:], v)
	return netip.AddrFrom4(out)
}

// hostNumber returns a's offset in p.
func hostNumber(p netip.Prefix, a netip.Addr) int64 {
	b, x := p.Masked().Addr().As4(), a.As4()
	return int64(binary.BigEndian.Uint32(x[:]) - binary.BigEndian.Uint32(b[:]))
}

// firstFreeHost returns the lowest host address of subnet p from .2 up (.1
// is the gateway) not in used, or false when the subnet is full.
func firstFreeHost(p netip.Prefix, used []string) (netip.Addr, bool) {
	taken := map[int64]bool{}
	for _, u := range used {
		if a, err := netip.ParseAddr(u); err == nil && p.Contains(a) {
			taken[hostNumber(p, a)] = true
		}
	}
	last := int64(1)<<(32-p.Bits()) - 2 // broadcast excluded
	for n := int64(2); n <= last; n++ {
		if !taken[n] {
			return hostAt(p, n), true
		}
	}
	return netip.Addr{}, false
}

// ipv6SubnetAt returns the index-th /64 of base.
func ipv6SubnetAt(base netip.Prefix, index int64) (netip.Prefix, error) {
	if !base.Addr().Is6() || base.Bits() > 64 {
		return netip.Prefix{}, fmt.Errorf("network: bad IPv6 range %s", base)
	}
	if index < 0 || (64-base.Bits() < 63 && index >= int64(1)<<(64-base.Bits())) {
		return netip.Prefix{}, errs.New(errs.KindCapacityExceeded, "the IPv6 range has no free /64 left")
	}
	b := base.Masked().Addr().As16()
	hi := binary.BigEndian.Uint64(b[:8]) + uint64(index)
	binary.BigEndian.PutUint64(b[:8], hi)
	return netip.PrefixFrom(netip.AddrFrom16(b), 64), nil
}

// macAt returns the MAC address with index n: 02 then n in 40 bits.
func macAt(n int64) string {
	return fmt.Sprintf("02:%02x:%02x:%02x:%02x:%02x", byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// eui64 returns the address of a /64 for a MAC (modified EUI-64).
func eui64(p netip.Prefix, mac string) (netip.Addr, error) {
	var m [6]byte
	parts := strings.Split(mac, ":")
	if len(parts) != 6 {
		return netip.Addr{}, fmt.Errorf("network: bad MAC %q", mac)
	}
	for i, s := range parts {
		var v byte
		if _, err := fmt.Sscanf(s, "%02x", &v); err != nil {
			return netip.Addr{}, fmt.Errorf("network: bad MAC %q", mac)
		}
		m[i] = v
	}
	b := p.Masked().Addr().As16()
	b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15] = m[0]^0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]
	return netip.AddrFrom16(b), nil
}

// PoolAddress is one public address of a range with its numeric value
// (the allocation order).
type PoolAddress struct {
	Address string
	Num     int64
}

// parsePoolRange checks an operator's CIDR and lists its usable
// addresses: IPv4, at most a /MinPoolPrefix, the network and broadcast
// addresses left out (all addresses of a /31 or /32), and the excluded ones.
func parsePoolRange(cidr string, exclude []string) (netip.Prefix, []PoolAddress, []string, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(cidr))
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, nil, nil, errs.Invalid("cidr", "must be an IPv4 CIDR such as 203.0.113.0/24")
	}
	if p != p.Masked() {
		return netip.Prefix{}, nil, nil, errs.Invalidf("cidr", "must be a network address (%s)", p.Masked())
	}
	if p.Bits() < MinPoolPrefix {
		return netip.Prefix{}, nil, nil, errs.Invalidf("cidr", "must be at most a /%d", MinPoolPrefix)
	}
	ex := map[netip.Addr]bool{}
	var exList []string
	for _, e := range exclude {
		a, err := netip.ParseAddr(strings.TrimSpace(e))
		if err != nil || !a.Is4() || !p.Contains(a) {
			return netip.Prefix{}, nil, nil, errs.Invalidf("exclude", "%q is not an IPv4 address of %s", e, p)
		}
		if !ex[a] {
			exList = append(exList, a.String())
		}
		ex[a] = true
	}
	size := int64(1) << (32 - p.Bits())
	first, last := int64(1), size-2
	if p.Bits() >= 31 {
		first, last = 0, size-1
	}
	var out []PoolAddress
	for n := first; n <= last; n++ {
		a := hostAt(p, n)
		if ex[a] {
			continue
		}
		out = append(out, PoolAddress{Address: a.String(), Num: addrNum(a)})
	}
	if len(out) == 0 {
		return netip.Prefix{}, nil, nil, errs.Invalid("cidr", "leaves no usable address")
	}
	return p, out, exList, nil
}

// addrNum is an IPv4 address as a number (allocation order).
func addrNum(a netip.Addr) int64 {
	b := a.As4()
	return int64(binary.BigEndian.Uint32(b[:]))
}

// overlaps reports whether two prefixes share an address.
func overlaps(a, b netip.Prefix) bool { return a.Overlaps(b) }

// normUUID returns the canonical form of a UUID.
func normUUID(s string) (string, bool) { return ids.Normalize(strings.TrimSpace(s)) }

// canonicalIPv4 parses a public address given in a path.
func canonicalIPv4(s string) (string, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return "", false
	}
	return a.String(), true
}
