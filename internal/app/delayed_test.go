package app_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/app"
	"github.com/trellis-cloud/trellis/internal/clock"
	computesim "github.com/trellis-cloud/trellis/internal/compute/sim"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// TestDelayedProvider: with a provider that takes time, requests answer
// the transitional state and the River workers finish the steps when the
// (sandbox) clock reaches them: the path every step takes when it is not
// run inline.
func TestDelayedProvider(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		clk := clock.NewFake(time.Date(2027, 3, 10, 10, 5, 0, 0, time.UTC))
		a, creds := newDemo(t, d, app.Config{DataDir: t.TempDir(), Clock: clk, Sandbox: true, ProviderDelay: 200 * time.Millisecond})
		stop, err := a.StartWorkers(ctx, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		c := newClient(t, a.Handler)
		key := creds["idcloudhost_key"]
		status := func(uuid string) string {
			return c.object(c.idc(200, "GET", "/user-resource/vm", key, url.Values{"uuid": {uuid}}))["status"].(string)
		}
		// waitFor moves the clock past the step's time and waits for the
		// workers (they poll; the test waits for an effect, it times
		// nothing).
		waitFor := func(uuid, want string) {
			t.Helper()
			deadline := time.Now().Add(30 * time.Second)
			for status(uuid) != want {
				if time.Now().After(deadline) {
					t.Fatalf("VM %s is %s, want %s", uuid, status(uuid), want)
				}
				clk.Advance(time.Second)
				time.Sleep(50 * time.Millisecond)
			}
		}
		vm := c.object(c.idc(200, "POST", "/user-resource/vm", key, url.Values{"name": {"slow-vm"}, "os_name": {"ubuntu"},
			"os_version": {"16.04"}, "disks": {"20"}, "vcpu": {"2"}, "ram": {"2048"}, "username": {"example"},
			"password": {"Password123"}, "billing_account_id": {"6"}}))
		uuid := vm["uuid"].(string)
		if vm["status"] != "creating" {
			t.Fatalf("create answered %v, want creating", vm["status"])
		}
		waitFor(uuid, "running")
		c.idc(200, "POST", "/user-resource/vm/stop", key, url.Values{"uuid": {uuid}})
		waitFor(uuid, "stopped")
		if got := a.ComputeSim.Calls(computesim.StepStopVM); got != 1 {
			t.Errorf("StopVM called %d times, want 1", got)
		}
	})
}
