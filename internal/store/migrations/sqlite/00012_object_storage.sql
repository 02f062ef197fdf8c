-- +goose Up
-- Object storage (internal/objstore principals and keys, internal/buckets).
-- An S3 principal is what the embedded S3 server authenticates and what
-- bucket ACLs name as owner: an Impossible Cloud storage account or an
-- idcloudhost user. Its keys' secrets are sealed with the server's key.
CREATE TABLE s3_principals (
    id                 TEXT PRIMARY KEY,
    kind               TEXT NOT NULL CHECK (kind IN ('storage_account', 'user')),
    storage_account_id TEXT UNIQUE REFERENCES storage_accounts (id) ON DELETE CASCADE,
    user_id            BIGINT UNIQUE,
    org_id             TEXT NOT NULL REFERENCES orgs (id),
    org_path           TEXT NOT NULL,
    display_name       TEXT NOT NULL,
    email              TEXT NOT NULL,
    -- stored bytes (objects and multipart parts) over all its buckets, and
    -- bytes reserved by writes in flight; the quota holds
    -- used_bytes + reserved_bytes <= the storage account's allocation.
    used_bytes         BIGINT NOT NULL DEFAULT 0 CHECK (used_bytes >= 0),
    reserved_bytes     BIGINT NOT NULL DEFAULT 0 CHECK (reserved_bytes >= 0),
    created_at         TEXT NOT NULL,
    CHECK ((kind = 'storage_account') = (storage_account_id IS NOT NULL)),
    CHECK ((kind = 'user') = (user_id IS NOT NULL))
);
CREATE INDEX s3_principals_scope ON s3_principals (org_path);

CREATE TABLE s3_keys (
    access_key    TEXT PRIMARY KEY,
    principal_id  TEXT NOT NULL REFERENCES s3_principals (id) ON DELETE CASCADE,
    sealed_secret TEXT NOT NULL,
    seq           BIGINT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX s3_keys_principal ON s3_keys (principal_id, seq);

-- Buckets, unique by name among live ones. size_bytes/num_objects are the
-- completed objects; parts_bytes the parts of unfinished multipart uploads.
CREATE TABLE s3_buckets (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    principal_id       TEXT NOT NULL REFERENCES s3_principals (id) ON DELETE CASCADE,
    org_path           TEXT NOT NULL,
    billing_account_id BIGINT REFERENCES billing_accounts (id),
    size_bytes         BIGINT NOT NULL DEFAULT 0 CHECK (size_bytes >= 0),
    num_objects        BIGINT NOT NULL DEFAULT 0 CHECK (num_objects >= 0),
    parts_bytes        BIGINT NOT NULL DEFAULT 0 CHECK (parts_bytes >= 0),
    is_suspended       INTEGER NOT NULL DEFAULT FALSE,
    created_at         TEXT NOT NULL,
    modified_at        TEXT NOT NULL,
    deleted_at         TEXT
);
CREATE UNIQUE INDEX s3_buckets_name ON s3_buckets (name) WHERE deleted_at IS NULL;
CREATE INDEX s3_buckets_principal ON s3_buckets (principal_id);
CREATE INDEX s3_buckets_account ON s3_buckets (billing_account_id) WHERE deleted_at IS NULL;

-- A write in flight: the bytes it reserved and what it replaces, so a node
-- that stopped in the middle of it can settle or release it on its next
-- start.
CREATE TABLE s3_reservations (
    id           TEXT PRIMARY KEY,
    node         TEXT NOT NULL,
    principal_id TEXT NOT NULL REFERENCES s3_principals (id) ON DELETE CASCADE,
    bucket_id    TEXT NOT NULL REFERENCES s3_buckets (id) ON DELETE CASCADE,
    op           TEXT NOT NULL,
    object_key   TEXT NOT NULL,
    upload_id    TEXT NOT NULL,
    part_number  BIGINT NOT NULL,
    bytes        BIGINT NOT NULL CHECK (bytes >= 0),
    old_size     BIGINT NOT NULL,
    old_etag     TEXT NOT NULL,
    parts_bytes  BIGINT NOT NULL DEFAULT 0,                   -- complete: all the upload's parts
    created_at   TEXT NOT NULL
);
CREATE INDEX s3_reservations_node ON s3_reservations (node, created_at);

-- Per bucket and UTC hour in which its stored bytes changed: the most it
-- held in the hour and what it held at the hour's last change. The hours in
-- between hold the previous row's end_bytes.
CREATE TABLE s3_bucket_hours (
    bucket_id  TEXT NOT NULL REFERENCES s3_buckets (id) ON DELETE CASCADE,
    hour       TEXT NOT NULL,
    peak_bytes BIGINT NOT NULL CHECK (peak_bytes >= 0),
    end_bytes  BIGINT NOT NULL CHECK (end_bytes >= 0),
    PRIMARY KEY (bucket_id, hour)
);

-- +goose Down
DROP TABLE s3_bucket_hours;
DROP TABLE s3_reservations;
DROP TABLE s3_buckets;
DROP TABLE s3_keys;
DROP TABLE s3_principals;
