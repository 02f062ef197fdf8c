package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/reseller"
	"github.com/trellis-cloud/trellis/internal/store/db"
)

// Reseller is the reseller.Store.
type Reseller struct{ *Store }

// Tx implements reseller.Store.
func (v Reseller) Tx(ctx context.Context, fn func(reseller.Store) error) error {
	return v.tx(ctx, func(s *Store) error { return fn(Reseller{s}) })
}

var _ reseller.Store = Reseller{}

// ---- settings ----

// GetResellerSettings implements reseller.Queries.
func (s *Store) GetResellerSettings(ctx context.Context, partnerID string) (reseller.Settings, error) {
	st := reseller.Settings{PartnerID: partnerID}
	var features string
	var at db.Time
	var limit sql.NullInt64
	err := s.r().QueryRowContext(ctx, `SELECT features, currency, monthly_limit, updated_at FROM reseller_settings
		WHERE partner_id = $1`, partnerID).Scan(&features, &st.Currency, &limit, &at)
	if err != nil {
		return reseller.Settings{}, s.mapErr(err, "reseller settings")
	}
	st.UpdatedAt = at.Time
	if limit.Valid {
		st.MonthlyLimit = &limit.Int64
	}
	if err := json.Unmarshal([]byte(features), &st.Features); err != nil {
		return reseller.Settings{}, errs.Wrap(errs.KindInternal, err, "database error")
	}
	return st, nil
}

// UpsertResellerSettings implements reseller.Queries.
func (s *Store) UpsertResellerSettings(ctx context.Context, st reseller.Settings) error {
	f := st.Features
	if f == nil {
		f = []string{}
	}
	b, err := json.Marshal(f)
	if err != nil {
		return errs.Wrap(errs.KindInternal, err, "features")
	}
	var limit sql.NullInt64
	if st.MonthlyLimit != nil {
		limit = sql.NullInt64{Int64: *st.MonthlyLimit, Valid: true}
	}
	_, err = s.w().ExecContext(ctx, `INSERT INTO reseller_settings (partner_id, features, currency, monthly_limit, updated_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (partner_id) DO UPDATE SET features = excluded.features,
		currency = excluded.currency, monthly_limit = excluded.monthly_limit, updated_at = excluded.updated_at`,
		st.PartnerID, string(b), st.Currency, limit, st.UpdatedAt)
	return s.mapErr(err, "reseller settings")
}

// AddResellerIntake implements reseller.Queries. One statement, so that
// the check and the addition are atomic: PostgreSQL's ON CONFLICT DO
// UPDATE locks the row and evaluates the WHERE on its latest version (a
// racer waits for ours to commit, then sees our amount); SQLite runs one
// writer at a time.
func (s *Store) AddResellerIntake(ctx context.Context, partnerID, month, currency string, amount, limit int64) (bool, error) {
	if limit >= 0 && amount > limit {
		return false, nil
	}
	res, err := s.w().ExecContext(ctx, `INSERT INTO reseller_intake (partner_id, month, currency, amount)
		VALUES ($1, $2, $3, $4) ON CONFLICT (partner_id, month, currency) DO UPDATE
		SET amount = reseller_intake.amount + excluded.amount
		WHERE CAST($5 AS BIGINT) < 0 OR reseller_intake.amount <= CAST($5 AS BIGINT) - excluded.amount`, partnerID, month, currency, amount, limit)
	if err != nil {
		return false, s.mapErr(err, "reseller intake")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.mapErr(err, "reseller intake")
	}
	return n == 1, nil
}

// ResellerIntake implements reseller.Queries.
func (s *Store) ResellerIntake(ctx context.Context, partnerID, month, currency string) (int64, error) {
	var n int64
	err := s.r().QueryRowContext(ctx, `SELECT amount FROM reseller_intake WHERE partner_id = $1 AND month = $2
		AND currency = $3`, partnerID, month, currency).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, s.mapErr(err, "reseller intake")
}

// ---- keys ----

const resellerKeyCols = `id, partner_id, partner_path, role, name, prefix, hash, created_at, revoked_at, last_used_at`

func scanResellerKey(sc interface{ Scan(...any) error }) (reseller.Key, error) {
	var k reseller.Key
	var created db.Time
	var revoked, used db.NullTime
	err := sc.Scan(&k.ID, &k.PartnerID, &k.PartnerPath, &k.Role, &k.Name, &k.Prefix, &k.Hash, &created, &revoked, &used)
	k.CreatedAt, k.RevokedAt, k.LastUsedAt = created.Time, revoked.Ptr(), used.Ptr()
	return k, err
}

// InsertResellerKey implements reseller.Queries.
func (s *Store) InsertResellerKey(ctx context.Context, k reseller.Key) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO reseller_keys (`+resellerKeyCols+`) VALUES ($1, $2, $3, $4, $5, $6,
		$7, $8, $9, $10)`, k.ID, k.PartnerID, k.PartnerPath, k.Role, k.Name, k.Prefix, k.Hash, k.CreatedAt,
		db.TimePtr(k.RevokedAt), db.TimePtr(k.LastUsedAt))
	return s.mapErr(err, "reseller key")
}

// GetResellerKeyByHash implements reseller.Queries.
func (s *Store) GetResellerKeyByHash(ctx context.Context, hash string) (reseller.Key, error) {
	k, err := scanResellerKey(s.r().QueryRowContext(ctx, `SELECT `+resellerKeyCols+` FROM reseller_keys WHERE hash = $1`, hash))
	return k, s.mapErr(err, "reseller key")
}

// ListResellerKeys implements reseller.Queries.
func (s *Store) ListResellerKeys(ctx context.Context, partnerID string) ([]reseller.Key, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+resellerKeyCols+` FROM reseller_keys WHERE partner_id = $1
		ORDER BY created_at, id`, partnerID)
	if err != nil {
		return nil, s.mapErr(err, "reseller key")
	}
	return collect(rows, scanResellerKey)
}

// RevokeResellerKey implements reseller.Queries.
func (s *Store) RevokeResellerKey(ctx context.Context, partnerID, id string, at time.Time) (bool, error) {
	var n int
	if err := s.r().QueryRowContext(ctx, `SELECT COUNT(*) FROM reseller_keys WHERE id = $1 AND partner_id = $2`,
		id, partnerID).Scan(&n); err != nil {
		return false, s.mapErr(err, "reseller key")
	}
	if n == 0 {
		return false, errs.NotFound("reseller key")
	}
	res, err := s.w().ExecContext(ctx, `UPDATE reseller_keys SET revoked_at = $3 WHERE id = $1 AND partner_id = $2
		AND revoked_at IS NULL`, id, partnerID, at)
	return s.changed(res, err, "reseller key")
}

// TouchResellerKey implements reseller.Queries.
func (s *Store) TouchResellerKey(ctx context.Context, id string, at time.Time) error {
	_, err := s.w().ExecContext(ctx, `UPDATE reseller_keys SET last_used_at = $2 WHERE id = $1`, id, at)
	return s.mapErr(err, "reseller key")
}

// ---- accounts ----

const resellerAccountCols = `id, partner_id, partner_path, email, state, additional_data, internal_role, simpleone,
	simpleone_user_id, simpleone_company_id, personal_project_id, activation_token, created_at, updated_at,
	activated_at, deleted_at`

func scanResellerAccount(sc interface{ Scan(...any) error }) (reseller.Account, error) {
	var a reseller.Account
	var ad string
	var created, updated db.Time
	var activated, deleted db.NullTime
	err := sc.Scan(&a.ID, &a.PartnerID, &a.PartnerPath, &a.Email, &a.State, &ad, &a.InternalRole, &a.SimpleOne,
		&a.SimpleOneUserID, &a.SimpleOneCompanyID, &a.PersonalProjectID, &a.ActivationToken, &created, &updated,
		&activated, &deleted)
	a.AdditionalData = json.RawMessage(ad)
	a.CreatedAt, a.UpdatedAt, a.ActivatedAt, a.DeletedAt = created.Time, updated.Time, activated.Ptr(), deleted.Ptr()
	return a, err
}

// InsertResellerAccount implements reseller.Queries.
func (s *Store) InsertResellerAccount(ctx context.Context, a reseller.Account) error {
	ad := string(a.AdditionalData)
	if ad == "" {
		ad = "{}"
	}
	_, err := s.w().ExecContext(ctx, `INSERT INTO reseller_accounts (`+resellerAccountCols+`) VALUES ($1, $2, $3, $4,
		$5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`, a.ID, a.PartnerID, a.PartnerPath, a.Email, a.State, ad,
		a.InternalRole, a.SimpleOne, a.SimpleOneUserID, a.SimpleOneCompanyID, a.PersonalProjectID, a.ActivationToken,
		a.CreatedAt, a.UpdatedAt, db.TimePtr(a.ActivatedAt), db.TimePtr(a.DeletedAt))
	return s.mapErr(err, "reseller account")
}

// GetResellerAccount implements reseller.Queries.
func (s *Store) GetResellerAccount(ctx context.Context, scope, id string) (reseller.Account, error) {
	a, err := scanResellerAccount(s.r().QueryRowContext(ctx, `SELECT `+resellerAccountCols+` FROM reseller_accounts
		WHERE id = $1 AND deleted_at IS NULL AND `+scoped("partner_path", "$2"), id, scope))
	return a, s.mapErr(err, "account")
}

// GetResellerAccountBySimpleOneUser implements reseller.Queries.
func (s *Store) GetResellerAccountBySimpleOneUser(ctx context.Context, partnerID, userID string) (reseller.Account, error) {
	a, err := scanResellerAccount(s.r().QueryRowContext(ctx, `SELECT `+resellerAccountCols+` FROM reseller_accounts
		WHERE partner_id = $1 AND simpleone_user_id = $2 AND simpleone_user_id <> '' AND deleted_at IS NULL`,
		partnerID, userID))
	return a, s.mapErr(err, "account")
}

// ListResellerAccounts implements reseller.Queries. The e-mail substring
// is matched here rather than with LIKE, so wildcards in it mean nothing.
func (s *Store) ListResellerAccounts(ctx context.Context, scope string, q reseller.AccountQuery) ([]reseller.Account, error) {
	simple, anyKind := false, true
	if q.SimpleOne != nil {
		simple, anyKind = *q.SimpleOne, false
	}
	rows, err := s.r().QueryContext(ctx, `SELECT `+resellerAccountCols+` FROM reseller_accounts
		WHERE deleted_at IS NULL AND `+scoped("partner_path", "$1")+` AND ($2 = '' OR partner_id = $2)
		AND (NOT $3 OR internal_role) AND ($4 OR simpleone = $5) ORDER BY created_at, id`,
		scope, q.PartnerID, q.InternalOnly, anyKind, simple)
	if err != nil {
		return nil, s.mapErr(err, "account")
	}
	list, err := collect(rows, scanResellerAccount)
	if err != nil || q.EmailContains == "" {
		return list, err
	}
	want := strings.ToLower(q.EmailContains)
	out := []reseller.Account{}
	for _, a := range list {
		if strings.Contains(strings.ToLower(a.Email), want) {
			out = append(out, a)
		}
	}
	return out, nil
}

// UpdateResellerAccount implements reseller.Queries.
func (s *Store) UpdateResellerAccount(ctx context.Context, a reseller.Account) error {
	res, err := s.w().ExecContext(ctx, `UPDATE reseller_accounts SET state = $2, activation_token = $3,
		simpleone_company_id = $4, updated_at = $5, activated_at = $6, deleted_at = $7 WHERE id = $1`,
		a.ID, a.State, a.ActivationToken, a.SimpleOneCompanyID, a.UpdatedAt, db.TimePtr(a.ActivatedAt), db.TimePtr(a.DeletedAt))
	return s.affected(res, err, "account")
}

// ---- projects ----

const resellerProjectCols = `p.id, p.partner_id, p.partner_path, p.name, p.owner_account_id, p.currency, p.is_post_paid,
	p.max_debt, p.blocked_at, p.simpleone_company_id, p.money_account_id, p.bonus_account_id, p.created_at,
	p.updated_at, p.deleted_at, m.balance, b.balance`

const resellerProjectFrom = ` FROM reseller_projects p JOIN ledger_accounts m ON m.id = p.money_account_id
	JOIN ledger_accounts b ON b.id = p.bonus_account_id`

func scanResellerProject(sc interface{ Scan(...any) error }) (reseller.Project, error) {
	var p reseller.Project
	var created, updated db.Time
	var blocked, deleted db.NullTime
	err := sc.Scan(&p.ID, &p.PartnerID, &p.PartnerPath, &p.Name, &p.OwnerAccountID, &p.Currency, &p.IsPostPaid,
		&p.MaxDebt, &blocked, &p.SimpleOneCompanyID, &p.MoneyAccount, &p.BonusAccount, &created, &updated, &deleted,
		&p.Balance, &p.Bonus)
	p.BlockedAt, p.CreatedAt, p.UpdatedAt, p.DeletedAt = blocked.Ptr(), created.Time, updated.Time, deleted.Ptr()
	p.Blocked = p.BlockedAt != nil
	return p, err
}

// withMembers fills a project's members, owner first.
func (s *Store) withMembers(ctx context.Context, p reseller.Project) (reseller.Project, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT account_id FROM reseller_project_members WHERE project_id = $1
		ORDER BY created_at, account_id`, p.ID)
	if err != nil {
		return p, s.mapErr(err, "project member")
	}
	ids, err := collect(rows, func(sc interface{ Scan(...any) error }) (string, error) {
		var id string
		return id, sc.Scan(&id)
	})
	if err != nil {
		return p, err
	}
	p.Members = []string{}
	for _, id := range ids {
		if id == p.OwnerAccountID {
			p.Members = append([]string{id}, p.Members...)
		} else {
			p.Members = append(p.Members, id)
		}
	}
	return p, nil
}

// InsertResellerProject implements reseller.Queries.
func (s *Store) InsertResellerProject(ctx context.Context, p reseller.Project) error {
	return s.tx(ctx, func(s *Store) error {
		_, err := s.w().ExecContext(ctx, `INSERT INTO reseller_projects (id, partner_id, partner_path, name,
			owner_account_id, currency, is_post_paid, max_debt, blocked_at, simpleone_company_id, money_account_id,
			bonus_account_id, created_at, updated_at, deleted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
			$12, $13, $14, $15)`, p.ID, p.PartnerID, p.PartnerPath, p.Name, p.OwnerAccountID, p.Currency, p.IsPostPaid,
			p.MaxDebt, db.TimePtr(p.BlockedAt), p.SimpleOneCompanyID, p.MoneyAccount, p.BonusAccount, p.CreatedAt,
			p.UpdatedAt, db.TimePtr(p.DeletedAt))
		if err != nil {
			return s.mapErr(err, "project")
		}
		_, err = s.AddResellerProjectMember(ctx, p.ID, p.OwnerAccountID, p.CreatedAt)
		return err
	})
}

// GetResellerProject implements reseller.Queries.
func (s *Store) GetResellerProject(ctx context.Context, scope string, id int64) (reseller.Project, error) {
	p, err := scanResellerProject(s.r().QueryRowContext(ctx, `SELECT `+resellerProjectCols+resellerProjectFrom+`
		WHERE p.id = $1 AND p.deleted_at IS NULL AND `+scoped("p.partner_path", "$2"), id, scope))
	if err != nil {
		return p, s.mapErr(err, "project")
	}
	return s.withMembers(ctx, p)
}

// LockResellerProject implements reseller.Queries: the no-op update takes
// PostgreSQL's row lock with the same SQL on both databases.
func (s *Store) LockResellerProject(ctx context.Context, id int64) (reseller.Project, error) {
	res, err := s.w().ExecContext(ctx, `UPDATE reseller_projects SET updated_at = updated_at WHERE id = $1
		AND deleted_at IS NULL`, id)
	if err := s.affected(res, err, "project"); err != nil {
		return reseller.Project{}, err
	}
	return s.GetResellerProject(ctx, "/", id)
}

// ListResellerProjects implements reseller.Queries.
func (s *Store) ListResellerProjects(ctx context.Context, scope, accountID string) ([]reseller.Project, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+resellerProjectCols+resellerProjectFrom+`
		WHERE p.deleted_at IS NULL AND `+scoped("p.partner_path", "$1")+` AND ($2 = '' OR EXISTS (SELECT 1
		FROM reseller_project_members x WHERE x.project_id = p.id AND x.account_id = $2)) ORDER BY p.id`, scope, accountID)
	if err != nil {
		return nil, s.mapErr(err, "project")
	}
	list, err := collect(rows, scanResellerProject)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i], err = s.withMembers(ctx, list[i]); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// UpdateResellerProject implements reseller.Queries.
func (s *Store) UpdateResellerProject(ctx context.Context, p reseller.Project) error {
	res, err := s.w().ExecContext(ctx, `UPDATE reseller_projects SET is_post_paid = $2, max_debt = $3, blocked_at = $4,
		simpleone_company_id = $5, updated_at = $6, deleted_at = $7 WHERE id = $1`, p.ID, p.IsPostPaid, p.MaxDebt,
		db.TimePtr(p.BlockedAt), p.SimpleOneCompanyID, p.UpdatedAt, db.TimePtr(p.DeletedAt))
	return s.affected(res, err, "project")
}

// AddResellerProjectMember implements reseller.Queries.
func (s *Store) AddResellerProjectMember(ctx context.Context, projectID int64, accountID string, at time.Time) (bool, error) {
	res, err := s.w().ExecContext(ctx, `INSERT INTO reseller_project_members (project_id, account_id, created_at)
		VALUES ($1, $2, $3) ON CONFLICT (project_id, account_id) DO NOTHING`, projectID, accountID, at)
	return s.changed(res, err, "project member")
}

// RemoveResellerProjectMember implements reseller.Queries.
func (s *Store) RemoveResellerProjectMember(ctx context.Context, projectID int64, accountID string) (bool, error) {
	res, err := s.w().ExecContext(ctx, `DELETE FROM reseller_project_members WHERE project_id = $1 AND account_id = $2`,
		projectID, accountID)
	return s.changed(res, err, "project member")
}

// ---- companies ----

const resellerCompanyCols = `id, project_id, partner_id, partner_path, state, country, inn, unp, bin, company_name, kbe,
	legal_address, actual_address, kpp, auto_invoice_amount, type_auto_invoice_generation, ogrn, okpo, checking_account,
	correspondent_account, bank, bik, signatory_name, signatory_job, agreement_number, agreement_date,
	can_user_edit_company_data, finance_email, doc_delivery_period, partner_company_id, created_at, updated_at`

func scanResellerCompany(sc interface{ Scan(...any) error }) (reseller.Company, error) {
	var c reseller.Company
	var agreed, created, updated db.Time
	err := sc.Scan(&c.ID, &c.ProjectID, &c.PartnerID, &c.PartnerPath, &c.State, &c.CountryTwoLetterCode, &c.INN, &c.UNP,
		&c.BIN, &c.CompanyName, &c.Kbe, &c.LegalAddress, &c.ActualAddress, &c.KPP, &c.AutoInvoiceAmount,
		&c.TypeAutoInvoiceGeneration, &c.Ogrn, &c.Okpo, &c.CheckingAccount, &c.CorrespondentAccount, &c.Bank, &c.Bik,
		&c.SignatoryName, &c.SignatoryJob, &c.AgreementNumber, &agreed, &c.CanUserEditCompanyData, &c.FinanceEmail,
		&c.DocDeliveryPeriod, &c.PartnerCompanyID, &created, &updated)
	c.AgreementDate, c.CreatedAt, c.UpdatedAt = agreed.Time, created.Time, updated.Time
	return c, err
}

// InsertResellerCompany implements reseller.Queries.
func (s *Store) InsertResellerCompany(ctx context.Context, c reseller.Company) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO reseller_companies (`+resellerCompanyCols+`) VALUES ($1, $2, $3, $4,
		$5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27,
		$28, $29, $30, $31, $32)`, c.ID, c.ProjectID, c.PartnerID, c.PartnerPath, c.State, c.CountryTwoLetterCode, c.INN,
		c.UNP, c.BIN, c.CompanyName, c.Kbe, c.LegalAddress, c.ActualAddress, c.KPP, c.AutoInvoiceAmount,
		c.TypeAutoInvoiceGeneration, c.Ogrn, c.Okpo, c.CheckingAccount, c.CorrespondentAccount, c.Bank, c.Bik,
		c.SignatoryName, c.SignatoryJob, c.AgreementNumber, c.AgreementDate, c.CanUserEditCompanyData, c.FinanceEmail,
		c.DocDeliveryPeriod, c.PartnerCompanyID, c.CreatedAt, c.UpdatedAt)
	return s.mapErr(err, "company")
}

// GetResellerCompany implements reseller.Queries.
func (s *Store) GetResellerCompany(ctx context.Context, scope string, projectID, id int64) (reseller.Company, error) {
	c, err := scanResellerCompany(s.r().QueryRowContext(ctx, `SELECT `+resellerCompanyCols+` FROM reseller_companies
		WHERE id = $1 AND project_id = $2 AND `+scoped("partner_path", "$3"), id, projectID, scope))
	return c, s.mapErr(err, "company")
}

// ListResellerCompanies implements reseller.Queries.
func (s *Store) ListResellerCompanies(ctx context.Context, scope string, projectID int64) ([]reseller.Company, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+resellerCompanyCols+` FROM reseller_companies
		WHERE project_id = $1 AND `+scoped("partner_path", "$2")+` ORDER BY id`, projectID, scope)
	if err != nil {
		return nil, s.mapErr(err, "company")
	}
	return collect(rows, scanResellerCompany)
}

// UpdateResellerCompany implements reseller.Queries.
func (s *Store) UpdateResellerCompany(ctx context.Context, c reseller.Company) error {
	res, err := s.w().ExecContext(ctx, `UPDATE reseller_companies SET state = $2, company_name = $3, kbe = $4,
		legal_address = $5, actual_address = $6, kpp = $7, auto_invoice_amount = $8, type_auto_invoice_generation = $9,
		ogrn = $10, okpo = $11, checking_account = $12, correspondent_account = $13, bank = $14, bik = $15,
		signatory_name = $16, signatory_job = $17, can_user_edit_company_data = $18, finance_email = $19,
		doc_delivery_period = $20, updated_at = $21 WHERE id = $1`, c.ID, c.State, c.CompanyName, c.Kbe, c.LegalAddress,
		c.ActualAddress, c.KPP, c.AutoInvoiceAmount, c.TypeAutoInvoiceGeneration, c.Ogrn, c.Okpo, c.CheckingAccount,
		c.CorrespondentAccount, c.Bank, c.Bik, c.SignatoryName, c.SignatoryJob, c.CanUserEditCompanyData, c.FinanceEmail,
		c.DocDeliveryPeriod, c.UpdatedAt)
	return s.affected(res, err, "company")
}

// DeactivateResellerCompanies implements reseller.Queries.
func (s *Store) DeactivateResellerCompanies(ctx context.Context, projectID int64, at time.Time) (int, error) {
	res, err := s.w().ExecContext(ctx, `UPDATE reseller_companies SET state = 'InActive', updated_at = $2
		WHERE project_id = $1 AND state = 'Active'`, projectID, at)
	if err != nil {
		return 0, s.mapErr(err, "company")
	}
	n, err := res.RowsAffected()
	return int(n), s.mapErr(err, "company")
}

// ---- invoices ----

const resellerInvoiceCols = `number, partner_id, partner_path, project_id, company_id, state, currency, amount,
	vat_rate, vat, net, paid_amount, paid_at, created_at`

func scanResellerInvoice(sc interface{ Scan(...any) error }) (reseller.Invoice, error) {
	var inv reseller.Invoice
	var n int64
	var created db.Time
	var paid db.NullTime
	err := sc.Scan(&n, &inv.PartnerID, &inv.PartnerPath, &inv.ProjectID, &inv.CompanyID, &inv.State, &inv.Currency,
		&inv.Amount, &inv.VATRate, &inv.VAT, &inv.Net, &inv.PaidAmount, &paid, &created)
	inv.Number, inv.PaidAt, inv.CreatedAt = strconv.FormatInt(n, 10), paid.Ptr(), created.Time
	return inv, err
}

// invoiceNo parses a stored invoice number; ok false for anything else.
func invoiceNo(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0 && strconv.FormatInt(n, 10) == s
}

// InsertResellerInvoice implements reseller.Queries.
func (s *Store) InsertResellerInvoice(ctx context.Context, inv reseller.Invoice) error {
	n, ok := invoiceNo(inv.Number)
	if !ok {
		return errs.Invalid("number", "must be a positive whole number")
	}
	_, err := s.w().ExecContext(ctx, `INSERT INTO reseller_invoices (`+resellerInvoiceCols+`) VALUES ($1, $2, $3, $4,
		$5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`, n, inv.PartnerID, inv.PartnerPath, inv.ProjectID, inv.CompanyID,
		inv.State, inv.Currency, inv.Amount, inv.VATRate, inv.VAT, inv.Net, inv.PaidAmount, db.TimePtr(inv.PaidAt),
		inv.CreatedAt)
	return s.mapErr(err, "invoice")
}

// GetResellerInvoice implements reseller.Queries.
func (s *Store) GetResellerInvoice(ctx context.Context, scope, partnerID, number string) (reseller.Invoice, error) {
	n, ok := invoiceNo(number)
	if !ok {
		return reseller.Invoice{}, errs.NotFound("invoice")
	}
	inv, err := scanResellerInvoice(s.r().QueryRowContext(ctx, `SELECT `+resellerInvoiceCols+` FROM reseller_invoices
		WHERE partner_id = $1 AND number = $2 AND `+scoped("partner_path", "$3"), partnerID, n, scope))
	return inv, s.mapErr(err, "invoice")
}

// ListResellerInvoices implements reseller.Queries.
func (s *Store) ListResellerInvoices(ctx context.Context, scope string, projectID, companyID int64) ([]reseller.Invoice, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+resellerInvoiceCols+` FROM reseller_invoices
		WHERE project_id = $1 AND company_id = $2 AND `+scoped("partner_path", "$3")+` ORDER BY number`,
		projectID, companyID, scope)
	if err != nil {
		return nil, s.mapErr(err, "invoice")
	}
	return collect(rows, scanResellerInvoice)
}

// PayResellerInvoice implements reseller.Queries. The caller holds the
// project's lock, which serialises the payments of the project's invoices.
func (s *Store) PayResellerInvoice(ctx context.Context, partnerID, number string, amount int64, at time.Time) (reseller.Invoice, bool, error) {
	inv, err := s.GetResellerInvoice(ctx, "/", partnerID, number)
	if err != nil {
		return inv, false, err
	}
	inv.PaidAmount += amount
	paid := inv.State == reseller.InvoiceNew && inv.PaidAmount >= inv.Amount
	if paid {
		inv.State, inv.PaidAt = reseller.InvoicePaid, &at
	}
	n, _ := invoiceNo(number)
	res, err := s.w().ExecContext(ctx, `UPDATE reseller_invoices SET paid_amount = $3, state = $4, paid_at = $5
		WHERE partner_id = $1 AND number = $2`, partnerID, n, inv.PaidAmount, inv.State, db.TimePtr(inv.PaidAt))
	if err := s.affected(res, err, "invoice"); err != nil {
		return reseller.Invoice{}, false, err
	}
	return inv, paid, nil
}

// ---- payments ----

const resellerPaymentCols = `id, partner_id, partner_path, kind, number, tin, invoice_number, company_id, project_id,
	currency, amount, request_hash, invoice_paid, created_at, ledger_tx_id`

func scanResellerPayment(sc interface{ Scan(...any) error }) (reseller.Payment, error) {
	var p reseller.Payment
	var created db.Time
	err := sc.Scan(&p.ID, &p.PartnerID, &p.PartnerPath, &p.Kind, &p.Number, &p.TIN, &p.InvoiceNumber, &p.CompanyID,
		&p.ProjectID, &p.Currency, &p.Amount, &p.RequestHash, &p.InvoicePaid, &created, &p.LedgerTxID)
	p.CreatedAt = created.Time
	return p, err
}

// InsertResellerPayment implements reseller.Queries.
func (s *Store) InsertResellerPayment(ctx context.Context, p reseller.Payment) (bool, error) {
	res, err := s.w().ExecContext(ctx, `INSERT INTO reseller_payments (`+resellerPaymentCols+`) VALUES ($1, $2, $3, $4,
		$5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (partner_id, kind, number) DO NOTHING`,
		p.ID, p.PartnerID, p.PartnerPath, p.Kind, p.Number, p.TIN, p.InvoiceNumber, p.CompanyID, p.ProjectID, p.Currency,
		p.Amount, p.RequestHash, p.InvoicePaid, p.CreatedAt, p.LedgerTxID)
	return s.changed(res, err, "payment")
}

// GetResellerPayment implements reseller.Queries.
func (s *Store) GetResellerPayment(ctx context.Context, partnerID, kind, number string) (reseller.Payment, error) {
	p, err := scanResellerPayment(s.r().QueryRowContext(ctx, `SELECT `+resellerPaymentCols+` FROM reseller_payments
		WHERE partner_id = $1 AND kind = $2 AND number = $3`, partnerID, kind, number))
	return p, s.mapErr(err, "payment")
}

// ListResellerPayments implements reseller.Queries.
func (s *Store) ListResellerPayments(ctx context.Context, scope string) ([]reseller.Payment, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+resellerPaymentCols+` FROM reseller_payments
		WHERE `+scoped("partner_path", "$1")+` ORDER BY created_at DESC, id DESC`, scope)
	if err != nil {
		return nil, s.mapErr(err, "payment")
	}
	return collect(rows, scanResellerPayment)
}

// ---- operations ----

const resellerOperationCols = `id, partner_id, partner_path, project_id, type, currency, money, bonus, description,
	reference, op_key, created_at, ledger_tx_id`

func scanResellerOperation(sc interface{ Scan(...any) error }) (reseller.Operation, error) {
	var op reseller.Operation
	var key sql.NullString
	var created db.Time
	err := sc.Scan(&op.ID, &op.PartnerID, &op.PartnerPath, &op.ProjectID, &op.Type, &op.Currency, &op.Money, &op.Bonus,
		&op.Description, &op.Reference, &key, &created, &op.LedgerTxID)
	op.Key, op.CreatedAt = key.String, created.Time
	return op, err
}

// InsertResellerOperation implements reseller.Queries.
func (s *Store) InsertResellerOperation(ctx context.Context, op reseller.Operation) error {
	var key any
	if op.Key != "" {
		key = op.Key
	}
	_, err := s.w().ExecContext(ctx, `INSERT INTO reseller_operations (`+resellerOperationCols+`) VALUES ($1, $2, $3,
		$4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`, op.ID, op.PartnerID, op.PartnerPath, op.ProjectID, op.Type,
		op.Currency, op.Money, op.Bonus, op.Description, op.Reference, key, op.CreatedAt, op.LedgerTxID)
	return s.mapErr(err, "operation")
}

// GetResellerOperationByKey implements reseller.Queries.
func (s *Store) GetResellerOperationByKey(ctx context.Context, key string) (reseller.Operation, error) {
	if key == "" {
		return reseller.Operation{}, errs.NotFound("operation")
	}
	op, err := scanResellerOperation(s.r().QueryRowContext(ctx, `SELECT `+resellerOperationCols+`
		FROM reseller_operations WHERE op_key = $1`, key))
	return op, s.mapErr(err, "operation")
}

// ListResellerOperations implements reseller.Queries.
func (s *Store) ListResellerOperations(ctx context.Context, scope string, projectID int64, from, to time.Time) ([]reseller.Operation, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+resellerOperationCols+` FROM reseller_operations
		WHERE `+scoped("partner_path", "$1")+` AND (CAST($2 AS BIGINT) = 0 OR project_id = CAST($2 AS BIGINT))
		AND created_at >= $3 AND created_at < $4 ORDER BY created_at, id`, scope, projectID, from, to)
	if err != nil {
		return nil, s.mapErr(err, "operation")
	}
	return collect(rows, scanResellerOperation)
}
