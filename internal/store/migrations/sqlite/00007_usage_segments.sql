-- +goose Up
-- Resources (VMs, disks, replicas, floating IPs, load balancers, service
-- packages) are billed through usage segments: from started_at until
-- ended_at (NULL: still open) the resource is billed as (meter, account,
-- config). Every change that affects billing closes the resource's open
-- segments and opens the new ones in the change's transaction; the hourly
-- sweep (internal/metering) turns the segments of each closed hour into
-- usage_hourly records.
CREATE TABLE usage_segments (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    resource_id        TEXT NOT NULL,
    meter              TEXT NOT NULL,
    billing_account_id INTEGER NOT NULL CHECK (billing_account_id > 0),
    location_slug      TEXT NOT NULL DEFAULT '',
    owner_uuid         TEXT NOT NULL DEFAULT '',
    user_id            INTEGER NOT NULL DEFAULT 0,
    config             TEXT NOT NULL DEFAULT '{}',
    started_at         TEXT NOT NULL,
    ended_at           TEXT,
    CHECK (ended_at IS NULL OR ended_at >= started_at)
);
-- The open segments of a resource (closed on every change).
CREATE INDEX usage_segments_open ON usage_segments (resource_id) WHERE ended_at IS NULL;
-- The sweep: segments overlapping an hour.
CREATE INDEX usage_segments_start ON usage_segments (started_at);
CREATE INDEX usage_segments_end ON usage_segments (ended_at);

-- How far the sweep has metered: hours before metered_until are done.
CREATE TABLE usage_sweeps (
    name          TEXT PRIMARY KEY,
    metered_until TEXT NOT NULL
);

-- The new meters: SQLite cannot change a CHECK, so the table is rebuilt.
CREATE TABLE usage_hourly_new (
    resource_id        TEXT NOT NULL,
    meter              TEXT NOT NULL CHECK (meter IN ('vm', 'disk', 'snapshot', 'backup', 'object_storage', 'floating_ip', 'load_balancer')),
    period_start       TEXT NOT NULL,
    billing_account_id INTEGER NOT NULL CHECK (billing_account_id > 0),
    location_slug      TEXT NOT NULL DEFAULT '',
    owner_uuid         TEXT NOT NULL DEFAULT '',
    user_id            INTEGER NOT NULL DEFAULT 0,
    config             TEXT NOT NULL DEFAULT '{}',
    quantity_e6        INTEGER NOT NULL CHECK (quantity_e6 >= 0),
    unit_price         TEXT NOT NULL,
    description        TEXT NOT NULL,
    uptime_types       TEXT NOT NULL DEFAULT '[]',
    recorded_at        TEXT NOT NULL,
    PRIMARY KEY (resource_id, meter, period_start)
);
INSERT INTO usage_hourly_new SELECT * FROM usage_hourly;
DROP TABLE usage_hourly;
ALTER TABLE usage_hourly_new RENAME TO usage_hourly;
CREATE INDEX usage_hourly_account_period ON usage_hourly (billing_account_id, period_start);
CREATE INDEX usage_hourly_period_account ON usage_hourly (period_start, billing_account_id);

-- +goose Down
DROP TABLE usage_sweeps;
DROP TABLE usage_segments;
