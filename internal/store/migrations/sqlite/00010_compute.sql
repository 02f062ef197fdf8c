-- +goose Up
-- Compute (internal/compute): virtual machines, disks (VM storage and
-- block-storage disks are one table) and replicas (snapshots and backups).
--
-- Integer ids come from the counters table of 00003 ('vm', 'vm_storage',
-- 'replica'). Host pools, networks and addresses belong to other families:
-- a VM keeps a copy of its pool's uuid and name and of the addresses the
-- network family gave it, without foreign keys across families.
--
-- A pending provider step is (op, op_args, op_seq): op_seq grows with each
-- new step, so a job naming an older step does nothing.
CREATE TABLE compute_vms (
    uuid               TEXT PRIMARY KEY,
    id                 BIGINT NOT NULL UNIQUE,
    org_id             TEXT NOT NULL REFERENCES orgs (id),
    org_path           TEXT NOT NULL,
    user_id            BIGINT NOT NULL,
    billing_account_id BIGINT NOT NULL REFERENCES billing_accounts (id),
    location           TEXT NOT NULL REFERENCES locations (slug),
    name               TEXT NOT NULL,
    hostname           TEXT NOT NULL,
    description        TEXT NOT NULL DEFAULT '',
    os_name            TEXT NOT NULL DEFAULT '',
    os_version         TEXT NOT NULL DEFAULT '',
    username           TEXT NOT NULL DEFAULT '',
    password_hash      TEXT NOT NULL DEFAULT '',
    vcpu               BIGINT NOT NULL CHECK (vcpu > 0),
    ram_mb             BIGINT NOT NULL CHECK (ram_mb > 0),
    pool_uuid          TEXT NOT NULL DEFAULT '',
    pool_name          TEXT NOT NULL DEFAULT '',
    network_uuid       TEXT NOT NULL DEFAULT '',
    mac                TEXT NOT NULL DEFAULT '',
    private_ipv4       TEXT NOT NULL DEFAULT '',
    public_ipv6        TEXT NOT NULL DEFAULT '',
    status             TEXT NOT NULL CHECK (status IN ('creating', 'running', 'stopped', 'error', 'deleting', 'deleted')),
    op                 TEXT NOT NULL DEFAULT '',
    op_args            TEXT NOT NULL DEFAULT '',
    op_seq             BIGINT NOT NULL DEFAULT 0,
    op_error           TEXT NOT NULL DEFAULT '',
    backup             INTEGER NOT NULL DEFAULT FALSE,
    rescue             INTEGER NOT NULL DEFAULT FALSE,
    license_type       TEXT NOT NULL DEFAULT '',
    cloud_init         TEXT NOT NULL DEFAULT '',
    public_key         TEXT NOT NULL DEFAULT '',
    created_at         TEXT NOT NULL,
    updated_at         TEXT,
    deleted_at         TEXT,
    CHECK ((status = 'deleted') = (deleted_at IS NOT NULL))
);
-- The VM list of one location (paged by id) and the billing resources of
-- an account.
CREATE INDEX compute_vms_location ON compute_vms (location, id) WHERE deleted_at IS NULL;
CREATE INDEX compute_vms_account ON compute_vms (billing_account_id, id) WHERE deleted_at IS NULL;

CREATE TABLE compute_disks (
    uuid               TEXT PRIMARY KEY,
    id                 BIGINT NOT NULL UNIQUE,
    org_id             TEXT NOT NULL REFERENCES orgs (id),
    org_path           TEXT NOT NULL,
    user_id            BIGINT NOT NULL,
    billing_account_id BIGINT NOT NULL REFERENCES billing_accounts (id),
    location           TEXT NOT NULL REFERENCES locations (slug),
    vm_uuid            TEXT REFERENCES compute_vms (uuid),
    device             TEXT NOT NULL DEFAULT '',
    is_primary         INTEGER NOT NULL DEFAULT FALSE,
    size_gb            BIGINT NOT NULL CHECK (size_gb > 0),
    pool               TEXT NOT NULL DEFAULT '',
    source_image_type  TEXT NOT NULL CHECK (source_image_type IN ('EMPTY', 'OS_BASE', 'DISK', 'SNAPSHOT')),
    source_image       TEXT NOT NULL DEFAULT '',
    status             TEXT NOT NULL CHECK (status IN ('creating', 'active', 'error', 'deleted')),
    op                 TEXT NOT NULL DEFAULT '',
    op_args            TEXT NOT NULL DEFAULT '',
    op_seq             BIGINT NOT NULL DEFAULT 0,
    op_error           TEXT NOT NULL DEFAULT '',
    was_active         INTEGER NOT NULL DEFAULT FALSE,
    created_at         TEXT NOT NULL,
    updated_at         TEXT,
    deleted_at         TEXT,
    CHECK ((status = 'deleted') = (deleted_at IS NOT NULL)),
    CHECK (NOT is_primary OR vm_uuid IS NOT NULL),
    CHECK ((vm_uuid IS NULL) = (device = ''))
);
-- One device name per VM, one primary disk per VM.
CREATE UNIQUE INDEX compute_disks_device ON compute_disks (vm_uuid, device) WHERE vm_uuid IS NOT NULL;
CREATE UNIQUE INDEX compute_disks_primary ON compute_disks (vm_uuid) WHERE is_primary;
CREATE INDEX compute_disks_location ON compute_disks (location, id) WHERE deleted_at IS NULL;
CREATE INDEX compute_disks_account ON compute_disks (billing_account_id) WHERE deleted_at IS NULL;

CREATE TABLE compute_replicas (
    uuid               TEXT PRIMARY KEY,               -- disk uuid + YYYY-MM-DD-HH-MM-SS
    id                 BIGINT NOT NULL UNIQUE,
    disk_uuid          TEXT NOT NULL REFERENCES compute_disks (uuid),
    org_id             TEXT NOT NULL REFERENCES orgs (id),
    org_path           TEXT NOT NULL,
    user_id            BIGINT NOT NULL,
    billing_account_id BIGINT NOT NULL REFERENCES billing_accounts (id),
    location           TEXT NOT NULL REFERENCES locations (slug),
    r_type             TEXT NOT NULL CHECK (r_type IN ('snapshot', 'backup')),
    size_gb            BIGINT NOT NULL CHECK (size_gb > 0),
    status             TEXT NOT NULL CHECK (status IN ('creating', 'active', 'deleted')),
    billing_name       TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT,
    deleted_at         TEXT,
    CHECK ((status = 'deleted') = (deleted_at IS NOT NULL))
);
CREATE INDEX compute_replicas_disk ON compute_replicas (disk_uuid, created_at) WHERE deleted_at IS NULL;
CREATE INDEX compute_replicas_account ON compute_replicas (billing_account_id) WHERE deleted_at IS NULL;

-- +goose Down
DROP TABLE compute_replicas;
DROP TABLE compute_disks;
DROP TABLE compute_vms;
