package fault

import (
	"context"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"
)

// checker verifies the invariants once the cluster has had its time to
// recover. Every violation fails the test with its evidence.
type checker struct {
	t     *testing.T
	db    *pgx.Conn
	cl    *cluster
	fx    *fixture
	w     *workload
	rng   *mrand.Rand
	ctx   context.Context
	dbURL string

	checked    int
	violations []string
}

func newChecker(t *testing.T, dbURL string, cl *cluster, fx *fixture, w *workload) *checker {
	ctx := t.Context()
	db, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close(context.Background()) })
	return &checker{t: t, db: db, cl: cl, fx: fx, w: w, ctx: ctx, dbURL: dbURL, rng: mrand.New(mrand.NewPCG(1, 2))}
}

// check records one invariant: its name and what violates it (nothing: it
// holds).
func (c *checker) check(name string, evidence []string) {
	c.checked++
	if len(evidence) == 0 {
		c.t.Logf("invariant ok: %s", name)
		return
	}
	const show = 10
	more := ""
	if len(evidence) > show {
		more = fmt.Sprintf(" … and %d more", len(evidence)-show)
		evidence = evidence[:show]
	}
	v := fmt.Sprintf("%s: %d: %s%s", name, len(evidence), strings.Join(evidence, "; "), more)
	c.violations = append(c.violations, v)
	c.t.Errorf("invariant violated: %s", v)
}

// rows runs a query whose rows are evidence (each row printed as its
// columns joined).
func (c *checker) rows(query string, args ...any) []string {
	c.t.Helper()
	rs, err := c.db.Query(c.ctx, query, args...)
	if err != nil {
		c.t.Fatalf("%v\n%s", err, query)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		vals, err := rs.Values()
		if err != nil {
			c.t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = fmt.Sprint(v)
		}
		out = append(out, strings.Join(parts, " "))
	}
	if err := rs.Err(); err != nil {
		c.t.Fatalf("%v\n%s", err, query)
	}
	return out
}

// transitional lists every resource not in a final state.
//
// A VM or disk in "error" is final (the issue's "its final state or
// error"), even with its failed step still pending: River retries it.
const transitional = `
SELECT 'vm', uuid, status, op, updated_at::text FROM compute_vms WHERE status IN ('creating', 'deleting') OR (op <> '' AND status <> 'error')
UNION ALL SELECT 'disk', uuid, status, op, updated_at::text FROM compute_disks WHERE status = 'creating' OR (op <> '' AND status <> 'error')
UNION ALL SELECT 'replica', uuid, status, '', created_at::text FROM compute_replicas WHERE status = 'creating'
UNION ALL SELECT 'network', uuid, state, '', updated_at::text FROM networks WHERE state = 'pending'
UNION ALL SELECT 'load_balancer', uuid, state, '', updated_at::text FROM load_balancers WHERE state = 'pending'
UNION ALL SELECT 'service', uuid, status, '', updated_at::text FROM service_packages WHERE status IN ('creating', 'deleting')
UNION ALL SELECT 'reseller_order', id::text, state, '', updated_at::text FROM reseller_orders WHERE state = 'Creating'`

// recover moves the sandbox clock forward, retries every keyed payment
// that got no answer (a retry is how a client completes it) and waits, at
// most cfg.recovery, for every resource to reach a final state.
func (c *checker) recover(cfg settings) {
	admin := c.fx.creds["admin_key"]
	if cfg.advance > 0 {
		var clk struct {
			Now time.Time `json:"now"`
		}
		rep, err := c.cl.do(c.rng, request{"GET", "/api/v1/sandbox/clock", bearer(admin), nil}, 3)
		if err != nil || rep.status != 200 || jsonUnmarshal(rep.body, &clk) != nil {
			c.t.Errorf("sandbox clock: %v %d %s", err, rep.status, rep.body)
		} else {
			to := clk.Now.Add(cfg.advance).UTC().Format(time.RFC3339)
			rep, err := c.cl.do(c.rng, request{"POST", "/api/v1/sandbox/clock", bearer(admin), []byte(`{"to":"` + to + `"}`)}, 3)
			if err != nil || rep.status != 200 {
				c.t.Errorf("advance the sandbox clock to %s: %v %d %s", to, err, rep.status, rep.body)
			}
		}
	}
	deadline := time.Now().Add(cfg.recovery)
	for {
		pending := 0
		for _, k := range c.w.keyed {
			if k.status != 0 && k.status != http.StatusConflict && k.status < 500 {
				continue
			}
			if rep, err := c.cl.do(c.rng, k.req, 1); err == nil {
				k.status = rep.status
			}
			if k.status == 0 || k.status == http.StatusConflict || k.status >= 500 {
				pending++
			}
		}
		left := c.rows(transitional)
		// Uploads a killed node left in flight are settled or released by a
		// live node once the dead node's lease (30 s) has run out.
		reserved := c.rows(`SELECT id FROM s3_reservations`)
		if (pending == 0 && len(left) == 0 && len(reserved) == 0) || time.Now().After(deadline) {
			c.t.Logf("recovery: %d keyed payments unanswered, %d resources in transitional states, %d S3 reservations after %s",
				pending, len(left), len(reserved), cfg.recovery-time.Until(deadline))
			return
		}
		time.Sleep(time.Second)
	}
}

func (c *checker) checkAll() {
	// Ledger: every currency balances, every transaction balances, every
	// account's balance and posting count are its postings'.
	c.check("ledger: trial balance 0 per currency",
		c.rows(`SELECT currency, SUM(amount) FROM ledger_postings GROUP BY currency HAVING SUM(amount) <> 0`))
	c.check("ledger: every transaction balances per currency",
		c.rows(`SELECT transaction_id, currency, SUM(amount) FROM ledger_postings GROUP BY transaction_id, currency HAVING SUM(amount) <> 0`))
	c.check("ledger: account balance = Σ its postings, seq = number of postings",
		c.rows(`SELECT a.id, a.kind, a.currency, a.balance, COALESCE(SUM(p.amount), 0), a.seq, COUNT(p.seq)
			FROM ledger_accounts a LEFT JOIN ledger_postings p ON p.account_id = a.id
			GROUP BY a.id, a.kind, a.currency, a.balance, a.seq
			HAVING a.balance <> COALESCE(SUM(p.amount), 0) OR a.seq <> COUNT(p.seq)`))
	c.check("ledger: every posting's balance_after follows its predecessor",
		c.rows(`SELECT account_id, seq, balance_after, prev FROM (
			SELECT account_id, seq, balance_after, amount,
				COALESCE(LAG(balance_after) OVER (PARTITION BY account_id ORDER BY seq), 0) AS prev
			FROM ledger_postings) x WHERE balance_after <> prev + amount`))

	// Capacity: a contract's allocation is its partners', a partner's
	// accounts_allocated its strict storage accounts'.
	c.check("contract allocated = Σ partner capacities",
		c.rows(`SELECT c.id, c.allocated_capacity, COALESCE(SUM(o.allocated_capacity), 0)
			FROM contracts c LEFT JOIN orgs o ON o.contract_id = c.id AND o.kind = 'partner'
			GROUP BY c.id, c.allocated_capacity HAVING c.allocated_capacity <> COALESCE(SUM(o.allocated_capacity), 0)`))
	c.check("partner accounts_allocated = Σ strict storage-account capacities",
		c.rows(`SELECT o.id, o.accounts_allocated, COALESCE(SUM(s.allocated_capacity), 0)
			FROM orgs o LEFT JOIN storage_accounts s ON s.partner_id = o.id AND NOT s.allow_overdraft
			WHERE o.kind = 'partner'
			GROUP BY o.id, o.accounts_allocated HAVING o.accounts_allocated <> COALESCE(SUM(s.allocated_capacity), 0)`))
	c.check("partner accounts_allocated ≤ its allocation (unless overdraft)",
		c.rows(`SELECT id, accounts_allocated, allocated_capacity FROM orgs
			WHERE kind = 'partner' AND NOT allow_overdraft AND allocated_capacity > 0 AND accounts_allocated > allocated_capacity`))

	// Object storage.
	c.check("S3: no reservation left",
		c.rows(`SELECT 'reservation', id, node, op, object_key, bytes FROM s3_reservations
			UNION ALL SELECT 'reserved_bytes', id, '', '', '', reserved_bytes FROM s3_principals WHERE reserved_bytes <> 0`))
	c.check("S3: principal used bytes = Σ its live buckets",
		c.rows(`SELECT p.id, p.used_bytes, COALESCE(SUM(b.size_bytes + b.parts_bytes), 0) FROM s3_principals p
			LEFT JOIN s3_buckets b ON b.principal_id = p.id AND b.deleted_at IS NULL
			GROUP BY p.id, p.used_bytes HAVING p.used_bytes <> COALESCE(SUM(b.size_bytes + b.parts_bytes), 0)`))
	c.check("S3: 0 bytes over any strict quota",
		c.rows(`SELECT s.id, s.allocated_capacity, p.used_bytes, p.used_bytes - s.allocated_capacity
			FROM storage_accounts s JOIN s3_principals p ON p.storage_account_id = s.id
			WHERE NOT s.allow_overdraft AND p.used_bytes > s.allocated_capacity`))
	counters, overQuota := c.listed()
	c.check("S3: bucket counters = objects listed through S3", counters)
	c.check("S3: 0 bytes over the quota in what S3 lists", overQuota)

	// Pools: no public address, MAC or private address held twice, and the
	// pool's and the floating IPs' records agree.
	c.check("pool: every floating IP's address points back to it",
		c.rows(`SELECT f.uuid, f.address, COALESCE(a.floating_ip_uuid, '<free>') FROM floating_ips f
			LEFT JOIN ip_pool_addresses a ON a.address = f.address WHERE a.floating_ip_uuid IS DISTINCT FROM f.uuid`))
	c.check("pool: no address held for a floating IP that does not exist",
		c.rows(`SELECT a.address, a.floating_ip_uuid FROM ip_pool_addresses a
			LEFT JOIN floating_ips f ON f.uuid = a.floating_ip_uuid WHERE a.floating_ip_uuid IS NOT NULL AND f.uuid IS NULL`))
	c.check("pool: no MAC on two live VMs",
		c.rows(`SELECT mac, COUNT(*) FROM compute_vms WHERE status <> 'deleted' AND mac <> '' GROUP BY mac HAVING COUNT(*) > 1`))
	c.check("pool: no private address on two live VMs of a network",
		c.rows(`SELECT network_uuid, private_ipv4, COUNT(*) FROM compute_vms WHERE status <> 'deleted' AND private_ipv4 <> ''
			GROUP BY network_uuid, private_ipv4 HAVING COUNT(*) > 1`))
	c.check("pool: no interface or network address left to a deleted VM",
		c.rows(`SELECT 'interface', i.vm_uuid, i.private_ipv4, i.mac, COALESCE(v.status, '<no vm>') FROM vm_interfaces i
			LEFT JOIN compute_vms v ON v.uuid = i.vm_uuid WHERE v.uuid IS NULL OR v.status = 'deleted'
			UNION ALL SELECT 'address', a.owner_uuid, a.address, '', COALESCE(v.status, '<no vm>') FROM network_addresses a
			LEFT JOIN compute_vms v ON v.uuid = a.owner_uuid WHERE a.owner_type = 'vm' AND (v.uuid IS NULL OR v.status = 'deleted')`))

	// Resources in final states, idempotency keys free.
	if failed := c.rows(`SELECT 'vm', op, op_error, COUNT(*) FROM compute_vms WHERE status = 'error' GROUP BY 2, 3
		UNION ALL SELECT 'disk', op, op_error, COUNT(*) FROM compute_disks WHERE status = 'error' GROUP BY 2, 3`); len(failed) > 0 {
		c.t.Logf("in error (final, their steps retried by River): %s", strings.Join(failed, "; "))
	}
	stuck := c.rows(transitional + ` ORDER BY 1, 2`)
	if len(stuck) > 0 {
		c.t.Logf("resources not in a final state, by kind: %s",
			strings.Join(c.rows(`SELECT x.kind, x.status, x.op, COUNT(*) FROM (`+transitional+`) AS x(kind, id, status, op, at) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`), "; "))
	}
	c.check("every resource in a final state", stuck)
	c.check("no idempotency key stuck in progress",
		c.rows(`SELECT principal_id, key, created_at::text FROM idempotency_keys WHERE status = 0`))
	var unanswered []string
	for _, k := range c.w.keyed {
		if k.status == 0 || k.status == http.StatusConflict || k.status >= 500 {
			unanswered = append(unanswered, fmt.Sprintf("%s → %d", k.req.header.Get("Idempotency-Key"), k.status))
		}
	}
	c.check("every keyed payment completes on retry", unanswered)
	// Not an invariant (River rescues on its own real-time schedule), but
	// the cause of resources stuck in transitional states.
	if running := c.rows(`SELECT kind, COUNT(*), MIN(attempted_at)::text FROM river_job WHERE state = 'running' GROUP BY kind`); len(running) > 0 {
		c.t.Logf("River jobs still running after the recovery: %s", strings.Join(running, "; "))
	}

	var notReady []string
	for _, n := range c.cl.nodes {
		resp, err := c.cl.client.Get(n.URL + "/readyz")
		if err != nil {
			notReady = append(notReady, fmt.Sprintf("%s: %v", n.name, err))
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			notReady = append(notReady, fmt.Sprintf("%s: %d", n.name, resp.StatusCode))
		}
	}
	c.check("every node answers /readyz", notReady)
}

// listed compares, for the S3 workload's accounts, what S3 lists (through
// a live node) with the bucket and principal counters, and with the quota:
// the counters may agree with each other and still miss stored bytes.
func (c *checker) listed() (bad, overQuota []string) {
	for _, a := range c.fx.s3 {
		cl := s3Client(c.cl.nodes[0], a)
		var bytes, count int64
		p := s3.NewListObjectsV2Paginator(cl, &s3.ListObjectsV2Input{Bucket: aws.String(a.bucket)})
		for p.HasMorePages() {
			page, err := p.NextPage(c.ctx)
			if err != nil {
				bad = append(bad, fmt.Sprintf("list %s: %v", a.bucket, err))
				break
			}
			for _, o := range page.Contents {
				bytes += aws.ToInt64(o.Size)
				count++
			}
		}
		var size, num, parts, used int64
		if err := c.db.QueryRow(c.ctx, `SELECT b.size_bytes, b.num_objects, b.parts_bytes, p.used_bytes FROM s3_buckets b
			JOIN s3_principals p ON p.id = b.principal_id WHERE b.name = $1 AND b.deleted_at IS NULL`, a.bucket).Scan(&size, &num, &parts, &used); err != nil {
			bad = append(bad, fmt.Sprintf("bucket %s: %v", a.bucket, err))
			continue
		}
		c.t.Logf("S3 %s: listed %d objects, %d bytes; counters %d objects, %d bytes (+%d in parts), principal %d used, quota %d",
			a.bucket, count, bytes, num, size, parts, used, s3Quota)
		if bytes > s3Quota {
			overQuota = append(overQuota, fmt.Sprintf("%s stores %d bytes (%d objects) on a quota of %d: %d over",
				a.bucket, bytes, count, s3Quota, bytes-s3Quota))
		}
		if bytes != size || count != num || used != size+parts {
			bad = append(bad, fmt.Sprintf("%s listed %d objects/%d bytes, counters %d objects/%d bytes, used %d",
				a.bucket, count, bytes, num, size, used))
		}
	}
	return bad, overQuota
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
