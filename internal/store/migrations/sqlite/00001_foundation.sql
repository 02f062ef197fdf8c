-- +goose Up
CREATE TABLE orgs (
    id                 TEXT PRIMARY KEY,
    kind               TEXT NOT NULL CHECK (kind IN ('provider', 'distributor', 'partner', 'customer')),
    parent_id          TEXT REFERENCES orgs (id),
    path               TEXT NOT NULL UNIQUE,
    name               TEXT NOT NULL,
    details            TEXT NOT NULL DEFAULT '',
    time_zone          TEXT NOT NULL DEFAULT 'UTC',
    -- a partner's allocation under its distributor's contract
    contract_id        TEXT,
    allocated_capacity INTEGER NOT NULL DEFAULT 0 CHECK (allocated_capacity >= 0),
    allow_overdraft    INTEGER NOT NULL DEFAULT FALSE,
    -- live sum of the allocations of this org's strict storage accounts
    accounts_allocated INTEGER NOT NULL DEFAULT 0 CHECK (accounts_allocated >= 0),
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX orgs_parent ON orgs (parent_id);
CREATE INDEX orgs_contract ON orgs (contract_id);

CREATE TABLE contracts (
    id                    TEXT PRIMARY KEY,
    parent_org_id         TEXT NOT NULL REFERENCES orgs (id),
    org_id                TEXT NOT NULL REFERENCES orgs (id),
    org_path              TEXT NOT NULL,
    reserved_capacity     INTEGER NOT NULL CHECK (reserved_capacity >= 0),
    allocated_capacity    INTEGER NOT NULL DEFAULT 0 CHECK (allocated_capacity >= 0),
    cost_storage_gb_cents INTEGER NOT NULL DEFAULT 0 CHECK (cost_storage_gb_cents >= 0),
    cost_egress_gb_cents  INTEGER NOT NULL DEFAULT 0 CHECK (cost_egress_gb_cents >= 0),
    currency              TEXT NOT NULL,
    details               TEXT NOT NULL,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL,
    CHECK (allocated_capacity <= reserved_capacity)
);
CREATE INDEX contracts_org ON contracts (org_id);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs (id),
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'viewer')),
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX users_org ON users (org_id);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs (id),
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'viewer')),
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    revoked_at   TEXT,
    last_used_at TEXT
);
CREATE INDEX api_keys_org ON api_keys (org_id);

CREATE TABLE storage_accounts (
    id                 TEXT PRIMARY KEY,
    partner_id         TEXT NOT NULL REFERENCES orgs (id),
    org_path           TEXT NOT NULL,
    name               TEXT NOT NULL,
    contact_email      TEXT NOT NULL UNIQUE,
    password_hash      TEXT NOT NULL,
    allocated_capacity INTEGER NOT NULL CHECK (allocated_capacity >= 0),
    allow_overdraft    INTEGER NOT NULL,
    pending_deleted_at TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX storage_accounts_partner ON storage_accounts (partner_id);
CREATE INDEX storage_accounts_pending ON storage_accounts (pending_deleted_at);

CREATE TABLE daily_usage (
    storage_account_id TEXT NOT NULL REFERENCES storage_accounts (id) ON DELETE CASCADE,
    day                TEXT NOT NULL,
    usage_bytes        INTEGER NOT NULL CHECK (usage_bytes >= 0),
    allocated_capacity INTEGER NOT NULL CHECK (allocated_capacity >= 0),
    recorded_at        TEXT NOT NULL,
    PRIMARY KEY (storage_account_id, day)
);

CREATE TABLE regions (
    name       TEXT PRIMARY KEY,
    s3_url     TEXT NOT NULL,
    iam_url    TEXT NOT NULL,
    sts_url    TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE audit_log (
    id             TEXT PRIMARY KEY,
    at             TEXT NOT NULL,
    request_id     TEXT NOT NULL,
    principal_type TEXT NOT NULL,
    principal_id   TEXT NOT NULL,
    org_id         TEXT NOT NULL,
    org_path       TEXT NOT NULL,
    action         TEXT NOT NULL,
    object_type    TEXT NOT NULL,
    object_id      TEXT NOT NULL,
    detail         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_path ON audit_log (org_path, id);

CREATE TABLE idempotency_keys (
    principal_id  TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status        INTEGER NOT NULL DEFAULT 0,
    content_type  TEXT NOT NULL DEFAULT '',
    body          TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    PRIMARY KEY (principal_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE audit_log;
DROP TABLE regions;
DROP TABLE daily_usage;
DROP TABLE storage_accounts;
DROP TABLE api_keys;
DROP TABLE users;
DROP TABLE contracts;
DROP TABLE orgs;
