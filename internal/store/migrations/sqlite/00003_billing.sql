-- +goose Up
-- Billing (internal/billing): idcloudhost-style billing accounts with small
-- integer ids, monthly usage invoices and top-up invoices with their lines,
-- the credit history, and an outbox of e-mails. Money that the ledger holds
-- is int64 cents; prices, quantities and line amounts are exact decimals
-- stored as decimal strings (never floats).

-- counters hands out the small integer ids of idcloudhost objects. A number
-- is taken by UPDATE … RETURNING inside the creating transaction, so it rolls
-- back with it: numbers never repeat or skip (invoice numbers must not).
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL CHECK (value >= 0)
);
INSERT INTO counters (name, value) VALUES ('user', 0), ('profile', 0), ('token', 0), ('billing_account', 0),
    ('invoice', 0), ('invoice_record', 0), ('payment_object', 0), ('charge', 0), ('credit_record', 0);

CREATE TABLE billing_accounts (
    id                           INTEGER PRIMARY KEY,          -- counter 'billing_account'
    org_id                       TEXT NOT NULL REFERENCES orgs (id),
    org_path                     TEXT NOT NULL,               -- the org's path: tenant scope
    user_id                      INTEGER NOT NULL DEFAULT 0,   -- idcloudhost user number; 0 = none
    currency                     TEXT NOT NULL DEFAULT 'EUR' CHECK (length(currency) = 3 AND upper(currency) = currency),
    title                        TEXT NOT NULL DEFAULT '',
    email                        TEXT NOT NULL DEFAULT '',
    company_name                 TEXT NOT NULL DEFAULT '',
    company_reg_code             TEXT NOT NULL DEFAULT '',
    company_vat_number           TEXT NOT NULL DEFAULT '',
    address_line1                TEXT NOT NULL DEFAULT '',
    city                         TEXT NOT NULL DEFAULT '',
    county                       TEXT NOT NULL DEFAULT '',
    country                      TEXT NOT NULL DEFAULT '',
    post_index                   TEXT NOT NULL DEFAULT '',
    send_invoice_email           INTEGER NOT NULL DEFAULT FALSE,
    vat_percentage               INTEGER NOT NULL DEFAULT 0 CHECK (vat_percentage BETWEEN 0 AND 100),
    discount_percentage          INTEGER NOT NULL DEFAULT 0 CHECK (discount_percentage BETWEEN 0 AND 100),
    allow_debt                   INTEGER NOT NULL DEFAULT FALSE,
    max_debt                     INTEGER NOT NULL DEFAULT 0 CHECK (max_debt >= 0), -- cents
    is_default                   INTEGER NOT NULL DEFAULT FALSE,
    is_active                    INTEGER NOT NULL DEFAULT TRUE,
    deleted_at                   TEXT,                 -- soft delete: a "shadow" account
    paying_by_invoice            INTEGER NOT NULL DEFAULT FALSE,
    is_recurring_payment_enabled INTEGER NOT NULL DEFAULT FALSE,
    recurring_payment_amount     TEXT NOT NULL DEFAULT '0',   -- decimal string
    recurring_payment_threshold  TEXT NOT NULL DEFAULT '0',   -- decimal string
    restriction_level            TEXT NOT NULL DEFAULT '',    -- '' or 'FROZEN'
    suspend_reason               TEXT NOT NULL DEFAULT '',
    additional_data              TEXT NOT NULL DEFAULT '{}',  -- JSON object
    referral_share_code          TEXT NOT NULL DEFAULT '',
    reseller                     TEXT NOT NULL DEFAULT '',
    site                         TEXT NOT NULL DEFAULT '',
    created_at                   TEXT NOT NULL,
    updated_at                   TEXT NOT NULL
);
-- At most one live default account per user (per org for accounts without a user).
CREATE UNIQUE INDEX billing_accounts_one_default ON billing_accounts (org_id, user_id)
    WHERE is_default AND deleted_at IS NULL;
CREATE INDEX billing_accounts_org ON billing_accounts (org_id, user_id);

CREATE TABLE invoices (
    id                  INTEGER PRIMARY KEY,                   -- counter 'invoice': gapless
    billing_account_id  INTEGER NOT NULL REFERENCES billing_accounts (id),
    kind                TEXT NOT NULL CHECK (kind IN ('usage', 'topup')),
    status              INTEGER NOT NULL CHECK (status IN (5, 10)), -- 5 unpaid, 10 paid
    name                TEXT NOT NULL DEFAULT '',
    currency            TEXT NOT NULL,
    period_start        TEXT NOT NULL,                 -- usage: 1st of the month 00:00 UTC; top-up: created
    period_end          TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    due_at              TEXT NOT NULL,
    discount_percentage INTEGER NOT NULL CHECK (discount_percentage BETWEEN 0 AND 100),
    vat_percentage      INTEGER NOT NULL CHECK (vat_percentage BETWEEN 0 AND 100),
    subtotal            INTEGER NOT NULL CHECK (subtotal >= 0),     -- cents
    discount_amount     INTEGER NOT NULL CHECK (discount_amount >= 0),
    credit              INTEGER NOT NULL CHECK (credit <= 0),       -- credit applied, ≤ 0 as the samples show it
    vat_tax             INTEGER NOT NULL CHECK (vat_tax >= 0),
    total               INTEGER NOT NULL CHECK (total >= 0),
    paid_amount         INTEGER NOT NULL DEFAULT 0 CHECK (paid_amount >= 0),
    pending_amount      INTEGER NOT NULL DEFAULT 0 CHECK (pending_amount >= 0),
    paid_at             TEXT,
    account_snapshot    TEXT NOT NULL DEFAULT '{}',           -- JSON of the account at issue
    ledger_transaction_id TEXT NOT NULL DEFAULT '',           -- the issue posting ('' when nothing was posted)
    CHECK (paid_amount + pending_amount <= total),
    CHECK (subtotal - discount_amount + credit + vat_tax = total),
    CHECK (status = 5 OR paid_amount = total)
);
-- One usage invoice per account and month, whatever runs the invoice job.
CREATE UNIQUE INDEX invoices_one_per_month ON invoices (billing_account_id, period_start) WHERE kind = 'usage';
CREATE INDEX invoices_account ON invoices (billing_account_id, id);
CREATE INDEX invoices_unpaid ON invoices (status, due_at);

CREATE TABLE invoice_records (
    id            INTEGER PRIMARY KEY,                         -- counter 'invoice_record'
    invoice_id    INTEGER NOT NULL REFERENCES invoices (id),
    name          TEXT NOT NULL,
    descr         TEXT NOT NULL DEFAULT '',
    location_slug TEXT NOT NULL DEFAULT '',
    owner_uuid    TEXT NOT NULL DEFAULT '',
    qty           TEXT NOT NULL,                              -- decimal string (hours)
    qty_unit      TEXT NOT NULL DEFAULT 'h',
    item_price    TEXT NOT NULL,                              -- decimal string per unit
    amount        TEXT NOT NULL,                              -- decimal string = item_price × qty exactly
    created_at    TEXT NOT NULL
);
CREATE INDEX invoice_records_invoice ON invoice_records (invoice_id, id);

CREATE TABLE credit_records (
    id                    INTEGER PRIMARY KEY,                 -- counter 'credit_record'
    billing_account_id    INTEGER NOT NULL REFERENCES billing_accounts (id),
    amount                INTEGER NOT NULL CHECK (amount <> 0), -- signed cents: + added, − used
    description           TEXT NOT NULL,
    created_at            TEXT NOT NULL,
    ledger_transaction_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX credit_records_account ON credit_records (billing_account_id, id);

CREATE TABLE outbox_emails (
    id         TEXT PRIMARY KEY,
    to_address TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at    TEXT
);
CREATE INDEX outbox_emails_unsent ON outbox_emails (created_at) WHERE sent_at IS NULL;

-- +goose Down
DROP TABLE outbox_emails;
DROP TABLE credit_records;
DROP TABLE invoice_records;
DROP TABLE invoices;
DROP TABLE billing_accounts;
DROP TABLE counters;
