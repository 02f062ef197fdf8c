-- +goose Up
-- Reseller catalogs and service orders (internal/orders, ITGLOBAL IT-23..28,
-- IT-37..44, IT-46..50). A catalog is one JSON document per kind, shared by
-- every partner, seeded from the embedded default on first read.
CREATE TABLE reseller_catalogs (
    kind       TEXT PRIMARY KEY,
    body       TEXT NOT NULL,                    -- JSON, the API's shape
    updated_at TEXT NOT NULL
);

-- An order of a partner's project (project = billing account). Deleting
-- is a soft delete (state 'Deleted', deleted_at set).
CREATE TABLE reseller_orders (
    id              BIGINT PRIMARY KEY,          -- counter 'reseller_order'; VOrg/VDC ids
    partner_id      TEXT NOT NULL REFERENCES orgs (id),
    partner_path    TEXT NOT NULL,
    project_id      BIGINT NOT NULL REFERENCES billing_accounts (id),
    kind            TEXT NOT NULL CHECK (kind IN ('vmware_server', 'vstack_server', 'k8s_cluster', '1c', 'vorg', 'vdc')),
    name            TEXT NOT NULL,
    location        TEXT NOT NULL DEFAULT '',
    spec            TEXT NOT NULL,               -- JSON object, the normalised request without secrets
    parent_id       BIGINT NOT NULL DEFAULT 0,   -- a VDC's VOrg
    state           TEXT NOT NULL CHECK (state IN ('Creating', 'Active', 'Blocked', 'Error', 'Deleted')),
    currency        TEXT NOT NULL,
    monthly_price   TEXT NOT NULL,               -- exact decimal per month
    daily_price     BIGINT NOT NULL CHECK (daily_price >= 0), -- minor units: monthly / 30 half-up
    next_charge_at  TEXT NOT NULL,
    project_blocked INTEGER NOT NULL DEFAULT FALSE,
    provider_ref    TEXT NOT NULL DEFAULT '',
    secret_hash     TEXT NOT NULL DEFAULT '',    -- argon2id of a VOrg admin password
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    deleted_at      TEXT,
    CHECK ((deleted_at IS NULL) = (state <> 'Deleted'))
);
CREATE INDEX reseller_orders_scope ON reseller_orders (partner_path, id);
CREATE INDEX reseller_orders_project ON reseller_orders (project_id, state);
CREATE INDEX reseller_orders_due ON reseller_orders (next_charge_at) WHERE state = 'Active';

-- +goose Down
DROP TABLE reseller_orders;
DROP TABLE reseller_catalogs;
