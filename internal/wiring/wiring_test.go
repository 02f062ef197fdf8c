package wiring_test

import (
	"testing"

	"github.com/trellis-cloud/trellis/internal/wiring"
)

type svc struct{}

func (*svc) Do() {}

type doer interface{ Do() }

func TestRequire(t *testing.T) {
	var nilPtr *svc
	var nilIface doer
	var typedNil doer = nilPtr
	if err := wiring.Require("x", wiring.D("A", &svc{}), wiring.D("B", struct{}{}), wiring.D("C", func() {})); err != nil {
		t.Fatalf("all present: %v", err)
	}
	err := wiring.Require("billing", wiring.D("Store", &svc{}), wiring.D("Ledger", nilPtr))
	if err == nil || err.Error() != "billing: missing dependency Ledger" {
		t.Fatalf("got %v", err)
	}
	err = wiring.Require("reseller", wiring.D("Services", nilIface), wiring.D("Tickets", typedNil), wiring.D("Clock", nil))
	if err == nil || err.Error() != "reseller: missing dependencies Services, Tickets, Clock" {
		t.Fatalf("got %v", err)
	}
}
