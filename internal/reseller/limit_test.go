package reseller_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/reseller"
)

// operator returns an actor of the org at depth (1 provider, 2 distributor)
// above f's partner.
func (f *fixture) operator(depth int, kind actor.OrgKind, role actor.Role) actor.Actor {
	parts := strings.Split(strings.Trim(f.partner.Path, "/"), "/")
	path := "/" + strings.Join(parts[:depth], "/") + "/"
	return actor.Actor{Type: actor.TypeAPIKey, ID: "op", OrgID: parts[depth-1], OrgPath: path, OrgKind: kind, Role: role}
}

func (f *fixture) setLimit(t *testing.T, v int64) {
	t.Helper()
	ctx := t.Context()
	_, err := f.svc.UpdateSettings(ctx, f.operator(1, actor.Provider, actor.Admin), f.partner.ID,
		reseller.SettingsInput{MonthlyLimit: &v})
	must(t, err)
}

func (f *fixture) intake(t *testing.T) int64 {
	t.Helper()
	ctx := t.Context()
	n, err := f.st.ResellerIntake(ctx, f.partner.ID, f.clk.Now().UTC().Format("2006-01"), "RUB")
	must(t, err)
	return n
}

// TestMonthlyLimit: the money a partner records through the Partner API in
// a calendar month (payments, DengiOnlinePlus, BonusPlus) is bounded by the
// provider's limit; BonusMinus and replays do not count; a new month
// starts from zero.
func TestMonthlyLimit(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	each(t, func(t *testing.T, f *fixture) {
		_, p1 := f.account(t, "l1@example.com")
		_, p2 := f.account(t, "l2@example.com")
		f.setLimit(t, 100000) // 1,000.00
		online := func(id string, amount, proj int64) func() error {
			return func() error {
				_, err := f.svc.OnlinePayment(ctx, f.a, reseller.OnlinePaymentInput{PaymentID: id, Amount: amount, ProjectID: proj})
				return err
			}
		}
		bank := func(num string, amount, proj int64) func() error {
			return func() error {
				_, err := f.svc.BankPayment(ctx, f.a, reseller.BankPaymentInput{Number: num, TIN: "7838413489", Amount: amount,
					ProjectID: proj})
				return err
			}
		}
		op := func(typ string, amount, proj int64) func() error {
			return func() error { _, err := f.svc.CreateOperation(ctx, f.a, proj, typ, amount); return err }
		}
		steps := []struct {
			name   string
			do     func() error
			refuse bool
			intake int64
		}{
			{"online under", online("O-1", 60000, p1.ID), false, 60000},
			{"BonusPlus counts", op(reseller.OpBonusPlus, 5000, p2.ID), false, 65000},
			{"BonusMinus does not", op(reseller.OpBonusMinus, 5000, p2.ID), false, 65000},
			{"bank over", bank("B-1", 40000, p2.ID), true, 65000},
			{"replay not counted", online("O-1", 60000, p1.ID), false, 65000},
			{"bank exactly at", bank("B-2", 35000, p2.ID), false, 100000},
			{"DengiOnlinePlus over by 0.01", op(reseller.OpDengiOnlinePlus, 1, p1.ID), true, 100000},
			{"online over by 0.01", online("O-2", 1, p2.ID), true, 100000},
		}
		for _, s := range steps {
			err := s.do()
			if s.refuse {
				wantErr(t, err, errs.KindPrecondition, "Amount")
			} else if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if got := f.intake(t); got != s.intake {
				t.Fatalf("%s: intake %d, want %d", s.name, got, s.intake)
			}
		}
		b1, _, _ := f.svc.Balance(ctx, p1.ID)
		b2, _, _ := f.svc.Balance(ctx, p2.ID)
		if b1+b2 != 95000 {
			t.Fatalf("money %d, want 95000 (the refused payments credited nothing)", b1+b2)
		}
		// A refused payment's number stays free: the same number, within the
		// next month's limit, is recorded then.
		f.clk.Set(t0.AddDate(0, 1, -1)) // 2026-04-01 09:30 UTC
		if err := online("O-2", 100000, p2.ID)(); err != nil {
			t.Fatalf("next month, at the limit: %v", err)
		}
		wantErr(t, online("O-3", 1, p2.ID)(), errs.KindPrecondition, "Amount")
		if got := f.intake(t); got != 100000 {
			t.Fatalf("next month's intake %d", got)
		}
		// 0 lets nothing in; unlimited lets in what the per-call ceiling allows.
		f.setLimit(t, 0)
		wantErr(t, op(reseller.OpDengiOnlinePlus, 1, p1.ID)(), errs.KindPrecondition, "Amount")
		f.setLimit(t, reseller.Unlimited)
		must(t, op(reseller.OpDengiOnlinePlus, reseller.MaxAmount, p1.ID)())
		must(t, online("O-4", reseller.MaxAmount, p1.ID)())
		// Back to the default (Config: 1,000,000.00), already exceeded.
		_, err := f.svc.UpdateSettings(ctx, f.operator(1, actor.Provider, actor.Admin), f.partner.ID,
			reseller.SettingsInput{DefaultMonthlyLimit: true})
		must(t, err)
		st, err := f.svc.Settings(ctx, f.a, "")
		must(t, err)
		if st.MonthlyLimit != nil || st.EffectiveMonthlyLimit != reseller.DefaultMonthlyLimit {
			t.Fatalf("settings %+v", st)
		}
		wantErr(t, online("O-5", 1, p1.ID)(), errs.KindPrecondition, "Amount")
		f.trial(t)
	})
}

// TestMonthlyLimitDefault: a partner without a limit of its own gets the
// configured default.
func TestMonthlyLimitDefault(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	each(t, func(t *testing.T, f *fixture) {
		_, p := f.account(t, "d@example.com")
		must(t, func() error {
			_, err := f.svc.CreateOperation(ctx, f.a, p.ID, reseller.OpDengiOnlinePlus, reseller.DefaultMonthlyLimit)
			return err
		}())
		_, err := f.svc.CreateOperation(ctx, f.a, p.ID, reseller.OpBonusPlus, 1)
		wantErr(t, err, errs.KindPrecondition, "Amount")
	})
}

// TestMonthlyLimitRace: 32 parallel payments of 100.00 into two projects
// of one partner against a limit of 1,000.00: exactly ten are recorded.
func TestMonthlyLimitRace(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	each(t, func(t *testing.T, f *fixture) {
		_, p1 := f.account(t, "r1@example.com")
		_, p2 := f.account(t, "r2@example.com")
		f.setLimit(t, 100000)
		errsOut := make([]error, 32)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for g := range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				proj := p1.ID
				if g%2 == 1 {
					proj = p2.ID
				}
				if g%3 == 0 {
					_, errsOut[g] = f.svc.CreateOperation(ctx, f.a, proj, reseller.OpDengiOnlinePlus, 10000)
					return
				}
				_, errsOut[g] = f.svc.OnlinePayment(ctx, f.a, reseller.OnlinePaymentInput{PaymentID: fmt.Sprintf("R-%02d", g),
					Amount: 10000, ProjectID: proj})
			}()
		}
		close(start)
		wg.Wait()
		okN := 0
		for g, err := range errsOut {
			switch {
			case err == nil:
				okN++
			case errs.KindOf(err) != errs.KindPrecondition:
				t.Fatalf("payment %d: %v", g, err)
			}
		}
		b1, _, _ := f.svc.Balance(ctx, p1.ID)
		b2, _, _ := f.svc.Balance(ctx, p2.ID)
		if okN != 10 || b1+b2 != 100000 || f.intake(t) != 100000 {
			t.Fatalf("%d recorded, money %d, intake %d; want 10, 100000, 100000", okN, b1+b2, f.intake(t))
		}
		f.trial(t)
	})
}

// TestMonthlyLimitWho: only a provider admin sets a partner's limit.
func TestMonthlyLimitWho(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	each(t, func(t *testing.T, f *fixture) {
		v := int64(reseller.Unlimited)
		for _, a := range []actor.Actor{f.a, f.operator(2, actor.Distributor, actor.Admin),
			f.operator(1, actor.Provider, actor.Staff)} {
			_, err := f.svc.UpdateSettings(ctx, a, f.partner.ID, reseller.SettingsInput{MonthlyLimit: &v})
			wantErr(t, err, errs.KindForbidden, "")
			_, err = f.svc.UpdateSettings(ctx, a, f.partner.ID, reseller.SettingsInput{DefaultMonthlyLimit: true})
			wantErr(t, err, errs.KindForbidden, "")
		}
		f.setLimit(t, 5)
		st, err := f.svc.Settings(ctx, f.a, "")
		must(t, err)
		if st.EffectiveMonthlyLimit != 5 || st.MonthlyLimit == nil {
			t.Fatalf("settings %+v", st)
		}
	})
}

// TestParseMonthlyLimit: the flag's and the native API's grammar, exact
// minor units, and the way back.
func TestParseMonthlyLimit(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{"1000000.00": reseller.DefaultMonthlyLimit, "0": 0, "0.01": 1, "5000.5": 500050,
		"unlimited": reseller.Unlimited, "92233720368547758.07": 1<<63 - 1} {
		got, err := reseller.ParseMonthlyLimit("f", in)
		if err != nil || got != want {
			t.Fatalf("%q: %d, %v; want %d", in, got, err, want)
		}
		if back, _ := reseller.ParseMonthlyLimit("f", reseller.FormatMonthlyLimit(got)); back != got {
			t.Fatalf("%q: formatted %q", in, reseller.FormatMonthlyLimit(got))
		}
	}
	for _, in := range []string{"", "-1", "1.234", "1e3", " 5", "01", "Unlimited", "default", "92233720368547758.08", "1,5"} {
		_, err := reseller.ParseMonthlyLimit("f", in)
		wantErr(t, err, errs.KindInvalid, "f")
	}
}

// TestDebtLimitBoundedByMonthlyLimit: a debt limit is credit the partner
// grants itself, so raising it above the partner's monthly limit is refused;
// lowering it, or raising it within the limit, is not; unlimited lifts it.
func TestDebtLimitBoundedByMonthlyLimit(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	each(t, func(t *testing.T, f *fixture) {
		_, p := f.account(t, "debt@example.com")
		f.setLimit(t, 50000)
		debt := func(v int64) error {
			_, err := f.svc.UpdateProject(ctx, f.a, p.ID, reseller.ProjectInput{MaxDebt: &v})
			return err
		}
		must(t, debt(50000))
		wantErr(t, debt(50001), errs.KindPrecondition, "MaxDebt")
		f.setLimit(t, 10000)
		must(t, debt(20000)) // lowering stays allowed above a lowered limit
		wantErr(t, debt(30000), errs.KindPrecondition, "MaxDebt")
		f.setLimit(t, reseller.Unlimited)
		must(t, debt(reseller.MaxAmount))
	})
}
