package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/network"
	"github.com/trellis-cloud/trellis/internal/store/db"
)

func accessUser(orgID string) access.CreateIDCHUserInput {
	return access.CreateIDCHUserInput{OrgID: orgID, Email: "bench@example.com"}
}

// rawVM is the baseline of a VM creation: one plain SQL transaction that
// takes the same three numbers from the counters and inserts the same rows
// the compute service writes (the VM, its primary disk, its interface and
// private address, its usage segment, its job and three audit rows).
type rawVM struct {
	e       *vmEnv
	network network.Network
	orgPath string
	jobSQL  string
}

func newRawVM(ctx context.Context, e *vmEnv) *rawVM {
	name := "raw baseline"
	n, err := e.app.Network.CreateNetwork(ctx, e.customer, "cyc01", &name)
	check(err)
	r := &rawVM{e: e, network: n, orgPath: e.customer.OrgPath}
	r.jobSQL = `INSERT INTO river_job (args, kind, max_attempts, queue, state, scheduled_at) VALUES (jsonb($1), 'bench.raw', 25, 'default', 'scheduled', $2)`
	if e.app.DB.Dialect().Name() == "postgres" {
		r.jobSQL = `INSERT INTO river_job (args, kind, max_attempts, queue, state, scheduled_at) VALUES (CAST($1 AS jsonb), 'bench.raw', 25, 'default', 'scheduled', $2)`
	}
	return r
}

func (r *rawVM) create(ctx context.Context, i int64) error {
	return r.e.app.DB.Tx(ctx, func(q db.Querier) error {
		now := time.Now().UTC().Truncate(time.Microsecond)
		next := func(name string) (int64, error) {
			var v int64
			err := q.QueryRowContext(ctx, `UPDATE counters SET value = value + 1 WHERE name = $1 RETURNING value`, name).Scan(&v)
			return v, err
		}
		vmID, err := next("vm")
		if err != nil {
			return err
		}
		diskID, err := next("vm_storage")
		if err != nil {
			return err
		}
		mac, err := next("mac")
		if err != nil {
			return err
		}
		vm, disk := ids.New(), ids.New()
		// Addresses unique to the baseline (a /24 holds 253 VMs; the
		// rows have the same shape).
		addr := fmt.Sprintf("raw-%d", mac)
		macText := fmt.Sprintf("03:%010x", mac)
		name := fmt.Sprintf("raw-%d", i)
		if _, err := q.ExecContext(ctx, `INSERT INTO compute_vms (uuid, id, org_id, org_path, user_id, billing_account_id,
			location, name, hostname, os_name, os_version, username, password_hash, vcpu, ram_mb, pool_uuid, pool_name,
			network_uuid, mac, private_ipv4, public_ipv6, status, op, op_args, op_seq, created_at, updated_at)
			VALUES ($1, $2, $3, $4, 8, $5, 'cyc01', $6, $6, 'ubuntu', '16.04', 'bench', 'argon2id$hash', 1, 1024, 'pool', 'General',
			$7, $8, $9, '2001:db8::1', 'running', '', '', 1, $10, $10)`,
			vm, vmID, r.e.customer.OrgID, r.orgPath, r.e.account, name, r.network.UUID, macText, addr, now); err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO compute_disks (uuid, id, org_id, org_path, user_id, billing_account_id,
			location, vm_uuid, device, is_primary, size_gb, pool, source_image_type, source_image, status, op_seq, was_active,
			created_at, updated_at) VALUES ($1, $2, $3, $4, 8, $5, 'cyc01', $6, 'vda', true, 20, 'default', 'OS_BASE',
			'ubuntu_16.04', 'active', 1, true, $7, $7)`, disk, diskID, r.e.customer.OrgID, r.orgPath, r.e.account, vm, now); err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO network_addresses (network_uuid, address, owner_type, owner_uuid)
			VALUES ($1, $2, 'vm', $3)`, r.network.UUID, addr, vm); err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO vm_interfaces (vm_uuid, network_uuid, org_id, user_id, location_slug,
			private_ipv4, mac, ipv6, created_at) VALUES ($1, $2, $3, 8, 'cyc01', $4, $5, '2001:db8::1', $6)`,
			vm, r.network.UUID, r.e.customer.OrgID, addr, macText, now); err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO usage_segments (resource_id, meter, billing_account_id, location_slug,
			owner_uuid, user_id, config, started_at) VALUES ($1, 'vm', $2, 'cyc01', $1, 8, $3, $4)`, vm, r.e.account,
			`{"vm_name":"`+name+`","cpus":1,"ram_MB":1024,"disk_size_GB":20,"os_name":"ubuntu","status":"running"}`, now); err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, r.jobSQL, `{"vm_uuid":"`+vm+`","seq":1}`, now.Add(30*time.Second)); err != nil {
			return err
		}
		for _, action := range []string{"vm.create", "network.attach", "vm.running"} {
			if _, err := q.ExecContext(ctx, `INSERT INTO audit_log (id, at, request_id, principal_type, principal_id, org_id,
				org_path, action, object_type, object_id, detail) VALUES ($1, $2, '', 'user', 'bench', $3, $4, $5, 'vm', $6, '')`,
				ids.New(), now, r.e.customer.OrgID, r.orgPath, action, vm); err != nil {
				return err
			}
		}
		return nil
	})
}

// loadVMs inserts n running VMs (each with its primary disk) into the
// location in bulk, numbered from 1,000,001, by SQL that generates the rows.
func loadVMs(ctx context.Context, e *vmEnv, n int) {
	d := e.app.DB
	series := `WITH RECURSIVE s(i) AS (SELECT CAST($1 AS INTEGER) UNION ALL SELECT i + 1 FROM s WHERE i < $2) SELECT i FROM s`
	uuid := func(prefix string) string {
		return `printf('` + prefix + `%07x-0000-4000-8000-%012x', i, i)`
	}
	if d.Dialect().Name() == "postgres" {
		series = `SELECT i FROM generate_series(CAST($1 AS INTEGER), CAST($2 AS INTEGER)) AS i`
		uuid = func(prefix string) string {
			return `'` + prefix + `' || lpad(to_hex(i), 7, '0') || '-0000-4000-8000-' || lpad(to_hex(i), 12, '0')`
		}
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	start := time.Now()
	const batch = 10_000
	for from := 1; from <= n; from += batch {
		to := min(from+batch-1, n)
		check(d.Tx(ctx, func(q db.Querier) error {
			if _, err := q.ExecContext(ctx, `INSERT INTO compute_vms (uuid, id, org_id, org_path, user_id, billing_account_id,
				location, name, hostname, os_name, os_version, username, password_hash, vcpu, ram_mb, pool_uuid, pool_name,
				network_uuid, mac, private_ipv4, public_ipv6, status, op_seq, created_at, updated_at)
				SELECT `+uuid("a")+`, 1000000 + i, $3, $4, 8, $5, 'cyc01', 'vm', 'vm', 'ubuntu', '16.04',
				'bench', '$6$x', 2, 2048, 'pool', 'General', '', '', '', '', 'running', 1, $6, $6
				FROM (`+series+`) AS g`, from, to, e.customer.OrgID, e.customer.OrgPath, e.account, now); err != nil {
				return err
			}
			_, err := q.ExecContext(ctx, `INSERT INTO compute_disks (uuid, id, org_id, org_path, user_id, billing_account_id,
				location, vm_uuid, device, is_primary, size_gb, pool, source_image_type, source_image, status, op_seq,
				was_active, created_at, updated_at)
				SELECT `+uuid("b")+`, 1000000 + i, $3, $4, 8, $5, 'cyc01', `+uuid("a")+`, 'vda', true, 20, 'default',
				'OS_BASE', 'ubuntu_16.04', 'active', 1, true, $6, $6
				FROM (`+series+`) AS g`, from, to, e.customer.OrgID, e.customer.OrgPath, e.account, now)
			return err
		}))
	}
	if d.Dialect().Name() == "postgres" {
		_, err := d.Write().ExecContext(ctx, `ANALYZE`)
		check(err)
	}
	fmt.Printf("loaded %d VMs with their disks in %.1f s\n", n, time.Since(start).Seconds())
}

// listBench measures, one request at a time, the latency of a page of 100
// VMs of the location through the whole stack (GET /api/v1/vms: HTTP,
// auth, the compute service, the VM, disk, replica and address reads)
// against the bare SQL query of the same page of VM rows, at random
// positions in n VMs.
func listBench(ctx context.Context, name string, e *vmEnv, _ *rawVM, n int) {
	loadVMs(ctx, e, n)
	base := serve(e.app.Handler)
	c := client()
	const samples, page = 2000, 100
	rng := rand.New(rand.NewPCG(1, 2))
	cursor := func() (int64, string) {
		after := 1000000 + rng.Int64N(int64(n-page))
		return after, base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(after, 10)))
	}
	svc := make([]time.Duration, 0, samples)
	for range samples {
		_, cur := cursor()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/vms?location=cyc01&limit=100&cursor="+cur, nil)
		check(err)
		req.Header.Set("Authorization", "Bearer "+e.adminKey)
		t0 := time.Now()
		resp, err := c.Do(req)
		check(err)
		body, err := io.ReadAll(resp.Body)
		check(err)
		_ = resp.Body.Close()
		svc = append(svc, time.Since(t0))
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"nextCursor"`) {
			check(fmt.Errorf("list VMs: %d %.200s", resp.StatusCode, body))
		}
	}
	raw := make([]time.Duration, 0, samples)
	for range samples {
		after, _ := cursor()
		t0 := time.Now()
		rows, err := e.app.DB.Read().QueryContext(ctx, `SELECT uuid, id, org_id, org_path, user_id, billing_account_id,
			location, name, hostname, description, os_name, os_version, username, password_hash, vcpu, ram_mb, pool_uuid,
			pool_name, network_uuid, mac, private_ipv4, public_ipv6, status, op, op_args, op_seq, op_error, backup, rescue,
			license_type, cloud_init, public_key, created_at, updated_at, deleted_at
			FROM compute_vms WHERE location = $1 AND deleted_at IS NULL AND id > $2 ORDER BY id LIMIT 100`, "cyc01", after)
		check(err)
		cols, err := rows.Columns()
		check(err)
		got := 0
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			check(rows.Scan(ptrs...))
			got++
		}
		check(rows.Close())
		raw = append(raw, time.Since(t0))
		if got != page {
			check(fmt.Errorf("bare query returned %d rows", got))
		}
	}
	p := func(ds []time.Duration, q float64) time.Duration {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[int(q*float64(len(s)-1))]
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
	fmt.Printf("VM list, %s, %d VMs in one location, pages of %d at random positions, %d each: "+
		"p50 %s vs bare SQL %s → ratio %.3f; p99 %s vs %s → ratio %.3f\n", name, n, page, samples,
		ms(p(svc, 0.5)), ms(p(raw, 0.5)), float64(p(raw, 0.5))/float64(p(svc, 0.5)),
		ms(p(svc, 0.99)), ms(p(raw, 0.99)), float64(p(raw, 0.99))/float64(p(svc, 0.99)))
}
