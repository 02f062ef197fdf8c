-- +goose Up
-- Resources (VMs, disks, replicas, floating IPs, load balancers, service
-- packages) are billed through usage segments: from started_at until
-- ended_at (NULL: still open) the resource is billed as (meter, account,
-- config). Every change that affects billing closes the resource's open
-- segments and opens the new ones in the change's transaction; the hourly
-- sweep (internal/metering) turns the segments of each closed hour into
-- usage_hourly records.
CREATE TABLE usage_segments (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    resource_id        TEXT NOT NULL,
    meter              TEXT NOT NULL,
    billing_account_id BIGINT NOT NULL CHECK (billing_account_id > 0),
    location_slug      TEXT NOT NULL DEFAULT '',
    owner_uuid         TEXT NOT NULL DEFAULT '',
    user_id            BIGINT NOT NULL DEFAULT 0,
    config             TEXT NOT NULL DEFAULT '{}',
    started_at         TIMESTAMPTZ NOT NULL,
    ended_at           TIMESTAMPTZ,
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
    metered_until TIMESTAMPTZ NOT NULL
);

-- The new meters.
ALTER TABLE usage_hourly DROP CONSTRAINT usage_hourly_meter_check;
ALTER TABLE usage_hourly ADD CONSTRAINT usage_hourly_meter_check
    CHECK (meter IN ('vm', 'disk', 'snapshot', 'backup', 'object_storage', 'floating_ip', 'load_balancer'));

-- +goose Down
ALTER TABLE usage_hourly DROP CONSTRAINT usage_hourly_meter_check;
ALTER TABLE usage_hourly ADD CONSTRAINT usage_hourly_meter_check
    CHECK (meter IN ('vm', 'disk', 'snapshot', 'backup', 'object_storage'));
DROP TABLE usage_sweeps;
DROP TABLE usage_segments;
