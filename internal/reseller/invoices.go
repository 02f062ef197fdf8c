package reseller

import (
	"context"
	"fmt"
	"strconv"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/errs"
)

// ListInvoices returns a company's invoices by number.
func (s *Service) ListInvoices(ctx context.Context, a actor.Actor, projectID, companyID int64) ([]Invoice, error) {
	if err := reader(a); err != nil {
		return nil, err
	}
	if _, err := s.store.GetResellerCompany(ctx, a.Scope(), projectID, companyID); err != nil {
		return nil, err
	}
	return s.store.ListResellerInvoices(ctx, a.Scope(), projectID, companyID)
}

// CreateInvoice issues a New invoice of amount (incl. VAT at the system
// rate) to the project's Active company. Its number is the partner's next
// invoice number, taken in the same transaction, so numbers have no gaps.
func (s *Service) CreateInvoice(ctx context.Context, a actor.Actor, projectID, companyID int64, amount int64) (Invoice, error) {
	if err := writer(a); err != nil {
		return Invoice{}, err
	}
	if amount <= 0 || amount > MaxAmount {
		return Invoice{}, errs.Invalid("Amount", "must be positive")
	}
	var out Invoice
	err := s.store.Tx(ctx, func(tx Store) error {
		p, err := s.lockScoped(ctx, tx, a, projectID)
		if err != nil {
			return err
		}
		c, err := tx.GetResellerCompany(ctx, p.PartnerPath, p.ID, companyID)
		if err != nil {
			return err
		}
		if c.State != CompanyActive {
			return errs.Newf(errs.KindConflict, "company %d is %s; invoices go to the Active company", c.ID, c.State)
		}
		// The counter row is shared by the partner's invoices: take it last.
		n, err := tx.NextNumber(ctx, CounterInvoice(p.PartnerID))
		if err != nil {
			return err
		}
		now := s.now()
		vat := vatOf(amount, s.vat)
		inv := Invoice{Number: strconv.FormatInt(n, 10), PartnerID: p.PartnerID, PartnerPath: p.PartnerPath,
			ProjectID: p.ID, CompanyID: c.ID, State: InvoiceNew, Currency: p.Currency, Amount: amount,
			VATRate: s.vat, VAT: vat, Net: amount - vat, CreatedAt: now}
		if err := tx.InsertResellerInvoice(ctx, inv); err != nil {
			return err
		}
		out = inv
		return tx.AppendAudit(ctx, audit.New(a, now, "invoice.create", "reseller_invoice", inv.Number, p.PartnerPath,
			fmt.Sprintf("project=%d company=%d amount=%d", p.ID, c.ID, amount)))
	})
	return out, err
}

// GetInvoice returns an invoice of a company by its number.
func (s *Service) GetInvoice(ctx context.Context, a actor.Actor, projectID, companyID int64, number string) (Invoice, error) {
	if err := reader(a); err != nil {
		return Invoice{}, err
	}
	c, err := s.store.GetResellerCompany(ctx, a.Scope(), projectID, companyID)
	if err != nil {
		return Invoice{}, err
	}
	if _, err := invoiceNumber("invoice_number", number); err != nil {
		return Invoice{}, err
	}
	inv, err := s.store.GetResellerInvoice(ctx, a.Scope(), c.PartnerID, number)
	if err != nil {
		return Invoice{}, err
	}
	if inv.ProjectID != projectID || inv.CompanyID != companyID {
		return Invoice{}, errs.NotFound("invoice")
	}
	return inv, nil
}

// invoiceNumber checks an invoice number (a positive decimal).
func invoiceNumber(field, s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != s {
		return 0, errs.Invalid(field, "must be a positive whole number")
	}
	return n, nil
}
