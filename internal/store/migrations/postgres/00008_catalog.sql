-- +goose Up
-- The resource catalog (internal/catalog): host pools per location, the OS
-- image catalogue and the VM parameter rules of idcloudhost
-- GET /api/parameters/vm. All of it is operator data (native admin API).

-- Host pools (server classes) of a location. uuids are global; names are
-- unique within a location.
CREATE TABLE host_pools (
    uuid          TEXT PRIMARY KEY,
    location_slug TEXT NOT NULL REFERENCES locations (slug),
    name          TEXT NOT NULL CHECK (name <> ''),
    description   TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (location_slug, name)
);
-- The default pool of each location: one row per location, so "exactly one
-- default" is the table's shape (like location_default).
CREATE TABLE host_pool_default (
    location_slug TEXT PRIMARY KEY REFERENCES locations (slug),
    pool_uuid     TEXT NOT NULL UNIQUE REFERENCES host_pools (uuid)
);

-- OS images; versions in display order.
CREATE TABLE vm_images (
    os_name        TEXT PRIMARY KEY CHECK (os_name <> ''),
    display_name   TEXT NOT NULL,
    ui_position    BIGINT NOT NULL DEFAULT 0,
    is_app_catalog BOOLEAN NOT NULL DEFAULT FALSE,
    icon           TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE TABLE vm_image_versions (
    os_name      TEXT NOT NULL REFERENCES vm_images (os_name) ON DELETE CASCADE,
    os_version   TEXT NOT NULL CHECK (os_version <> ''),
    position     BIGINT NOT NULL,
    display_name TEXT NOT NULL,
    published    BOOLEAN NOT NULL,
    PRIMARY KEY (os_name, os_version),
    UNIQUE (os_name, position)
);
-- The default image: a single row.
CREATE TABLE vm_image_default (
    one     INTEGER PRIMARY KEY CHECK (one = 1),
    os_name TEXT NOT NULL REFERENCES vm_images (os_name)
);

-- VM parameter rules. Type and constraint follow from the parameter (the
-- code knows each one); os_name and os_version enums are the images'
-- published versions, not stored here.
CREATE TABLE vm_parameters (
    parameter   TEXT PRIMARY KEY CHECK (parameter <> ''),
    description TEXT NOT NULL DEFAULT '',
    mandatory   BOOLEAN NOT NULL,
    min_value   BIGINT NOT NULL DEFAULT 0,
    max_value   BIGINT NOT NULL DEFAULT 0,
    expression  TEXT NOT NULL DEFAULT '',      -- served verbatim
    updated_at  TIMESTAMPTZ NOT NULL
);
-- Per-OS overrides of a rule; NULL keeps the rule's value.
CREATE TABLE vm_parameter_limits (
    parameter TEXT NOT NULL REFERENCES vm_parameters (parameter) ON DELETE CASCADE,
    os_name   TEXT NOT NULL,
    min_value BIGINT,
    max_value BIGINT,
    mandatory BOOLEAN,
    PRIMARY KEY (parameter, os_name)
);

-- +goose Down
DROP TABLE vm_parameter_limits;
DROP TABLE vm_parameters;
DROP TABLE vm_image_default;
DROP TABLE vm_image_versions;
DROP TABLE vm_images;
DROP TABLE host_pool_default;
DROP TABLE host_pools;
