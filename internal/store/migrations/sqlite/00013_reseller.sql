-- +goose Up
-- The reseller channel core (internal/reseller, ITGLOBAL Partner API v2).
-- Every row carries its partner (an org of kind partner) and that org's
-- path, which is its tenant scope.

-- A partner's reseller settings (features, currency of new projects); the
-- time zone is the partner org's own.
CREATE TABLE reseller_settings (
    partner_id TEXT PRIMARY KEY REFERENCES orgs (id),
    features   TEXT NOT NULL DEFAULT '[]',                    -- JSON array of feature names, sorted
    currency   TEXT NOT NULL DEFAULT 'RUB' CHECK (currency IN ('RUB', 'KZT', 'BYN')),
    updated_at TEXT NOT NULL
);

-- Partner API keys with the vendor roles User and Finance; only the
-- SHA-256 of a key is stored.
CREATE TABLE reseller_keys (
    id           TEXT PRIMARY KEY,
    partner_id   TEXT NOT NULL REFERENCES orgs (id),
    partner_path TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('User', 'Finance')),
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    revoked_at   TEXT,
    last_used_at TEXT
);
CREATE INDEX reseller_keys_partner ON reseller_keys (partner_id, created_at);

-- A partner's customer accounts; deleted ones stay with deleted_at.
CREATE TABLE reseller_accounts (
    id                   TEXT PRIMARY KEY,
    partner_id           TEXT NOT NULL REFERENCES orgs (id),
    partner_path         TEXT NOT NULL,
    email                TEXT NOT NULL,
    state                TEXT NOT NULL CHECK (state IN ('NotActivated', 'Active')),
    additional_data      TEXT NOT NULL DEFAULT '{}',
    internal_role        INTEGER NOT NULL DEFAULT FALSE,
    simpleone            INTEGER NOT NULL DEFAULT FALSE,
    simpleone_user_id    TEXT NOT NULL DEFAULT '',
    simpleone_company_id TEXT NOT NULL DEFAULT '',
    personal_project_id  BIGINT NOT NULL,
    activation_token     TEXT NOT NULL DEFAULT '',
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    activated_at         TEXT,
    deleted_at           TEXT
);
CREATE INDEX reseller_accounts_scope ON reseller_accounts (partner_path, created_at);
-- One live account per SimpleOne user and partner.
CREATE UNIQUE INDEX reseller_accounts_simpleone_user ON reseller_accounts (partner_id, simpleone_user_id)
    WHERE simpleone_user_id <> '' AND deleted_at IS NULL;

-- A project is a billing account (same id) with a money ledger account
-- (kind balance, no floor) and a bonus one (kind credit, floor 0).
CREATE TABLE reseller_projects (
    id                   INTEGER PRIMARY KEY REFERENCES billing_accounts (id),
    partner_id           TEXT NOT NULL REFERENCES orgs (id),
    partner_path         TEXT NOT NULL,
    name                 TEXT NOT NULL,
    owner_account_id     TEXT NOT NULL REFERENCES reseller_accounts (id),
    currency             TEXT NOT NULL,
    is_post_paid         INTEGER NOT NULL DEFAULT FALSE,
    max_debt             BIGINT NOT NULL DEFAULT 0 CHECK (max_debt >= 0),
    blocked_at           TEXT,
    simpleone_company_id TEXT NOT NULL DEFAULT '',
    money_account_id     TEXT NOT NULL REFERENCES ledger_accounts (id),
    bonus_account_id     TEXT NOT NULL REFERENCES ledger_accounts (id),
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    deleted_at           TEXT
);
CREATE INDEX reseller_projects_scope ON reseller_projects (partner_path, id);

-- The accounts a project is shared with (its owner included).
CREATE TABLE reseller_project_members (
    project_id BIGINT NOT NULL REFERENCES reseller_projects (id),
    account_id TEXT NOT NULL REFERENCES reseller_accounts (id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (project_id, account_id)
);
CREATE INDEX reseller_project_members_account ON reseller_project_members (account_id);

-- A project's legal entities; at most one Active per project.
CREATE TABLE reseller_companies (
    id                           INTEGER PRIMARY KEY,          -- counter 'reseller_company'
    project_id                   BIGINT NOT NULL REFERENCES reseller_projects (id),
    partner_id                   TEXT NOT NULL REFERENCES orgs (id),
    partner_path                 TEXT NOT NULL,
    state                        TEXT NOT NULL CHECK (state IN ('Active', 'InActive')),
    country                      TEXT NOT NULL CHECK (country IN ('RU', 'KZ', 'BY')),
    inn                          TEXT NOT NULL DEFAULT '',
    unp                          TEXT NOT NULL DEFAULT '',
    bin                          TEXT NOT NULL DEFAULT '',
    company_name                 TEXT NOT NULL DEFAULT '',
    kbe                          TEXT NOT NULL DEFAULT '',
    legal_address                TEXT NOT NULL,
    actual_address               TEXT NOT NULL,
    kpp                          TEXT NOT NULL DEFAULT '',
    auto_invoice_amount          BIGINT NOT NULL CHECK (auto_invoice_amount >= 0),
    type_auto_invoice_generation TEXT NOT NULL,
    ogrn                         TEXT NOT NULL DEFAULT '',
    okpo                         TEXT NOT NULL DEFAULT '',
    checking_account             TEXT NOT NULL DEFAULT '',
    correspondent_account        TEXT NOT NULL DEFAULT '',
    bank                         TEXT NOT NULL DEFAULT '',
    bik                          TEXT NOT NULL DEFAULT '',
    signatory_name               TEXT NOT NULL DEFAULT '',
    signatory_job                TEXT NOT NULL DEFAULT '',
    agreement_number             TEXT NOT NULL,
    agreement_date               TEXT NOT NULL,
    can_user_edit_company_data   INTEGER NOT NULL DEFAULT FALSE,
    finance_email                TEXT NOT NULL,
    doc_delivery_period          TEXT NOT NULL DEFAULT '',     -- '' = none
    partner_company_id           BIGINT NOT NULL,
    created_at                   TEXT NOT NULL,
    updated_at                   TEXT NOT NULL
);
CREATE UNIQUE INDEX reseller_companies_one_active ON reseller_companies (project_id) WHERE state = 'Active';

-- Invoices, numbered per partner without gaps (counter
-- 'reseller_invoice:<partner id>' taken in the inserting transaction).
CREATE TABLE reseller_invoices (
    partner_id   TEXT NOT NULL REFERENCES orgs (id),
    number       BIGINT NOT NULL CHECK (number > 0),
    partner_path TEXT NOT NULL,
    project_id   BIGINT NOT NULL REFERENCES reseller_projects (id),
    company_id   BIGINT NOT NULL REFERENCES reseller_companies (id),
    state        TEXT NOT NULL CHECK (state IN ('New', 'Paid', 'Cancelled')),
    currency     TEXT NOT NULL,
    amount       BIGINT NOT NULL CHECK (amount > 0),
    vat_rate     BIGINT NOT NULL,
    vat          BIGINT NOT NULL,
    net          BIGINT NOT NULL,
    paid_amount  BIGINT NOT NULL DEFAULT 0,
    paid_at      TEXT,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (partner_id, number),
    CHECK (vat + net = amount)
);
CREATE INDEX reseller_invoices_company ON reseller_invoices (project_id, company_id, number);

-- Received payments; (partner, kind, number) is unique, which makes
-- replays safe.
CREATE TABLE reseller_payments (
    id             INTEGER PRIMARY KEY,                         -- counter 'reseller_payment'
    partner_id     TEXT NOT NULL REFERENCES orgs (id),
    partner_path   TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('Bank', 'Online')),
    number         TEXT NOT NULL,
    tin            TEXT NOT NULL DEFAULT '',
    invoice_number TEXT NOT NULL DEFAULT '',
    company_id     BIGINT NOT NULL DEFAULT 0,
    project_id     BIGINT NOT NULL REFERENCES reseller_projects (id),
    currency       TEXT NOT NULL,
    amount         BIGINT NOT NULL CHECK (amount > 0),
    request_hash   TEXT NOT NULL,
    invoice_paid   INTEGER NOT NULL DEFAULT FALSE,
    created_at     TEXT NOT NULL,
    ledger_tx_id   TEXT NOT NULL,
    UNIQUE (partner_id, kind, number)
);
CREATE INDEX reseller_payments_scope ON reseller_payments (partner_path, created_at);

-- Every change of a project's money or bonus, with its ledger transaction.
CREATE TABLE reseller_operations (
    id           INTEGER PRIMARY KEY,                           -- counter 'reseller_operation'
    partner_id   TEXT NOT NULL REFERENCES orgs (id),
    partner_path TEXT NOT NULL,
    project_id   BIGINT NOT NULL REFERENCES reseller_projects (id),
    type         TEXT NOT NULL,
    currency     TEXT NOT NULL,
    money        BIGINT NOT NULL,
    bonus        BIGINT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    reference    TEXT NOT NULL DEFAULT '',
    op_key       TEXT,                                         -- NULL: not keyed
    created_at   TEXT NOT NULL,
    ledger_tx_id TEXT NOT NULL REFERENCES ledger_transactions (id),
    UNIQUE (op_key)
);
CREATE INDEX reseller_operations_scope ON reseller_operations (partner_path, created_at, id);
CREATE INDEX reseller_operations_project ON reseller_operations (project_id, created_at, id);

-- A billing account another part of Trellis owns (a reseller project:
-- "reseller") is refused by billing's own writes (idcloudhost and native
-- billing routes), so its state only changes through its owner.
ALTER TABLE billing_accounts ADD COLUMN managed_by TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE billing_accounts DROP COLUMN managed_by;
DROP TABLE reseller_operations;
DROP TABLE reseller_payments;
DROP TABLE reseller_invoices;
DROP TABLE reseller_companies;
DROP TABLE reseller_project_members;
DROP TABLE reseller_projects;
DROP TABLE reseller_accounts;
DROP TABLE reseller_keys;
DROP TABLE reseller_settings;
