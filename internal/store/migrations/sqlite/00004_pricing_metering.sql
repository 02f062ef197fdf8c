-- +goose Up
-- Price policy versions (internal/pricing). A version is immutable: its
-- items (a JSON array; prices as exact decimal strings) apply to usage whose
-- hour starts at or after effective_from and before the next version's.
CREATE TABLE price_versions (
    id             TEXT PRIMARY KEY,
    effective_from TEXT NOT NULL UNIQUE,
    items          TEXT NOT NULL,          -- JSON array of policy items
    created_at     TEXT NOT NULL,
    created_by     TEXT NOT NULL DEFAULT ''
);

-- Managed-service price multipliers: one row per service, the whole list as
-- a JSON array of {resourceType, serviceNameInUptime, priceMultiplier (decimal string)}.
CREATE TABLE price_services (
    service     TEXT PRIMARY KEY,
    multipliers TEXT NOT NULL DEFAULT '[]',
    updated_at  TEXT NOT NULL
);

-- Hourly usage records (internal/metering). Key: one record per resource,
-- meter and whole UTC hour. quantity_e6 is the quantity in millionths
-- (hours, or GB-hours for object storage), an integer so that SUM is exact
-- on both databases; unit_price is an exact decimal string in canonical form
-- (it groups invoice lines), rated with the version effective at period_start.
CREATE TABLE usage_hourly (
    resource_id        TEXT NOT NULL,
    meter              TEXT NOT NULL CHECK (meter IN ('vm', 'disk', 'snapshot', 'backup', 'object_storage')),
    period_start       TEXT NOT NULL,
    billing_account_id INTEGER NOT NULL CHECK (billing_account_id > 0),
    location_slug      TEXT NOT NULL DEFAULT '',
    owner_uuid         TEXT NOT NULL DEFAULT '',
    user_id            INTEGER NOT NULL DEFAULT 0,
    config             TEXT NOT NULL DEFAULT '{}',  -- canonical JSON of the configuration
    quantity_e6        INTEGER NOT NULL CHECK (quantity_e6 >= 0),
    unit_price         TEXT NOT NULL,
    description        TEXT NOT NULL,
    uptime_types       TEXT NOT NULL DEFAULT '[]',  -- JSON array of strings
    recorded_at        TEXT NOT NULL,
    PRIMARY KEY (resource_id, meter, period_start)
);
-- Lines: one account's records in a range.
CREATE INDEX usage_hourly_account_period ON usage_hourly (billing_account_id, period_start);
-- AccountsWithUsage: the accounts with records in a range (index only).
CREATE INDEX usage_hourly_period_account ON usage_hourly (period_start, billing_account_id);

-- +goose Down
DROP TABLE usage_hourly;
DROP TABLE price_services;
DROP TABLE price_versions;
