-- +goose Up
-- Networking (internal/network): private networks, VM interfaces, the public
-- floating-IP pools, floating IPs and load balancers. Addresses are rows
-- with unique keys, claimed by conditional updates inside the request's
-- transaction, so none is handed out twice on any number of nodes.
--
-- net_owners is the per-user lock row: network creation, default changes
-- and subnet allocation of one org queue on it.
CREATE TABLE net_owners (
    org_id     TEXT PRIMARY KEY REFERENCES orgs (id) ON DELETE CASCADE,
    locked_at  TIMESTAMPTZ
);

CREATE TABLE networks (
    uuid          TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    org_path      TEXT NOT NULL,
    user_id       BIGINT NOT NULL,
    location_slug TEXT NOT NULL REFERENCES locations (slug),
    name          TEXT NOT NULL,
    vlan_id       BIGINT NOT NULL,
    subnet_index  BIGINT NOT NULL CHECK (subnet_index >= 0),
    subnet        TEXT NOT NULL,
    subnet_ipv6   TEXT NOT NULL UNIQUE,
    is_default    BOOLEAN NOT NULL DEFAULT FALSE,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'active', 'error')),
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, subnet_index),
    UNIQUE (location_slug, vlan_id)
);
-- Exactly one default per user and location (at most one by the index; the
-- service makes the first network the default and never clears the last).
CREATE UNIQUE INDEX networks_one_default ON networks (org_id, location_slug) WHERE is_default;
CREATE INDEX networks_org ON networks (org_id, location_slug, created_at);

-- Every address in use inside a network: VM interfaces and load balancers.
CREATE TABLE network_addresses (
    network_uuid TEXT NOT NULL REFERENCES networks (uuid),
    address      TEXT NOT NULL,
    owner_type   TEXT NOT NULL CHECK (owner_type IN ('vm', 'lb')),
    owner_uuid   TEXT NOT NULL,
    PRIMARY KEY (network_uuid, address)
);

CREATE TABLE vm_interfaces (
    vm_uuid       TEXT PRIMARY KEY,
    network_uuid  TEXT NOT NULL REFERENCES networks (uuid),
    org_id        TEXT NOT NULL,
    user_id       BIGINT NOT NULL,
    location_slug TEXT NOT NULL,
    private_ipv4  TEXT NOT NULL,
    mac           TEXT NOT NULL UNIQUE,
    ipv6          TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (network_uuid, private_ipv4)
);
CREATE INDEX vm_interfaces_network ON vm_interfaces (network_uuid, created_at);

-- The operator's public CIDRs per location, and every usable address of
-- them: floating_ip_uuid is the floating IP holding it (NULL: free).
CREATE TABLE ip_pool_ranges (
    id            TEXT PRIMARY KEY,
    location_slug TEXT NOT NULL REFERENCES locations (slug),
    cidr          TEXT NOT NULL UNIQUE,
    excluded      TEXT NOT NULL DEFAULT '',  -- comma-separated addresses never handed out
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE TABLE ip_pool_addresses (
    address          TEXT PRIMARY KEY,
    num              BIGINT NOT NULL UNIQUE,   -- the address as a number: allocation order
    location_slug    TEXT NOT NULL,
    range_id         TEXT NOT NULL REFERENCES ip_pool_ranges (id) ON DELETE CASCADE,
    floating_ip_uuid TEXT UNIQUE
);
CREATE INDEX ip_pool_free ON ip_pool_addresses (location_slug, num) WHERE floating_ip_uuid IS NULL;
CREATE INDEX ip_pool_range ON ip_pool_addresses (range_id);

CREATE TABLE floating_ips (
    uuid                      TEXT PRIMARY KEY,
    id                        BIGINT NOT NULL UNIQUE,       -- counter 'floating_ip'
    address                   TEXT NOT NULL UNIQUE REFERENCES ip_pool_addresses (address),
    location_slug             TEXT NOT NULL,
    org_id                    TEXT NOT NULL REFERENCES orgs (id),
    org_path                  TEXT NOT NULL,
    user_id                   BIGINT NOT NULL,
    billing_account_id        BIGINT NOT NULL REFERENCES billing_accounts (id),
    name                      TEXT NOT NULL DEFAULT '',
    enabled                   BOOLEAN NOT NULL DEFAULT TRUE,
    is_virtual                BOOLEAN NOT NULL DEFAULT FALSE,
    assigned_to               TEXT,
    assigned_to_resource_type TEXT CHECK (assigned_to_resource_type IN ('virtual_machine', 'service', 'load_balancer')),
    assigned_to_private_ip    TEXT,
    unassigned_at             TIMESTAMPTZ,
    created_at                TIMESTAMPTZ NOT NULL,
    updated_at                TIMESTAMPTZ NOT NULL,
    CHECK ((assigned_to IS NULL) = (assigned_to_resource_type IS NULL))
);
CREATE INDEX floating_ips_org ON floating_ips (org_id, location_slug, id);
CREATE INDEX floating_ips_assigned ON floating_ips (assigned_to) WHERE assigned_to IS NOT NULL;
CREATE INDEX floating_ips_account ON floating_ips (billing_account_id);

CREATE TABLE load_balancers (
    uuid               TEXT PRIMARY KEY,
    org_id             TEXT NOT NULL REFERENCES orgs (id),
    org_path           TEXT NOT NULL,
    user_id            BIGINT NOT NULL,
    billing_account_id BIGINT NOT NULL REFERENCES billing_accounts (id),
    location_slug      TEXT NOT NULL,
    network_uuid       TEXT NOT NULL REFERENCES networks (uuid),
    display_name       TEXT NOT NULL DEFAULT '',
    private_address    TEXT NOT NULL,
    state              TEXT NOT NULL CHECK (state IN ('pending', 'active', 'error')),
    version            BIGINT NOT NULL,
    applied_version    BIGINT NOT NULL DEFAULT 0,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX load_balancers_org ON load_balancers (org_id, location_slug, created_at);
CREATE INDEX load_balancers_network ON load_balancers (network_uuid);
CREATE INDEX load_balancers_account ON load_balancers (billing_account_id);

CREATE TABLE lb_rules (
    uuid                TEXT PRIMARY KEY,
    lb_uuid             TEXT NOT NULL REFERENCES load_balancers (uuid) ON DELETE CASCADE,
    protocol            TEXT NOT NULL,
    source_port         BIGINT NOT NULL CHECK (source_port BETWEEN 1 AND 65535),
    target_port         BIGINT NOT NULL CHECK (target_port BETWEEN 1 AND 65535),
    connection_limit    BIGINT NOT NULL,
    session_persistence TEXT NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    UNIQUE (lb_uuid, source_port)
);

CREATE TABLE lb_targets (
    lb_uuid           TEXT NOT NULL REFERENCES load_balancers (uuid) ON DELETE CASCADE,
    target_uuid       TEXT NOT NULL,
    target_type       TEXT NOT NULL,
    target_ip_address TEXT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (lb_uuid, target_uuid)
);
CREATE INDEX lb_targets_target ON lb_targets (target_uuid);

-- +goose Down
DROP TABLE lb_targets;
DROP TABLE lb_rules;
DROP TABLE load_balancers;
DROP TABLE floating_ips;
DROP TABLE ip_pool_addresses;
DROP TABLE ip_pool_ranges;
DROP TABLE vm_interfaces;
DROP TABLE network_addresses;
DROP TABLE networks;
DROP TABLE net_owners;
