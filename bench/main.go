// Command bench measures Trellis against baselines taken in the same run,
// and prints each figure as a ratio, so the numbers mean the same on any
// machine:
//
//   - GET /impossiblecloud/v1/contract/list through the whole stack (HTTP,
//     middleware, auth, store, SQLite) vs a bare net/http JSON handler;
//   - partner creations per second under 8-way contention through the whole
//     stack vs a raw SQL transaction doing the same conditional update and
//     insert, on SQLite and (with -pg or TRELLIS_TEST_POSTGRES_URL) on
//     PostgreSQL;
//   - ledger.Post of a two-posting transaction vs the same rows inserted by
//     raw SQL in one transaction each (bench/ledger.go);
//   - the invoice run over accounts × resources × hours hourly usage
//     records vs a raw SQL aggregate over the same rows (bench/invoice.go);
//     the last two on SQLite and PostgreSQL;
//   - S3 PUT and GET of 64 KiB and 4 MiB objects through Trellis's S3 server
//     (SigV4 against Trellis's keys, quota accounting on SQLite) vs versitygw
//     alone on the same posix backend (bench/s3.go).
//
// Run: go run ./bench [-d 3s] [-pg postgres://…] [-accounts 1000 -resources 10 -hours 720] [-only http,ledger,invoice,vm,s3]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/app"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

const workers = 8

func main() {
	dur := flag.Duration("d", 3*time.Second, "duration of each measurement")
	pg := flag.String("pg", os.Getenv("TRELLIS_TEST_POSTGRES_URL"), "PostgreSQL server URL (a scratch database is created on it)")
	shape := usageShape{}
	// The shape is 10,000 × 10 × 720 = 72 M rows; bulk-loading that
	// takes about 20 minutes per database here (50–75 k rows/s), so the
	// default is 1,000 accounts (7.2 M rows, about 2 minutes per database).
	flag.IntVar(&shape.accounts, "accounts", 1000, "invoice run: billing accounts (the issue's full shape: 10000)")
	flag.IntVar(&shape.resources, "resources", 10, "invoice run: resources per account")
	flag.IntVar(&shape.hours, "hours", 720, "invoice run: hourly records per resource")
	only := flag.String("only", "", "comma-separated subset to run: http, ledger, invoice, vm, s3 (default all)")
	listVMs := flag.Int("vms", 100000, "VM list: VMs in the location (the issue's size: 100000)")
	dbs := flag.String("db", "sqlite,postgres", "comma-separated databases to run on: sqlite, postgres (postgres needs -pg)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		check(err)
		check(pprof.StartCPUProfile(f))
		defer pprof.StopCPUProfile()
	}
	ctx := context.Background()
	in := func(list, part string) bool { return strings.Contains(","+list+",", ","+part+",") }
	want := func(part string) bool { return *only == "" || in(*only, part) }
	onSQLite := in(*dbs, "sqlite")

	tmp, err := os.MkdirTemp("", "trellis-bench-")
	check(err)
	defer os.RemoveAll(tmp)

	fmt.Printf("trellis bench: %d workers, %s per measurement\n\n", workers, *dur)
	lite, err := setup(ctx, app.Config{DataDir: tmp})
	check(err)
	defer lite.app.Close()

	// The SQLite app also serves the HTTP baselines' setup, so it is built
	// even when only PostgreSQL is measured.
	if want("http") && onSQLite {
		httpBench(ctx, lite, *dur)
	}
	if want("ledger") && onSQLite {
		ledgerBench(ctx, "SQLite", lite.app.DB, *dur)
	}
	if want("invoice") && onSQLite {
		inv, err := app.Open(ctx, app.Config{DataDir: tmp + "/invoice"})
		check(err)
		invoiceBench(ctx, "SQLite", inv, shape)
		inv.Close()
	}
	if want("vm") && onSQLite {
		va, err := app.Open(ctx, app.Config{DataDir: tmp + "/vm"})
		check(err)
		vmBench(ctx, "SQLite", va, *dur, *listVMs)
		va.Close()
	}

	if want("s3") && onSQLite {
		s3Bench(ctx, tmp, *dur)
	}

	if *pg != "" && in(*dbs, "postgres") {
		url, drop, err := scratchDB(ctx, *pg)
		check(err)
		defer drop()
		pgEnv, err := setup(ctx, app.Config{DataDir: tmp, DB: url})
		check(err)
		defer pgEnv.app.Close()
		if want("http") {
			pgBase := serve(pgEnv.app.Handler)
			createBench(ctx, "PostgreSQL", pgEnv, pgBase, *dur)
		}
		if want("ledger") {
			ledgerBench(ctx, "PostgreSQL", pgEnv.app.DB, *dur)
		}
		if want("invoice") {
			url2, drop2, err := scratchDB(ctx, *pg)
			check(err)
			defer drop2()
			inv, err := app.Open(ctx, app.Config{DataDir: tmp + "/invoice-pg", DB: url2})
			check(err)
			invoiceBench(ctx, "PostgreSQL", inv, shape)
			inv.Close()
		}
		if want("vm") {
			url3, drop3, err := scratchDB(ctx, *pg)
			check(err)
			defer drop3()
			va, err := app.Open(ctx, app.Config{DataDir: tmp + "/vm-pg", DB: url3})
			check(err)
			vmBench(ctx, "PostgreSQL", va, *dur, *listVMs)
			va.Close()
		}
	} else {
		fmt.Println("PostgreSQL: skipped (set -pg or TRELLIS_TEST_POSTGRES_URL)")
	}
}

// httpBench runs the first two figures on SQLite.
func httpBench(ctx context.Context, lite *env, dur time.Duration) {
	// 1. Contract list through the stack vs a bare JSON handler.
	bare := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(lite.contracts)
	}))
	full := serve(lite.app.Handler)
	baseRPS := load(dur, func(c *http.Client) bool { return get(c, bare+"/", "") })
	fullRPS := load(dur, func(c *http.Client) bool { return get(c, full+"/impossiblecloud/v1/contract/list", lite.key) })
	fmt.Printf("%-34s %8.0f req/s   bare net/http JSON handler  %8.0f req/s   ratio %.3f\n",
		"GET /contract/list (SQLite)", fullRPS, baseRPS, fullRPS/baseRPS)

	// 2. Partner creation under contention, per database.
	createBench(ctx, "SQLite", lite, full, dur)
}

// createBench measures partner creation under contention on one database.
func createBench(ctx context.Context, name string, e *env, base string, dur time.Duration) {
	rawRate := rate(dur, func(i int) bool { return rawCreate(ctx, e, i) == nil })
	var n atomic.Int64
	apiRate := load(dur, func(c *http.Client) bool {
		body := fmt.Sprintf(`{"allocatedCapacity": 1, "distributorContractId": %q, "name": "bench %d"}`, e.contractID, n.Add(1))
		return post(c, base+"/impossiblecloud/v1/partner", e.key, body)
	})
	fmt.Printf("%-34s %8.0f req/s   raw SQL conditional tx      %8.0f tx/s    ratio %.3f\n",
		"POST /partner, 8-way ("+name+")", apiRate, rawRate, apiRate/rawRate)
}

type env struct {
	app        *app.App
	key        string
	distID     string
	distPath   string
	contractID string
	contracts  any
}

// setup builds an instance with a distributor, a contract large enough never
// to run out, and a distributor key.
func setup(ctx context.Context, cfg app.Config) (*env, error) {
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	boot, err := a.Bootstrap(ctx, "")
	if err != nil {
		return nil, err
	}
	sys := actor.System("bench")
	d, err := a.Tenancy.CreateOrg(ctx, sys, tenancy.CreateOrgInput{ParentID: boot.Root.ID, Name: "Bench distributor"})
	if err != nil {
		return nil, err
	}
	c, err := a.Tenancy.CreateContract(ctx, sys, tenancy.CreateContractInput{OrgID: d.ID, ReservedCapacity: 1 << 62,
		CostStorageGBCents: 100, Currency: "EUR", Details: "Bench contract"})
	if err != nil {
		return nil, err
	}
	if _, err := a.Tenancy.CreateContract(ctx, sys, tenancy.CreateContractInput{OrgID: d.ID, ReservedCapacity: 1 << 40,
		Currency: "EUR", Details: "Second contract"}); err != nil {
		return nil, err
	}
	k, err := a.Access.CreateKey(ctx, sys, accessInput(d.ID))
	if err != nil {
		return nil, err
	}
	list, err := a.Tenancy.ListContracts(ctx, sys, "", 100)
	if err != nil {
		return nil, err
	}
	return &env{app: a, key: k.Secret, distID: d.ID, distPath: d.Path, contractID: c.ID, contracts: list}, nil
}

// rawCreate is the baseline: the same conditional update and insert a
// partner creation makes, as one plain SQL transaction.
func rawCreate(ctx context.Context, e *env, i int) error {
	return e.app.DB.Tx(ctx, func(q db.Querier) error {
		now := time.Now().UTC()
		res, err := q.ExecContext(ctx, `UPDATE contracts SET allocated_capacity = allocated_capacity + 1, updated_at = $2
			WHERE id = $1 AND allocated_capacity + 1 <= reserved_capacity`, e.contractID, now)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("no capacity")
		}
		id := ids.New()
		_, err = q.ExecContext(ctx, `INSERT INTO orgs (id, kind, parent_id, path, name, details, time_zone, contract_id,
			allocated_capacity, allow_overdraft, created_at, updated_at) VALUES ($1, 'partner', $2, $3, $4, '', 'UTC', $5, 1, false, $6, $6)`,
			id, e.distID, e.distPath+id+"/", fmt.Sprintf("raw %d", i), e.contractID, now)
		return err
	})
}

func serve(h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	go func() { _ = http.Serve(ln, h) }()
	return "http://" + ln.Addr().String()
}

func client() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers}}
}

// load runs workers HTTP clients for d and returns successful requests per
// second.
func load(d time.Duration, do func(*http.Client) bool) float64 {
	return rateWith(d, func() func(int) bool {
		c := client()
		return func(int) bool { return do(c) }
	})
}

func rate(d time.Duration, do func(i int) bool) float64 {
	return rateWith(d, func() func(int) bool { return do })
}

func rateWith(d time.Duration, mk func() func(int) bool) float64 {
	var ok, seq atomic.Int64
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		do := mk()
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if do(int(seq.Add(1))) {
					ok.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return float64(ok.Load()) / time.Since(start).Seconds()
}

func get(c *http.Client, url, key string) bool {
	req, _ := http.NewRequest("GET", url, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	return do(c, req, 200)
}

func post(c *http.Client, url, key, body string) bool {
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	return do(c, req, 201)
}

func do(c *http.Client, req *http.Request, want int) bool {
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == want
}

// scratchDB creates a database on the server for this run and returns its
// URL and a function dropping it.
func scratchDB(ctx context.Context, base string) (string, func(), error) {
	c, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, err
	}
	defer c.Close(ctx)
	id := strings.ReplaceAll(ids.New(), "-", "")
	name := "trellis_bench_" + strings.ToLower(id[len(id)-12:])
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, err
	}
	u := base
	if i := strings.LastIndex(base, "/"); i > len("postgres://") {
		rest := ""
		if j := strings.IndexByte(base[i:], '?'); j >= 0 {
			rest = base[i+j:]
		}
		u = base[:i+1] + name + rest
	}
	return u, func() {
		c, err := pgx.Connect(context.Background(), base)
		if err == nil {
			_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(context.Background())
		}
	}, nil
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func accessInput(orgID string) access.CreateKeyInput {
	return access.CreateKeyInput{OrgID: orgID, Name: "bench", Role: actor.Admin}
}
