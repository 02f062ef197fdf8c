package sqlstore

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/services"
	"github.com/trellis-cloud/trellis/internal/store/db"
)

// Services is the services.Store.
type Services struct{ *Store }

// Tx implements services.Store.
func (v Services) Tx(ctx context.Context, fn func(services.Store) error) error {
	return v.tx(ctx, func(s *Store) error { return fn(Services{s}) })
}

var _ services.Store = Services{}

const servicePackageCols = `uuid, org_id, org_path, user_id, billing_account_id, location, service, version,
	display_name, vm_cpu, vm_ram, vm_disk_gb, is_multi_node, parameters, status, sql_user, port, service_ip,
	sealed_pass, created_at, updated_at, deleted_at`

func scanServicePackage(sc interface{ Scan(...any) error }) (services.Package, error) {
	var p services.Package
	var created, updated db.Time
	var deleted db.NullTime
	err := sc.Scan(&p.UUID, &p.OrgID, &p.OrgPath, &p.UserID, &p.BillingAccountID, &p.Location, &p.Service, &p.Version,
		&p.DisplayName, &p.VMCPU, &p.VMRAMMB, &p.VMDiskGB, &p.IsMultiNode, &p.Parameters, &p.Status, &p.SQLUser, &p.Port,
		&p.ServiceIP, &p.SealedPass, &created, &updated, &deleted)
	p.CreatedAt, p.UpdatedAt, p.DeletedAt = created.Time, updated.Time, deleted.Ptr()
	return p, err
}

const serviceResourceCols = `resource_id, package_uuid, type, position, location, vcpu, memory, disk_uuid, disk_gb,
	address, status, created_at, updated_at`

func scanServiceResource(sc interface{ Scan(...any) error }) (services.Resource, error) {
	var r services.Resource
	var created, updated db.Time
	err := sc.Scan(&r.ID, &r.PackageUUID, &r.Type, &r.Position, &r.Location, &r.VCPU, &r.MemoryMB, &r.DiskUUID,
		&r.DiskGB, &r.Address, &r.Status, &created, &updated)
	r.CreatedAt, r.UpdatedAt = created.Time, updated.Time
	return r, err
}

// InsertServicePackage implements services.Queries.
func (s *Store) InsertServicePackage(ctx context.Context, p services.Package) error {
	return s.tx(ctx, func(s *Store) error {
		_, err := s.w().ExecContext(ctx, `INSERT INTO service_packages (`+servicePackageCols+`) VALUES ($1, $2, $3, $4,
			$5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)`,
			p.UUID, p.OrgID, p.OrgPath, p.UserID, p.BillingAccountID, p.Location, p.Service, p.Version, p.DisplayName,
			p.VMCPU, p.VMRAMMB, p.VMDiskGB, p.IsMultiNode, p.Parameters, p.Status, p.SQLUser, p.Port, p.ServiceIP,
			p.SealedPass, p.CreatedAt, p.UpdatedAt, db.TimePtr(p.DeletedAt))
		if err != nil {
			return s.mapErr(err, "service package")
		}
		for _, r := range p.Resources {
			_, err := s.w().ExecContext(ctx, `INSERT INTO service_resources (`+serviceResourceCols+`) VALUES ($1, $2,
				$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
				r.ID, p.UUID, r.Type, r.Position, r.Location, r.VCPU, r.MemoryMB, r.DiskUUID, r.DiskGB, r.Address,
				r.Status, r.CreatedAt, r.UpdatedAt)
			if err != nil {
				return s.mapErr(err, "service resource")
			}
		}
		return nil
	})
}

// serviceResources reads the resources of the packages matching cond (a
// condition on service_packages p with args).
func (s *Store) serviceResources(ctx context.Context, cond string, args ...any) (map[string][]services.Resource, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+serviceResourceCols+` FROM service_resources
		WHERE package_uuid IN (SELECT p.uuid FROM service_packages p WHERE `+cond+`)
		ORDER BY package_uuid, position`, args...)
	if err != nil {
		return nil, s.mapErr(err, "service resource")
	}
	list, err := collect(rows, scanServiceResource)
	if err != nil {
		return nil, err
	}
	out := map[string][]services.Resource{}
	for _, r := range list {
		out[r.PackageUUID] = append(out[r.PackageUUID], r)
	}
	return out, nil
}

// withResources fills one package's resources.
func (s *Store) withResources(ctx context.Context, p services.Package) (services.Package, error) {
	res, err := s.serviceResources(ctx, `p.uuid = $1`, p.UUID)
	if err != nil {
		return services.Package{}, err
	}
	p.Resources = res[p.UUID]
	return p, nil
}

// GetServicePackage implements services.Queries.
func (s *Store) GetServicePackage(ctx context.Context, scope, uuid string) (services.Package, error) {
	p, err := scanServicePackage(s.r().QueryRowContext(ctx, `SELECT `+servicePackageCols+` FROM service_packages
		WHERE uuid = $1 AND `+scoped("org_path", "$2"), uuid, scope))
	if err != nil {
		return p, s.mapErr(err, "service package")
	}
	return s.withResources(ctx, p)
}

// LockServicePackage implements services.Queries. The no-op update takes
// PostgreSQL's row lock with the same SQL on both databases.
func (s *Store) LockServicePackage(ctx context.Context, uuid string) (services.Package, error) {
	p, err := scanServicePackage(s.w().QueryRowContext(ctx, `UPDATE service_packages SET updated_at = updated_at
		WHERE uuid = $1 RETURNING `+servicePackageCols, uuid))
	if err != nil {
		return p, s.mapErr(err, "service package")
	}
	return s.withResources(ctx, p)
}

// ListServicePackages implements services.Queries.
func (s *Store) ListServicePackages(ctx context.Context, f services.PackageFilter) ([]services.Package, error) {
	cond := scoped("p.org_path", "$1") + ` AND ($2 = '' OR p.location = $2)
		AND (CAST($3 AS BIGINT) = 0 OR p.billing_account_id = CAST($3 AS BIGINT)) AND ($4 OR p.deleted_at IS NULL)`
	args := []any{f.Scope, f.Location, f.BillingAccountID, f.WithDeleted}
	rows, err := s.r().QueryContext(ctx, `SELECT `+servicePackageCols+` FROM service_packages p WHERE `+cond+`
		ORDER BY p.created_at, p.uuid`, args...)
	if err != nil {
		return nil, s.mapErr(err, "service package")
	}
	list, err := collect(rows, scanServicePackage)
	if err != nil || len(list) == 0 {
		return list, err
	}
	res, err := s.serviceResources(ctx, cond, args...)
	if err != nil {
		return nil, err
	}
	for i := range list {
		list[i].Resources = res[list[i].UUID]
	}
	return list, nil
}

// UpdateServicePackage implements services.Queries.
func (s *Store) UpdateServicePackage(ctx context.Context, p services.Package) error {
	res, err := s.w().ExecContext(ctx, `UPDATE service_packages SET display_name = $2, billing_account_id = $3,
		status = $4, service_ip = $5, updated_at = $6, deleted_at = $7 WHERE uuid = $1`,
		p.UUID, p.DisplayName, p.BillingAccountID, p.Status, p.ServiceIP, p.UpdatedAt, db.TimePtr(p.DeletedAt))
	return s.affected(res, err, "service package")
}

// UpdateServiceResource implements services.Queries.
func (s *Store) UpdateServiceResource(ctx context.Context, r services.Resource) error {
	res, err := s.w().ExecContext(ctx, `UPDATE service_resources SET status = $2, address = $3, updated_at = $4
		WHERE resource_id = $1`, r.ID, r.Status, r.Address, r.UpdatedAt)
	return s.affected(res, err, "service resource")
}

// CountActiveServicePackages implements services.Queries.
func (s *Store) CountActiveServicePackages(ctx context.Context, billingAccountID int64) (int, error) {
	var n int
	err := s.r().QueryRowContext(ctx, `SELECT COUNT(*) FROM service_packages
		WHERE billing_account_id = $1 AND deleted_at IS NULL`, billingAccountID).Scan(&n)
	return n, s.mapErr(err, "service package")
}

// ListServiceWhitelist implements services.Queries.
func (s *Store) ListServiceWhitelist(ctx context.Context, packageUUID string) ([]string, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT entry FROM service_whitelist WHERE package_uuid = $1
		ORDER BY position, entry`, packageUUID)
	if err != nil {
		return nil, s.mapErr(err, "whitelist entry")
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (string, error) {
		var e string
		return e, sc.Scan(&e)
	})
}

// AddServiceWhitelist implements services.Queries: the entry goes after
// the last one (callers hold the package lock, so positions do not race;
// were they equal, entries of one position are ordered by text).
func (s *Store) AddServiceWhitelist(ctx context.Context, packageUUID, entry string, at time.Time) (bool, error) {
	var next int64
	if err := s.w().QueryRowContext(ctx, `SELECT COALESCE(MAX(position), 0) + 1 FROM service_whitelist
		WHERE package_uuid = $1`, packageUUID).Scan(&next); err != nil {
		return false, s.mapErr(err, "whitelist entry")
	}
	res, err := s.w().ExecContext(ctx, `INSERT INTO service_whitelist (package_uuid, entry, position, created_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (package_uuid, entry) DO NOTHING`, packageUUID, entry, next, at)
	return s.changed(res, err, "whitelist entry")
}

// DeleteServiceWhitelist implements services.Queries.
func (s *Store) DeleteServiceWhitelist(ctx context.Context, packageUUID, entry string) (bool, error) {
	res, err := s.w().ExecContext(ctx, `DELETE FROM service_whitelist WHERE package_uuid = $1 AND entry = $2`,
		packageUUID, entry)
	return s.changed(res, err, "whitelist entry")
}
