-- +goose Up
-- The Infiterra BSS service manager (internal/bss): installations of a BSS
-- that registered Trellis, and the BSS's accounts, subscriptions and add-ons
-- mapped onto partners and storage accounts. Every row carries the
-- installation (app_id); the unique keys make BSS retries converge.

-- A BSS installation: only the SHA-256 of its API key is stored.
CREATE TABLE bss_installations (
    app_id           TEXT PRIMARY KEY,                 -- GUID, lower case
    distributor_id   TEXT NOT NULL REFERENCES orgs (id),
    distributor_path TEXT NOT NULL,
    contract_id      TEXT NOT NULL REFERENCES contracts (id),
    name             TEXT NOT NULL,
    key_hash         TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    revoked_at       TEXT
);
CREATE INDEX bss_installations_scope ON bss_installations (distributor_path, created_at);

-- A BSS account: a reseller or direct account is a partner (its own org);
-- an end customer points at its reseller's partner.
CREATE TABLE bss_accounts (
    app_id       TEXT NOT NULL REFERENCES bss_installations (app_id),
    bss_id       TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('partner', 'customer')),
    -- the partner org is inserted after the account claimed its key, in the
    -- same transaction
    partner_id   TEXT NOT NULL REFERENCES orgs (id) DEFERRABLE INITIALLY DEFERRED,
    partner_path TEXT NOT NULL,
    reseller_id  TEXT NOT NULL DEFAULT '',             -- the reseller's external id (customers)
    name         TEXT NOT NULL,
    email        TEXT NOT NULL DEFAULT '',             -- lower case
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    deleted_at   TEXT,
    PRIMARY KEY (app_id, bss_id),
    UNIQUE (app_id, external_id)
);
CREATE INDEX bss_accounts_email ON bss_accounts (app_id, email);

-- A BSS subscription: one storage account under the account's partner.
-- dedupe_key is "sid:<SubscriptionID>" or, without one, a fallback key.
CREATE TABLE bss_subscriptions (
    app_id              TEXT NOT NULL REFERENCES bss_installations (app_id),
    external_id         TEXT NOT NULL,
    dedupe_key          TEXT NOT NULL,
    bss_subscription_id TEXT NOT NULL DEFAULT '',
    account_id          TEXT NOT NULL,                 -- the account's external id
    partner_id          TEXT NOT NULL REFERENCES orgs (id),
    partner_path        TEXT NOT NULL,
    -- set after the claim, in the same transaction
    storage_account_id  TEXT NOT NULL DEFAULT '',
    product             TEXT NOT NULL,
    name                TEXT NOT NULL DEFAULT '',
    quantity            INTEGER NOT NULL CHECK (quantity >= 1),
    state               TEXT NOT NULL CHECK (state IN ('Active', 'Suspended', 'Cancelled')),
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    PRIMARY KEY (app_id, external_id),
    UNIQUE (app_id, dedupe_key),
    FOREIGN KEY (app_id, account_id) REFERENCES bss_accounts (app_id, external_id)
);
CREATE INDEX bss_subscriptions_account ON bss_subscriptions (app_id, account_id, state);
CREATE INDEX bss_subscriptions_partner ON bss_subscriptions (partner_id, state);

-- An add-on of a subscription: extra capacity on top of its quantity.
CREATE TABLE bss_addons (
    app_id          TEXT NOT NULL,
    external_id     TEXT NOT NULL,
    subscription_id TEXT NOT NULL,                     -- the subscription's external id
    product         TEXT NOT NULL,
    quantity        INTEGER NOT NULL CHECK (quantity >= 1),
    state           TEXT NOT NULL CHECK (state IN ('Active', 'Cancelled')),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (app_id, external_id),
    FOREIGN KEY (app_id, subscription_id) REFERENCES bss_subscriptions (app_id, external_id)
);
-- one live add-on per (subscription, product): a retried addons/create finds it
CREATE UNIQUE INDEX bss_addons_live ON bss_addons (app_id, subscription_id, product) WHERE state <> 'Cancelled';

-- +goose Down
DROP TABLE bss_addons;
DROP TABLE bss_subscriptions;
DROP TABLE bss_accounts;
DROP TABLE bss_installations;
