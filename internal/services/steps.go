package services

import (
	"context"
	"fmt"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/jobs"
)

// The provider steps: the package step job and what each operation does.

// Step operations of PackageStep.
const (
	OpCreate    = "create"
	OpDelete    = "delete"
	OpWhitelist = "whitelist"
)

// PackageStep is the job that runs one provider step of a package.
type PackageStep struct {
	PackageUUID string `json:"package_uuid"`
	Op          string `json:"op"`
}

// Kind implements jobs.Args.
func (PackageStep) Kind() string { return "services.package_step" }

// enqueueTx schedules a step in tx: after the provider's delay, or after
// the safety net when the request runs the step itself.
func (s *Service) enqueueTx(ctx context.Context, tx Queries, uuid, op string) error {
	d := s.provider.Delay()
	if d <= 0 {
		d = s.cfg.SafetyNet
	}
	return tx.EnqueueJob(ctx, PackageStep{PackageUUID: uuid, Op: op}, jobs.InsertOpts{RunAt: s.clock.Now().Add(d)})
}

// logStep logs the failure of a step a request ran itself: the job retries
// it, but the cause would otherwise be lost.
func (s *Service) logStep(ctx context.Context, err error, uuid, step string) {
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "service package step failed; the job retries it", "package", uuid, "step", step, "err", err)
	}
}

// inline tells whether requests run steps themselves.
func (s *Service) inline() bool { return s.provider.Delay() <= 0 }

// RunPackageStep is the worker of PackageStep (the lead registers it with
// jobs.AddWorker). Steps are idempotent: one whose package is past it does
// nothing. A provider failure is returned, so River retries.
func (s *Service) RunPackageStep(ctx context.Context, args PackageStep) error {
	switch args.Op {
	case OpCreate:
		return s.stepCreate(ctx, args.PackageUUID)
	case OpDelete:
		return s.stepDelete(ctx, args.PackageUUID)
	case OpWhitelist:
		return s.stepWhitelist(ctx, args.PackageUUID)
	}
	return fmt.Errorf("services: unknown step %q", args.Op)
}

func provisioning(status string) bool { return status == StatusCreating || status == StatusError }

// stepPackage reads the package a step names; ok is false when it is
// gone (nothing to do) or on an error.
func (s *Service) stepPackage(ctx context.Context, uuid string) (p Package, ok bool, err error) {
	p, err = s.store.GetServicePackage(ctx, "/", uuid)
	if errs.Is(err, errs.KindNotFound) {
		return Package{}, false, nil
	}
	return p, err == nil, err
}

func (s *Service) stepCreate(ctx context.Context, uuid string) error {
	p, ok, err := s.stepPackage(ctx, uuid)
	if !ok || !provisioning(p.Status) {
		return err
	}
	wl, err := s.store.ListServiceWhitelist(ctx, uuid)
	if err != nil {
		return err
	}
	pass, err := s.box.Open(p.UUID, p.SealedPass)
	if err != nil {
		return err
	}
	spec := PackageSpec{UUID: p.UUID, Location: p.Location, Service: p.Service, Version: p.Version,
		ServiceIP: p.ServiceIP, Port: p.Port, SQLUser: p.SQLUser, SQLPass: pass, Parameters: []byte(p.Parameters),
		Whitelist: wl}
	for _, r := range p.VMs() {
		spec.Nodes = append(spec.Nodes, NodeSpec{ResourceID: r.ID, DiskUUID: r.DiskUUID, VCPU: r.VCPU,
			MemoryMB: r.MemoryMB, DiskGB: r.DiskGB})
	}
	perr := s.provider.CreatePackage(ctx, spec)
	orphan := false
	err = s.store.Tx(ctx, func(tx Store) error {
		p, err := tx.LockServicePackage(ctx, uuid)
		if err != nil {
			return err
		}
		if !provisioning(p.Status) {
			// Deleted while the provider worked: undo below.
			orphan = perr == nil
			return nil
		}
		now := s.now()
		status, vmStatus, action := StatusActive, VMRunning, "service_package.active"
		if perr != nil {
			status, vmStatus, action = StatusError, VMError, "service_package.error"
			if p.Status == StatusError {
				return nil // still failing: nothing changes
			}
		}
		p.Status = status
		if perr == nil {
			p.UpdatedAt = now
		}
		if err := tx.UpdateServicePackage(ctx, p); err != nil {
			return err
		}
		for _, r := range p.Resources {
			if r.Type == ResourceVM {
				r.Status, r.UpdatedAt = vmStatus, now
				if err := tx.UpdateServiceResource(ctx, r); err != nil {
					return err
				}
			}
		}
		if perr == nil {
			if err := s.billTx(ctx, tx, p, now); err != nil {
				return err
			}
		}
		detail := "status=" + status
		if perr != nil {
			detail += " provider error: " + perr.Error()
		}
		return tx.AppendAudit(ctx, audit.New(actor.System(""), now, action, "service_package", p.UUID, p.OrgPath, detail))
	})
	if err != nil {
		return err
	}
	if orphan {
		return s.provider.DeletePackage(ctx, uuid)
	}
	return perr
}

func (s *Service) stepDelete(ctx context.Context, uuid string) error {
	p, ok, err := s.stepPackage(ctx, uuid)
	if !ok || p.Status != StatusDeleting {
		return err
	}
	if err := s.provider.DeletePackage(ctx, uuid); err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx Store) error {
		p, err := tx.LockServicePackage(ctx, uuid)
		if err != nil {
			return err
		}
		if p.Status != StatusDeleting {
			return nil
		}
		now := s.now()
		if p.ServiceIP != "" {
			if err := s.network.ReleaseServiceIPTx(ctx, tx, p.ServiceIP); err != nil && !errs.Is(err, errs.KindNotFound) {
				return err
			}
		}
		p.Status = StatusDeleted
		if err := tx.UpdateServicePackage(ctx, p); err != nil {
			return err
		}
		for _, r := range p.Resources {
			r.Status, r.UpdatedAt = VMDeleted, now
			if err := tx.UpdateServiceResource(ctx, r); err != nil {
				return err
			}
		}
		return tx.AppendAudit(ctx, audit.New(actor.System(""), now, "service_package.deleted", "service_package",
			p.UUID, p.OrgPath, "address released: "+p.ServiceIP))
	})
}

func (s *Service) stepWhitelist(ctx context.Context, uuid string) error {
	p, ok, err := s.stepPackage(ctx, uuid)
	// A package being created gets the list with its creation; a deleted
	// one needs none.
	if !ok || p.Status != StatusActive {
		return err
	}
	wl, err := s.store.ListServiceWhitelist(ctx, uuid)
	if err != nil {
		return err
	}
	return s.provider.SetWhitelist(ctx, uuid, wl)
}
