-- +goose Up
-- Managed service packages (internal/services, idcloudhost ID-100..ID-108).
-- A package belongs to a customer org (org_path is its tenant scope) and an
-- idcloudhost user, is billed to a billing account and lives in one
-- location. Deleting it is a soft delete: deleted_at is set when the delete
-- is requested, status becomes 'deleted' once the provider removed it.
CREATE TABLE service_packages (
    uuid               TEXT PRIMARY KEY,
    org_id             TEXT NOT NULL REFERENCES orgs (id),
    org_path           TEXT NOT NULL,
    user_id            BIGINT NOT NULL,
    billing_account_id BIGINT NOT NULL REFERENCES billing_accounts (id),
    location           TEXT NOT NULL REFERENCES locations (slug),
    service            TEXT NOT NULL,
    version            TEXT NOT NULL,
    display_name       TEXT NOT NULL,
    vm_cpu             BIGINT NOT NULL CHECK (vm_cpu > 0),
    vm_ram             BIGINT NOT NULL CHECK (vm_ram > 0),      -- MB
    vm_disk_gb         BIGINT NOT NULL CHECK (vm_disk_gb > 0),
    is_multi_node      INTEGER NOT NULL DEFAULT FALSE,
    parameters         TEXT NOT NULL DEFAULT '{}',             -- package_parameters, a JSON object
    status             TEXT NOT NULL CHECK (status IN ('creating', 'active', 'error', 'deleting', 'deleted')),
    sql_user           TEXT NOT NULL,
    port               BIGINT NOT NULL,
    service_ip         TEXT NOT NULL DEFAULT '',
    sealed_pass        TEXT NOT NULL,                          -- the SQL password, sealed (services.seal)
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    deleted_at         TEXT,
    CHECK ((deleted_at IS NULL) = (status IN ('creating', 'active', 'error')))
);
CREATE INDEX service_packages_scope ON service_packages (org_path, location, created_at);
CREATE INDEX service_packages_account ON service_packages (billing_account_id) WHERE deleted_at IS NULL;

-- The VMs and the virtual IP of a package, in resources[] order.
CREATE TABLE service_resources (
    resource_id  TEXT PRIMARY KEY,
    package_uuid TEXT NOT NULL REFERENCES service_packages (uuid) ON DELETE CASCADE,
    type         TEXT NOT NULL CHECK (type IN ('vm', 'virtual_ip')),
    position     BIGINT NOT NULL,
    location     TEXT NOT NULL,
    vcpu         BIGINT NOT NULL DEFAULT 0,
    memory       BIGINT NOT NULL DEFAULT 0,                   -- MB
    disk_uuid    TEXT NOT NULL DEFAULT '',
    disk_gb      BIGINT NOT NULL DEFAULT 0,
    address      TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (package_uuid, position)
);

-- The source-address whitelist of a package, in the order entries were
-- added (position), each an IP address or CIDR prefix in canonical form.
CREATE TABLE service_whitelist (
    package_uuid TEXT NOT NULL REFERENCES service_packages (uuid) ON DELETE CASCADE,
    entry        TEXT NOT NULL,
    position     BIGINT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (package_uuid, entry)
);
CREATE INDEX service_whitelist_order ON service_whitelist (package_uuid, position);

-- +goose Down
DROP TABLE service_whitelist;
DROP TABLE service_resources;
DROP TABLE service_packages;
