package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/trellis-cloud/trellis/internal/network"
	"github.com/trellis-cloud/trellis/internal/store/db"
)

// Network is the network.Store.
type Network struct{ *Store }

// Tx implements network.Store.
func (n Network) Tx(ctx context.Context, fn func(network.Store) error) error {
	return n.tx(ctx, func(s *Store) error { return fn(Network{s}) })
}

var _ network.Store = Network{}

// NetworkUserID implements network.Queries.
func (s *Store) NetworkUserID(ctx context.Context, orgID string) (int64, error) {
	var id int64
	err := s.r().QueryRowContext(ctx, `SELECT id FROM idch_users WHERE org_id = $1`, orgID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, s.mapErr(err, "user")
}

// LockNetworkOwner implements network.Queries: the row is created on first
// use, then a no-op update takes its lock (the same SQL on both databases).
func (s *Store) LockNetworkOwner(ctx context.Context, orgID string) error {
	if _, err := s.w().ExecContext(ctx, `INSERT INTO net_owners (org_id) VALUES ($1) ON CONFLICT DO NOTHING`, orgID); err != nil {
		return s.mapErr(err, "network owner")
	}
	res, err := s.w().ExecContext(ctx, `UPDATE net_owners SET locked_at = locked_at WHERE org_id = $1`, orgID)
	return s.affected(res, err, "network owner")
}

// ---- networks ----

const networkCols = `uuid, org_id, org_path, user_id, location_slug, name, vlan_id, subnet_index, subnet, subnet_ipv6,
	is_default, state, created_at, updated_at`

func scanNetwork(sc interface{ Scan(...any) error }) (network.Network, error) {
	var n network.Network
	var created, updated db.Time
	err := sc.Scan(&n.UUID, &n.OrgID, &n.OrgPath, &n.UserID, &n.Location, &n.Name, &n.VLANID, &n.SubnetIndex, &n.Subnet,
		&n.SubnetIPv6, &n.IsDefault, &n.State, &created, &updated)
	n.CreatedAt, n.UpdatedAt = created.Time, updated.Time
	return n, err
}

// InsertNetwork implements network.Queries.
func (s *Store) InsertNetwork(ctx context.Context, n network.Network) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO networks (`+networkCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
		$10, $11, $12, $13, $14)`, n.UUID, n.OrgID, n.OrgPath, n.UserID, n.Location, n.Name, n.VLANID, n.SubnetIndex, n.Subnet,
		n.SubnetIPv6, n.IsDefault, n.State, n.CreatedAt, n.UpdatedAt)
	return s.mapErr(err, "network")
}

// networkResources fills a network's VMs and load balancer count.
func (s *Store) networkResources(ctx context.Context, n *network.Network) error {
	rows, err := s.r().QueryContext(ctx, `SELECT vm_uuid FROM vm_interfaces WHERE network_uuid = $1 ORDER BY created_at, vm_uuid`, n.UUID)
	if err != nil {
		return s.mapErr(err, "network")
	}
	if n.VMUUIDs, err = collect(rows, func(sc interface{ Scan(...any) error }) (string, error) {
		var v string
		return v, sc.Scan(&v)
	}); err != nil {
		return err
	}
	n.LBCount, err = s.count(ctx, `SELECT count(*) FROM load_balancers WHERE network_uuid = $1`, n.UUID)
	return err
}

// GetNetwork implements network.Queries.
func (s *Store) GetNetwork(ctx context.Context, orgID, uuid string) (network.Network, error) {
	n, err := scanNetwork(s.r().QueryRowContext(ctx, `SELECT `+networkCols+` FROM networks WHERE uuid = $1 AND ($2 = '' OR org_id = $2)`,
		uuid, orgID))
	if err != nil {
		return network.Network{}, s.mapErr(err, "network")
	}
	return n, s.networkResources(ctx, &n)
}

// LockNetwork implements network.Queries.
func (s *Store) LockNetwork(ctx context.Context, uuid string) (network.Network, error) {
	n, err := scanNetwork(s.w().QueryRowContext(ctx, `UPDATE networks SET updated_at = updated_at WHERE uuid = $1 RETURNING `+networkCols, uuid))
	return n, s.mapErr(err, "network")
}

// ListNetworks implements network.Queries.
func (s *Store) ListNetworks(ctx context.Context, orgID, location string) ([]network.Network, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+networkCols+` FROM networks WHERE org_id = $1 AND ($2 = '' OR location_slug = $2)
		ORDER BY created_at, uuid`, orgID, location)
	if err != nil {
		return nil, s.mapErr(err, "network")
	}
	out, err := collect(rows, scanNetwork)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if err := s.networkResources(ctx, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// DefaultNetwork implements network.Queries.
func (s *Store) DefaultNetwork(ctx context.Context, orgID, location string) (network.Network, error) {
	n, err := scanNetwork(s.r().QueryRowContext(ctx, `SELECT `+networkCols+` FROM networks WHERE org_id = $1 AND location_slug = $2
		AND is_default`, orgID, location))
	if err != nil {
		return network.Network{}, s.mapErr(err, "network")
	}
	return n, s.networkResources(ctx, &n)
}

// NetworkSubnetIndexes implements network.Queries.
func (s *Store) NetworkSubnetIndexes(ctx context.Context, orgID string) ([]int64, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT subnet_index FROM networks WHERE org_id = $1 ORDER BY subnet_index`, orgID)
	if err != nil {
		return nil, s.mapErr(err, "network")
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (int64, error) {
		var v int64
		return v, sc.Scan(&v)
	})
}

// UpdateNetwork implements network.Queries.
func (s *Store) UpdateNetwork(ctx context.Context, n network.Network) error {
	res, err := s.w().ExecContext(ctx, `UPDATE networks SET name = $2, is_default = $3, state = $4, updated_at = $5 WHERE uuid = $1`,
		n.UUID, n.Name, n.IsDefault, n.State, n.UpdatedAt)
	return s.affected(res, err, "network")
}

// ClearDefaultNetwork implements network.Queries.
func (s *Store) ClearDefaultNetwork(ctx context.Context, orgID, location string, at time.Time) error {
	_, err := s.w().ExecContext(ctx, `UPDATE networks SET is_default = FALSE, updated_at = $3
		WHERE org_id = $1 AND location_slug = $2 AND is_default`, orgID, location, at)
	return s.mapErr(err, "network")
}

// DeleteNetwork implements network.Queries.
func (s *Store) DeleteNetwork(ctx context.Context, uuid string) error {
	res, err := s.w().ExecContext(ctx, `DELETE FROM networks WHERE uuid = $1`, uuid)
	return s.affected(res, err, "network")
}

// ---- addresses inside networks ----

// NetworkAddresses implements network.Queries.
func (s *Store) NetworkAddresses(ctx context.Context, networkUUID string) ([]string, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT address FROM network_addresses WHERE network_uuid = $1`, networkUUID)
	if err != nil {
		return nil, s.mapErr(err, "address")
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (string, error) {
		var v string
		return v, sc.Scan(&v)
	})
}

// ClaimNetworkAddress implements network.Queries.
func (s *Store) ClaimNetworkAddress(ctx context.Context, networkUUID, address, ownerType, ownerUUID string) (bool, error) {
	res, err := s.w().ExecContext(ctx, `INSERT INTO network_addresses (network_uuid, address, owner_type, owner_uuid)
		VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, networkUUID, address, ownerType, ownerUUID)
	return s.changed(res, err, "address")
}

// ReleaseNetworkAddress implements network.Queries.
func (s *Store) ReleaseNetworkAddress(ctx context.Context, networkUUID, address string) error {
	_, err := s.w().ExecContext(ctx, `DELETE FROM network_addresses WHERE network_uuid = $1 AND address = $2`, networkUUID, address)
	return s.mapErr(err, "address")
}

const vmInterfaceCols = `vm_uuid, network_uuid, org_id, user_id, location_slug, private_ipv4, mac, ipv6, created_at`

// InsertVMInterface implements network.Queries.
func (s *Store) InsertVMInterface(ctx context.Context, i network.VMInterface) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO vm_interfaces (`+vmInterfaceCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		i.VMUUID, i.NetworkUUID, i.OrgID, i.UserID, i.Location, i.PrivateIPv4, i.MAC, i.IPv6, i.CreatedAt)
	return s.mapErr(err, "interface")
}

// GetVMInterface implements network.Queries.
func (s *Store) GetVMInterface(ctx context.Context, vmUUID string) (network.VMInterface, error) {
	var i network.VMInterface
	var created db.Time
	err := s.r().QueryRowContext(ctx, `SELECT `+vmInterfaceCols+` FROM vm_interfaces WHERE vm_uuid = $1`, vmUUID).Scan(
		&i.VMUUID, &i.NetworkUUID, &i.OrgID, &i.UserID, &i.Location, &i.PrivateIPv4, &i.MAC, &i.IPv6, &created)
	i.CreatedAt = created.Time
	return i, s.mapErr(err, "interface")
}

// DeleteVMInterface implements network.Queries.
func (s *Store) DeleteVMInterface(ctx context.Context, vmUUID string) error {
	_, err := s.w().ExecContext(ctx, `DELETE FROM vm_interfaces WHERE vm_uuid = $1`, vmUUID)
	return s.mapErr(err, "interface")
}

// ---- public pool ----

// InsertPoolRange implements network.Queries: the range and all its
// addresses, in batches.
func (s *Store) InsertPoolRange(ctx context.Context, r network.PoolRange, addrs []network.PoolAddress) error {
	return s.tx(ctx, func(t *Store) error {
		if _, err := t.w().ExecContext(ctx, `INSERT INTO ip_pool_ranges (id, location_slug, cidr, excluded, created_at)
			VALUES ($1, $2, $3, $4, $5)`, r.ID, r.Location, r.CIDR, strings.Join(r.Excluded, ","), r.CreatedAt); err != nil {
			return t.mapErr(err, "pool range")
		}
		const batch = 200
		for i := 0; i < len(addrs); i += batch {
			chunk := addrs[i:min(i+batch, len(addrs))]
			var sb strings.Builder
			sb.WriteString(`INSERT INTO ip_pool_addresses (address, num, location_slug, range_id) VALUES `)
			args := make([]any, 0, 2*len(chunk)+2)
			args = append(args, r.Location, r.ID)
			for j, a := range chunk {
				if j > 0 {
					sb.WriteString(", ")
				}
				sb.WriteString("($" + strconv.Itoa(len(args)+1) + ", CAST($" + strconv.Itoa(len(args)+2) + " AS BIGINT), $1, $2)")
				args = append(args, a.Address, a.Num)
			}
			if _, err := t.w().ExecContext(ctx, sb.String(), args...); err != nil {
				return t.mapErr(err, "pool address")
			}
		}
		return nil
	})
}

const poolRangeSelect = `SELECT r.id, r.location_slug, r.cidr, r.excluded, r.created_at,
	(SELECT count(*) FROM ip_pool_addresses a WHERE a.range_id = r.id),
	(SELECT count(*) FROM ip_pool_addresses a WHERE a.range_id = r.id AND a.floating_ip_uuid IS NOT NULL),
	COALESCE((SELECT min(a.num) FROM ip_pool_addresses a WHERE a.range_id = r.id), 0),
	COALESCE((SELECT max(a.num) FROM ip_pool_addresses a WHERE a.range_id = r.id), -1)
	FROM ip_pool_ranges r`

func scanPoolRange(sc interface{ Scan(...any) error }) (network.PoolRange, error) {
	var r network.PoolRange
	var excluded string
	var created db.Time
	err := sc.Scan(&r.ID, &r.Location, &r.CIDR, &excluded, &created, &r.Size, &r.Used, &r.MinNum, &r.MaxNum)
	r.CreatedAt = created.Time
	r.Excluded = []string{}
	if excluded != "" {
		r.Excluded = strings.Split(excluded, ",")
	}
	return r, err
}

// ListPoolRanges implements network.Queries.
func (s *Store) ListPoolRanges(ctx context.Context, location string) ([]network.PoolRange, error) {
	rows, err := s.r().QueryContext(ctx, poolRangeSelect+` WHERE $1 = '' OR r.location_slug = $1 ORDER BY r.location_slug, r.cidr`, location)
	if err != nil {
		return nil, s.mapErr(err, "pool range")
	}
	return collect(rows, scanPoolRange)
}

// GetPoolRange implements network.Queries.
func (s *Store) GetPoolRange(ctx context.Context, id string) (network.PoolRange, error) {
	r, err := scanPoolRange(s.r().QueryRowContext(ctx, poolRangeSelect+` WHERE r.id = $1`, id))
	return r, s.mapErr(err, "pool range")
}

// DeletePoolRange implements network.Queries: the free addresses go first
// (a claim racing with it either committed first, and keeps its row, or
// finds the row gone); the range goes only if none is left.
func (s *Store) DeletePoolRange(ctx context.Context, id string) (bool, error) {
	var ok bool
	err := s.tx(ctx, func(t *Store) error {
		if _, err := t.w().ExecContext(ctx, `DELETE FROM ip_pool_addresses WHERE range_id = $1 AND floating_ip_uuid IS NULL`, id); err != nil {
			return t.mapErr(err, "pool address")
		}
		left, err := t.count(ctx, `SELECT count(*) FROM ip_pool_addresses WHERE range_id = $1`, id)
		if err != nil || left > 0 {
			return err
		}
		res, err := t.w().ExecContext(ctx, `DELETE FROM ip_pool_ranges WHERE id = $1`, id)
		ok, err = t.changed(res, err, "pool range")
		return err
	})
	return ok, err
}

// ClaimPoolAddress implements network.Queries: one conditional update. The
// subquery picks the lowest free address at or above num; the outer
// condition re-checks that it is still free, so when two transactions pick
// the same row, the second (which on PostgreSQL waits for the first's
// commit) changes nothing and tries again.
func (s *Store) ClaimPoolAddress(ctx context.Context, location string, num int64, fipUUID string) (string, bool, error) {
	var addr string
	err := s.w().QueryRowContext(ctx, `UPDATE ip_pool_addresses SET floating_ip_uuid = $3
		WHERE address = (SELECT address FROM ip_pool_addresses WHERE location_slug = $1 AND floating_ip_uuid IS NULL
			AND num >= CAST($2 AS BIGINT) ORDER BY num LIMIT 1)
		AND floating_ip_uuid IS NULL RETURNING address`, location, num, fipUUID).Scan(&addr)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, s.mapErr(err, "pool address")
	}
	return addr, true, nil
}

// CountFreePoolAddresses implements network.Queries.
func (s *Store) CountFreePoolAddresses(ctx context.Context, location string) (int, error) {
	return s.count(ctx, `SELECT count(*) FROM ip_pool_addresses WHERE location_slug = $1 AND floating_ip_uuid IS NULL`, location)
}

// ReleasePoolAddress implements network.Queries.
func (s *Store) ReleasePoolAddress(ctx context.Context, address, fipUUID string) error {
	_, err := s.w().ExecContext(ctx, `UPDATE ip_pool_addresses SET floating_ip_uuid = NULL WHERE address = $1 AND floating_ip_uuid = $2`,
		address, fipUUID)
	return s.mapErr(err, "pool address")
}

// ---- floating IPs ----

const floatingIPCols = `uuid, id, address, location_slug, org_id, org_path, user_id, billing_account_id, name, enabled,
	is_virtual, assigned_to, assigned_to_resource_type, assigned_to_private_ip, unassigned_at, created_at, updated_at`

func scanFloatingIP(sc interface{ Scan(...any) error }) (network.FloatingIP, error) {
	var f network.FloatingIP
	var to, typ, priv sql.NullString
	var unassigned db.NullTime
	var created, updated db.Time
	err := sc.Scan(&f.UUID, &f.ID, &f.Address, &f.Location, &f.OrgID, &f.OrgPath, &f.UserID, &f.BillingAccountID, &f.Name,
		&f.Enabled, &f.IsVirtual, &to, &typ, &priv, &unassigned, &created, &updated)
	f.AssignedTo, f.AssignedType, f.AssignedPrivateIP = to.String, typ.String, priv.String
	f.UnassignedAt = unassigned.Ptr()
	f.CreatedAt, f.UpdatedAt = created.Time, updated.Time
	return f, err
}

// InsertFloatingIP implements network.Queries.
func (s *Store) InsertFloatingIP(ctx context.Context, f network.FloatingIP) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO floating_ips (`+floatingIPCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,
		$9, $10, $11, $12, $13, $14, $15, $16, $17)`, f.UUID, f.ID, f.Address, f.Location, f.OrgID, f.OrgPath, f.UserID,
		f.BillingAccountID, f.Name, f.Enabled, f.IsVirtual, nullable(f.AssignedTo), nullable(f.AssignedType),
		nullable(f.AssignedPrivateIP), db.TimePtr(f.UnassignedAt), f.CreatedAt, f.UpdatedAt)
	return s.mapErr(err, "floating IP")
}

// GetFloatingIP implements network.Queries.
func (s *Store) GetFloatingIP(ctx context.Context, orgID, address string) (network.FloatingIP, error) {
	f, err := scanFloatingIP(s.r().QueryRowContext(ctx, `SELECT `+floatingIPCols+` FROM floating_ips
		WHERE address = $1 AND ($2 = '' OR org_id = $2)`, address, orgID))
	return f, s.mapErr(err, "floating IP")
}

// LockFloatingIP implements network.Queries.
func (s *Store) LockFloatingIP(ctx context.Context, uuid string) (network.FloatingIP, error) {
	f, err := scanFloatingIP(s.w().QueryRowContext(ctx, `UPDATE floating_ips SET updated_at = updated_at WHERE uuid = $1
		RETURNING `+floatingIPCols, uuid))
	return f, s.mapErr(err, "floating IP")
}

// ListFloatingIPs implements network.Queries.
func (s *Store) ListFloatingIPs(ctx context.Context, q network.FloatingIPQuery) ([]network.FloatingIP, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+floatingIPCols+` FROM floating_ips
		WHERE ($1 = '' OR org_id = $1) AND ($2 = '' OR location_slug = $2)
		AND (CAST($3 AS BIGINT) = 0 OR billing_account_id = CAST($3 AS BIGINT)) AND ($4 = '' OR assigned_to = $4)
		ORDER BY id`, q.OrgID, q.Location, q.BillingAccountID, q.AssignedTo)
	if err != nil {
		return nil, s.mapErr(err, "floating IP")
	}
	return collect(rows, scanFloatingIP)
}

// AssignedAddresses implements network.Queries.
func (s *Store) AssignedAddresses(ctx context.Context, uuids []string) (map[string]string, error) {
	out := make(map[string]string, len(uuids))
	// Bounded batches keep the statement under every driver's parameter
	// limit.
	for len(uuids) > 0 {
		n := min(len(uuids), 500)
		in, args := inList(1, uuids[:n])
		rows, err := s.r().QueryContext(ctx, db.Varying+`SELECT assigned_to, address FROM floating_ips
			WHERE assigned_to IN (`+in+`) ORDER BY id DESC`, args...)
		if err != nil {
			return nil, s.mapErr(err, "floating IP")
		}
		for rows.Next() {
			var vm, addr string
			if err := rows.Scan(&vm, &addr); err != nil {
				_ = rows.Close()
				return nil, s.mapErr(err, "floating IP")
			}
			out[vm] = addr // descending ids: the lowest id is written last
		}
		if err := rows.Close(); err != nil {
			return nil, s.mapErr(err, "floating IP")
		}
		if err := rows.Err(); err != nil {
			return nil, s.mapErr(err, "floating IP")
		}
		uuids = uuids[n:]
	}
	return out, nil
}

// UpdateFloatingIP implements network.Queries.
func (s *Store) UpdateFloatingIP(ctx context.Context, f network.FloatingIP) error {
	res, err := s.w().ExecContext(ctx, `UPDATE floating_ips SET name = $2, billing_account_id = $3, assigned_to = $4,
		assigned_to_resource_type = $5, assigned_to_private_ip = $6, unassigned_at = $7, updated_at = $8 WHERE uuid = $1`,
		f.UUID, f.Name, f.BillingAccountID, nullable(f.AssignedTo), nullable(f.AssignedType), nullable(f.AssignedPrivateIP),
		db.TimePtr(f.UnassignedAt), f.UpdatedAt)
	return s.affected(res, err, "floating IP")
}

// DeleteFloatingIP implements network.Queries.
func (s *Store) DeleteFloatingIP(ctx context.Context, uuid string) error {
	res, err := s.w().ExecContext(ctx, `DELETE FROM floating_ips WHERE uuid = $1`, uuid)
	return s.affected(res, err, "floating IP")
}

// CountAccountNetworkResources implements network.Queries.
func (s *Store) CountAccountNetworkResources(ctx context.Context, billingAccountID int64) (int, error) {
	return s.count(ctx, `SELECT (SELECT count(*) FROM floating_ips WHERE billing_account_id = $1)
		+ (SELECT count(*) FROM load_balancers WHERE billing_account_id = $1)`, billingAccountID)
}

// ---- load balancers ----

const lbCols = `uuid, org_id, org_path, user_id, billing_account_id, location_slug, network_uuid, display_name,
	private_address, state, version, applied_version, created_at, updated_at`

func scanLB(sc interface{ Scan(...any) error }) (network.LoadBalancer, error) {
	var lb network.LoadBalancer
	var created, updated db.Time
	err := sc.Scan(&lb.UUID, &lb.OrgID, &lb.OrgPath, &lb.UserID, &lb.BillingAccountID, &lb.Location, &lb.NetworkUUID,
		&lb.DisplayName, &lb.PrivateAddress, &lb.State, &lb.Version, &lb.AppliedVersion, &created, &updated)
	lb.CreatedAt, lb.UpdatedAt = created.Time, updated.Time
	return lb, err
}

// InsertLB implements network.Queries.
func (s *Store) InsertLB(ctx context.Context, lb network.LoadBalancer) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO load_balancers (`+lbCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
		$10, $11, $12, $13, $14)`, lb.UUID, lb.OrgID, lb.OrgPath, lb.UserID, lb.BillingAccountID, lb.Location, lb.NetworkUUID,
		lb.DisplayName, lb.PrivateAddress, lb.State, lb.Version, lb.AppliedVersion, lb.CreatedAt, lb.UpdatedAt)
	return s.mapErr(err, "load balancer")
}

// lbParts fills a load balancer's rules and targets.
func (s *Store) lbParts(ctx context.Context, lb *network.LoadBalancer) error {
	rows, err := s.r().QueryContext(ctx, `SELECT uuid, lb_uuid, protocol, source_port, target_port, connection_limit,
		session_persistence, created_at FROM lb_rules WHERE lb_uuid = $1 ORDER BY created_at, uuid`, lb.UUID)
	if err != nil {
		return s.mapErr(err, "load balancer")
	}
	if lb.Rules, err = collect(rows, func(sc interface{ Scan(...any) error }) (network.Rule, error) {
		var r network.Rule
		var created db.Time
		err := sc.Scan(&r.UUID, &r.LBUUID, &r.Protocol, &r.SourcePort, &r.TargetPort, &r.ConnectionLimit,
			&r.SessionPersistence, &created)
		r.CreatedAt = created.Time
		return r, err
	}); err != nil {
		return err
	}
	rows, err = s.r().QueryContext(ctx, `SELECT lb_uuid, target_uuid, target_type, target_ip_address, created_at
		FROM lb_targets WHERE lb_uuid = $1 ORDER BY created_at, target_uuid`, lb.UUID)
	if err != nil {
		return s.mapErr(err, "load balancer")
	}
	lb.Targets, err = collect(rows, func(sc interface{ Scan(...any) error }) (network.Target, error) {
		var t network.Target
		var created db.Time
		err := sc.Scan(&t.LBUUID, &t.TargetUUID, &t.TargetType, &t.IPAddress, &created)
		t.CreatedAt = created.Time
		return t, err
	})
	return err
}

// GetLB implements network.Queries.
func (s *Store) GetLB(ctx context.Context, orgID, uuid string) (network.LoadBalancer, error) {
	lb, err := scanLB(s.r().QueryRowContext(ctx, `SELECT `+lbCols+` FROM load_balancers WHERE uuid = $1 AND ($2 = '' OR org_id = $2)`,
		uuid, orgID))
	if err != nil {
		return network.LoadBalancer{}, s.mapErr(err, "load balancer")
	}
	return lb, s.lbParts(ctx, &lb)
}

// LockLB implements network.Queries.
func (s *Store) LockLB(ctx context.Context, uuid string) (network.LoadBalancer, error) {
	lb, err := scanLB(s.w().QueryRowContext(ctx, `UPDATE load_balancers SET updated_at = updated_at WHERE uuid = $1 RETURNING `+lbCols, uuid))
	return lb, s.mapErr(err, "load balancer")
}

// ListLBs implements network.Queries.
func (s *Store) ListLBs(ctx context.Context, orgID, location string) ([]network.LoadBalancer, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+lbCols+` FROM load_balancers WHERE org_id = $1 AND ($2 = '' OR location_slug = $2)
		ORDER BY created_at, uuid`, orgID, location)
	if err != nil {
		return nil, s.mapErr(err, "load balancer")
	}
	out, err := collect(rows, scanLB)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if err := s.lbParts(ctx, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// UpdateLB implements network.Queries.
func (s *Store) UpdateLB(ctx context.Context, lb network.LoadBalancer) error {
	res, err := s.w().ExecContext(ctx, `UPDATE load_balancers SET display_name = $2, billing_account_id = $3, state = $4,
		version = $5, applied_version = $6, updated_at = $7 WHERE uuid = $1`, lb.UUID, lb.DisplayName, lb.BillingAccountID,
		lb.State, lb.Version, lb.AppliedVersion, lb.UpdatedAt)
	return s.affected(res, err, "load balancer")
}

// DeleteLB implements network.Queries (rules and targets cascade).
func (s *Store) DeleteLB(ctx context.Context, uuid string) error {
	res, err := s.w().ExecContext(ctx, `DELETE FROM load_balancers WHERE uuid = $1`, uuid)
	return s.affected(res, err, "load balancer")
}

// InsertLBRule implements network.Queries.
func (s *Store) InsertLBRule(ctx context.Context, r network.Rule) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO lb_rules (uuid, lb_uuid, protocol, source_port, target_port, connection_limit,
		session_persistence, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, r.UUID, r.LBUUID, r.Protocol, r.SourcePort,
		r.TargetPort, r.ConnectionLimit, r.SessionPersistence, r.CreatedAt)
	if err != nil && s.db.Dialect().IsUniqueViolation(err) {
		return conflict("source_port", "the load balancer already forwards this port")
	}
	return s.mapErr(err, "forwarding rule")
}

// DeleteLBRule implements network.Queries.
func (s *Store) DeleteLBRule(ctx context.Context, lbUUID, ruleUUID string) (bool, error) {
	res, err := s.w().ExecContext(ctx, `DELETE FROM lb_rules WHERE lb_uuid = $1 AND uuid = $2`, lbUUID, ruleUUID)
	return s.changed(res, err, "forwarding rule")
}

// InsertLBTarget implements network.Queries.
func (s *Store) InsertLBTarget(ctx context.Context, t network.Target) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO lb_targets (lb_uuid, target_uuid, target_type, target_ip_address, created_at)
		VALUES ($1, $2, $3, $4, $5)`, t.LBUUID, t.TargetUUID, t.TargetType, t.IPAddress, t.CreatedAt)
	if err != nil && s.db.Dialect().IsUniqueViolation(err) {
		return conflict("target_uuid", "the target is already linked to the load balancer")
	}
	return s.mapErr(err, "target")
}

// DeleteLBTarget implements network.Queries.
func (s *Store) DeleteLBTarget(ctx context.Context, lbUUID, targetUUID string) (bool, error) {
	res, err := s.w().ExecContext(ctx, `DELETE FROM lb_targets WHERE lb_uuid = $1 AND target_uuid = $2`, lbUUID, targetUUID)
	return s.changed(res, err, "target")
}

// LBsTargeting implements network.Queries.
func (s *Store) LBsTargeting(ctx context.Context, targetUUID string) ([]string, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT lb_uuid FROM lb_targets WHERE target_uuid = $1 ORDER BY lb_uuid`, targetUUID)
	if err != nil {
		return nil, s.mapErr(err, "target")
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (string, error) {
		var v string
		return v, sc.Scan(&v)
	})
}
