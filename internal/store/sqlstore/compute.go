package sqlstore

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/trellis-cloud/trellis/internal/compute"
	"github.com/trellis-cloud/trellis/internal/store/db"
)

// Compute is the compute.Store.
type Compute struct{ *Store }

// Tx implements compute.Store.
func (c Compute) Tx(ctx context.Context, fn func(compute.Store) error) error {
	return c.tx(ctx, func(s *Store) error { return fn(Compute{s}) })
}

var _ compute.Store = Compute{}

// inList returns "$from, $from+1, …" for n values and the values as args;
// a text that holds it starts with db.Varying (not kept prepared).
func inList(from int, vals []string) (string, []any) {
	ph := make([]string, len(vals))
	args := make([]any, len(vals))
	for i, v := range vals {
		ph[i] = fmt.Sprintf("$%d", from+i)
		args[i] = v
	}
	return strings.Join(ph, ", "), args
}

// ---- VMs ----

const vmCols = `uuid, id, org_id, org_path, user_id, billing_account_id, location, name, hostname, description,
	os_name, os_version, username, password_hash, vcpu, ram_mb, pool_uuid, pool_name, network_uuid, mac, private_ipv4,
	public_ipv6, status, op, op_args, op_seq, op_error, backup, rescue, license_type, cloud_init, public_key,
	created_at, updated_at, deleted_at`

func scanVM(sc interface{ Scan(...any) error }) (compute.VM, error) {
	var v compute.VM
	var created db.Time
	var updated, deleted db.NullTime
	err := sc.Scan(&v.UUID, &v.ID, &v.OrgID, &v.OrgPath, &v.UserID, &v.BillingAccountID, &v.Location, &v.Name,
		&v.Hostname, &v.Description, &v.OSName, &v.OSVersion, &v.Username, &v.PasswordHash, &v.VCPU, &v.RAMMB,
		&v.PoolUUID, &v.PoolName, &v.NetworkUUID, &v.MAC, &v.PrivateIPv4, &v.PublicIPv6, &v.Status, &v.Op,
		&v.OpArgs, &v.OpSeq, &v.OpError, &v.Backup, &v.Rescue, &v.LicenseType, &v.CloudInit, &v.PublicKey,
		&created, &updated, &deleted)
	if err != nil {
		return compute.VM{}, err
	}
	v.CreatedAt, v.UpdatedAt, v.DeletedAt = created.Time, updated.Ptr(), deleted.Ptr()
	return v, nil
}

// InsertVM implements compute.Queries.
func (s *Store) InsertVM(ctx context.Context, v compute.VM) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO compute_vms (`+vmCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,
		$9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30,
		$31, $32, $33, $34, $35)`,
		v.UUID, v.ID, v.OrgID, v.OrgPath, v.UserID, v.BillingAccountID, v.Location, v.Name, v.Hostname,
		v.Description, v.OSName, v.OSVersion, v.Username, v.PasswordHash, v.VCPU, v.RAMMB, v.PoolUUID, v.PoolName,
		v.NetworkUUID, v.MAC, v.PrivateIPv4, v.PublicIPv6, v.Status, v.Op, v.OpArgs, v.OpSeq, v.OpError, v.Backup,
		v.Rescue, v.LicenseType, v.CloudInit, v.PublicKey, v.CreatedAt, db.TimePtr(v.UpdatedAt), db.TimePtr(v.DeletedAt))
	return s.mapErr(err, "virtual machine")
}

// GetVM implements compute.Queries.
func (s *Store) GetVM(ctx context.Context, scope, uuid string) (compute.VM, error) {
	v, err := scanVM(s.r().QueryRowContext(ctx, `SELECT `+vmCols+` FROM compute_vms
		WHERE uuid = $1 AND deleted_at IS NULL AND `+scoped("org_path", "$2"), uuid, scope))
	return v, s.mapErr(err, "virtual machine")
}

// LockVM implements compute.Queries. The no-op update takes PostgreSQL's
// row lock with the same SQL on both databases.
func (s *Store) LockVM(ctx context.Context, uuid string) (compute.VM, error) {
	v, err := scanVM(s.w().QueryRowContext(ctx, `UPDATE compute_vms SET op_seq = op_seq WHERE uuid = $1 RETURNING `+vmCols, uuid))
	return v, s.mapErr(err, "virtual machine")
}

// UpdateVM implements compute.Queries.
func (s *Store) UpdateVM(ctx context.Context, v compute.VM) error {
	res, err := s.w().ExecContext(ctx, `UPDATE compute_vms SET billing_account_id = $2, name = $3, hostname = $4,
		description = $5, os_name = $6, os_version = $7, username = $8, password_hash = $9, vcpu = $10, ram_mb = $11,
		pool_uuid = $12, pool_name = $13, network_uuid = $14, mac = $15, private_ipv4 = $16, public_ipv6 = $17,
		status = $18, op = $19, op_args = $20, op_seq = $21, op_error = $22, backup = $23, rescue = $24,
		license_type = $25, cloud_init = $26, public_key = $27, updated_at = $28, deleted_at = $29 WHERE uuid = $1`,
		v.UUID, v.BillingAccountID, v.Name, v.Hostname, v.Description, v.OSName, v.OSVersion, v.Username,
		v.PasswordHash, v.VCPU, v.RAMMB, v.PoolUUID, v.PoolName, v.NetworkUUID, v.MAC, v.PrivateIPv4, v.PublicIPv6,
		v.Status, v.Op, v.OpArgs, v.OpSeq, v.OpError, v.Backup, v.Rescue, v.LicenseType, v.CloudInit, v.PublicKey,
		db.TimePtr(v.UpdatedAt), db.TimePtr(v.DeletedAt))
	return s.affected(res, err, "virtual machine")
}

// ListVMs implements compute.Queries.
func (s *Store) ListVMs(ctx context.Context, f compute.VMFilter) ([]compute.VM, error) {
	limit := int64(f.Limit)
	if limit <= 0 {
		limit = math.MaxInt64
	}
	rows, err := s.r().QueryContext(ctx, `SELECT `+vmCols+` FROM compute_vms
		WHERE deleted_at IS NULL AND `+scoped("org_path", "$1")+` AND ($2 = '' OR location = $2)
		AND (CAST($3 AS BIGINT) = 0 OR billing_account_id = CAST($3 AS BIGINT)) AND id > CAST($4 AS BIGINT)
		ORDER BY id LIMIT $5`,
		f.Scope, f.Location, f.BillingAccountID, f.After, limit)
	if err != nil {
		return nil, s.mapErr(err, "virtual machine")
	}
	return collect(rows, scanVM)
}

// ---- disks ----

const diskCols = `uuid, id, org_id, org_path, user_id, billing_account_id, location, COALESCE(vm_uuid, ''), device,
	is_primary, size_gb, pool, source_image_type, source_image, status, op, op_args, op_seq, op_error, was_active,
	created_at, updated_at, deleted_at`

func scanDisk(sc interface{ Scan(...any) error }) (compute.Disk, error) {
	var d compute.Disk
	var created db.Time
	var updated, deleted db.NullTime
	err := sc.Scan(&d.UUID, &d.ID, &d.OrgID, &d.OrgPath, &d.UserID, &d.BillingAccountID, &d.Location, &d.VMUUID,
		&d.Name, &d.Primary, &d.SizeGB, &d.Pool, &d.SourceImageType, &d.SourceImage, &d.Status, &d.Op, &d.OpArgs,
		&d.OpSeq, &d.OpError, &d.WasActive, &created, &updated, &deleted)
	if err != nil {
		return compute.Disk{}, err
	}
	d.CreatedAt, d.UpdatedAt, d.DeletedAt = created.Time, updated.Ptr(), deleted.Ptr()
	return d, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// InsertDisk implements compute.Queries.
func (s *Store) InsertDisk(ctx context.Context, d compute.Disk) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO compute_disks (uuid, id, org_id, org_path, user_id,
		billing_account_id, location, vm_uuid, device, is_primary, size_gb, pool, source_image_type, source_image,
		status, op, op_args, op_seq, op_error, was_active, created_at, updated_at, deleted_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)`,
		d.UUID, d.ID, d.OrgID, d.OrgPath, d.UserID, d.BillingAccountID, d.Location, nullString(d.VMUUID), d.Name,
		d.Primary, d.SizeGB, d.Pool, d.SourceImageType, d.SourceImage, d.Status, d.Op, d.OpArgs, d.OpSeq, d.OpError,
		d.WasActive, d.CreatedAt, db.TimePtr(d.UpdatedAt), db.TimePtr(d.DeletedAt))
	return s.mapErr(err, "disk")
}

// GetDisk implements compute.Queries.
func (s *Store) GetDisk(ctx context.Context, scope, uuid string) (compute.Disk, error) {
	d, err := scanDisk(s.r().QueryRowContext(ctx, `SELECT `+diskCols+` FROM compute_disks
		WHERE uuid = $1 AND deleted_at IS NULL AND `+scoped("org_path", "$2"), uuid, scope))
	return d, s.mapErr(err, "disk")
}

// LockDisk implements compute.Queries.
func (s *Store) LockDisk(ctx context.Context, uuid string) (compute.Disk, error) {
	d, err := scanDisk(s.w().QueryRowContext(ctx, `UPDATE compute_disks SET op_seq = op_seq WHERE uuid = $1 RETURNING `+diskCols, uuid))
	return d, s.mapErr(err, "disk")
}

// UpdateDisk implements compute.Queries.
func (s *Store) UpdateDisk(ctx context.Context, d compute.Disk) error {
	res, err := s.w().ExecContext(ctx, `UPDATE compute_disks SET billing_account_id = $2, vm_uuid = $3, device = $4,
		is_primary = $5, size_gb = $6, pool = $7, status = $8, op = $9, op_args = $10, op_seq = $11, op_error = $12,
		was_active = $13, updated_at = $14, deleted_at = $15 WHERE uuid = $1`,
		d.UUID, d.BillingAccountID, nullString(d.VMUUID), d.Name, d.Primary, d.SizeGB, d.Pool, d.Status, d.Op,
		d.OpArgs, d.OpSeq, d.OpError, d.WasActive, db.TimePtr(d.UpdatedAt), db.TimePtr(d.DeletedAt))
	if s.db.Dialect().IsUniqueViolation(err) {
		return conflict("storage_uuid", "the device name or the primary slot of the VM is taken")
	}
	return s.affected(res, err, "disk")
}

// ListDisks implements compute.Queries.
func (s *Store) ListDisks(ctx context.Context, f compute.DiskFilter) ([]compute.Disk, error) {
	q := `SELECT ` + diskCols + ` FROM compute_disks WHERE deleted_at IS NULL AND ` + scoped("org_path", "$1") +
		` AND ($2 = '' OR location = $2) AND (CAST($3 AS BIGINT) = 0 OR billing_account_id = CAST($3 AS BIGINT))`
	args := []any{f.Scope, f.Location, f.BillingAccountID}
	if f.VMUUIDs != nil {
		if len(f.VMUUIDs) == 0 {
			return nil, nil
		}
		in, vals := inList(4, f.VMUUIDs)
		q = db.Varying + q + ` AND vm_uuid IN (` + in + `)`
		args = append(args, vals...)
	}
	rows, err := s.r().QueryContext(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, s.mapErr(err, "disk")
	}
	return collect(rows, scanDisk)
}

// ---- replicas ----

const replicaCols = `r.uuid, r.id, r.disk_uuid, d.id, r.org_id, r.org_path, r.user_id, r.billing_account_id, r.location,
	r.r_type, r.size_gb, r.status, r.billing_name, r.created_at, r.updated_at, r.deleted_at`

func scanReplica(sc interface{ Scan(...any) error }) (compute.Replica, error) {
	var r compute.Replica
	var created db.Time
	var updated, deleted db.NullTime
	err := sc.Scan(&r.UUID, &r.ID, &r.DiskUUID, &r.DiskID, &r.OrgID, &r.OrgPath, &r.UserID, &r.BillingAccountID,
		&r.Location, &r.Type, &r.SizeGB, &r.Status, &r.BillingName, &created, &updated, &deleted)
	if err != nil {
		return compute.Replica{}, err
	}
	r.CreatedAt, r.UpdatedAt, r.DeletedAt = created.Time, updated.Ptr(), deleted.Ptr()
	return r, nil
}

// InsertReplica implements compute.Queries.
func (s *Store) InsertReplica(ctx context.Context, r compute.Replica) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO compute_replicas (uuid, id, disk_uuid, org_id, org_path, user_id,
		billing_account_id, location, r_type, size_gb, status, billing_name, created_at, updated_at, deleted_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		r.UUID, r.ID, r.DiskUUID, r.OrgID, r.OrgPath, r.UserID, r.BillingAccountID, r.Location, r.Type, r.SizeGB,
		r.Status, r.BillingName, r.CreatedAt, db.TimePtr(r.UpdatedAt), db.TimePtr(r.DeletedAt))
	if s.db.Dialect().IsUniqueViolation(err) {
		return conflict("uuid", "a replica of this disk was taken in the same second; try again")
	}
	return s.mapErr(err, "replica")
}

// GetReplica implements compute.Queries.
func (s *Store) GetReplica(ctx context.Context, scope, uuid string) (compute.Replica, error) {
	r, err := scanReplica(s.r().QueryRowContext(ctx, `SELECT `+replicaCols+` FROM compute_replicas r
		JOIN compute_disks d ON d.uuid = r.disk_uuid
		WHERE r.uuid = $1 AND r.deleted_at IS NULL AND `+scoped("r.org_path", "$2"), uuid, scope))
	return r, s.mapErr(err, "replica")
}

// UpdateReplica implements compute.Queries.
func (s *Store) UpdateReplica(ctx context.Context, r compute.Replica) error {
	res, err := s.w().ExecContext(ctx, `UPDATE compute_replicas SET status = $2, billing_account_id = $3,
		billing_name = $4, updated_at = $5, deleted_at = $6 WHERE uuid = $1`,
		r.UUID, r.Status, r.BillingAccountID, r.BillingName, db.TimePtr(r.UpdatedAt), db.TimePtr(r.DeletedAt))
	return s.affected(res, err, "replica")
}

// ListReplicas implements compute.Queries.
func (s *Store) ListReplicas(ctx context.Context, diskUUIDs []string, rType string) ([]compute.Replica, error) {
	if len(diskUUIDs) == 0 {
		return nil, nil
	}
	in, vals := inList(2, diskUUIDs)
	rows, err := s.r().QueryContext(ctx, db.Varying+`SELECT `+replicaCols+` FROM compute_replicas r
		JOIN compute_disks d ON d.uuid = r.disk_uuid
		WHERE r.deleted_at IS NULL AND ($1 = '' OR r.r_type = $1) AND r.disk_uuid IN (`+in+`)
		ORDER BY r.created_at, r.id`, append([]any{rType}, vals...)...)
	if err != nil {
		return nil, s.mapErr(err, "replica")
	}
	return collect(rows, scanReplica)
}

// CountComputeResources implements compute.Queries.
func (s *Store) CountComputeResources(ctx context.Context, billingAccountID int64) (int, error) {
	return s.count(ctx, `SELECT
		(SELECT COUNT(*) FROM compute_vms WHERE billing_account_id = $1 AND deleted_at IS NULL) +
		(SELECT COUNT(*) FROM compute_disks WHERE billing_account_id = $1 AND deleted_at IS NULL) +
		(SELECT COUNT(*) FROM compute_replicas WHERE billing_account_id = $1 AND deleted_at IS NULL)`, billingAccountID)
}

// ListBackupsDue implements compute.Queries.
func (s *Store) ListBackupsDue(ctx context.Context, since time.Time, limit int) ([]string, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT v.uuid FROM compute_vms v
		JOIN compute_disks d ON d.vm_uuid = v.uuid AND d.is_primary
		WHERE v.deleted_at IS NULL AND v.backup AND v.status IN ('running', 'stopped') AND v.op = ''
		AND NOT EXISTS (SELECT 1 FROM compute_replicas r WHERE r.disk_uuid = d.uuid AND r.r_type = 'backup'
			AND r.deleted_at IS NULL AND r.created_at > $1)
		ORDER BY v.id LIMIT $2`, since, limit)
	if err != nil {
		return nil, s.mapErr(err, "virtual machine")
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (string, error) {
		var u string
		return u, sc.Scan(&u)
	})
}
