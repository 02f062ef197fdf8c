-- +goose Up
-- idcloudhost identity (internal/access, idcloudhost*.go) and the location
-- catalog (internal/catalog).
--
-- An idcloudhost user is the one customer of a customer org: idch_users.org_id
-- is unique, so the org's path is the user's tenant scope, and the billing
-- accounts of the org are the user's. Numbers (id, profile_id, token id) come
-- from the counters table of 00003 ('user', 'profile', 'token').
CREATE TABLE idch_users (
    id                 BIGINT PRIMARY KEY,                 -- the user number (counter 'user')
    org_id             TEXT NOT NULL UNIQUE REFERENCES orgs (id) ON DELETE CASCADE,
    email              TEXT NOT NULL UNIQUE,               -- lower case; the user's "name"
    cookie_id          TEXT NOT NULL,                      -- 32 hex characters
    consumer_id        TEXT NOT NULL UNIQUE,               -- the API-gateway consumer of all the user's tokens
    profile_id         BIGINT NOT NULL UNIQUE,             -- counter 'profile'
    first_name         TEXT NOT NULL DEFAULT '',
    last_name          TEXT NOT NULL DEFAULT '',
    phone_number       TEXT NOT NULL DEFAULT '',
    personal_id_number TEXT NOT NULL DEFAULT '',
    avatar             TEXT NOT NULL DEFAULT '',
    profile_created_at TEXT NOT NULL,
    profile_updated_at TEXT NOT NULL,
    last_activity      TEXT NOT NULL,
    created_at         TEXT NOT NULL
);

-- API tokens: only the SHA-256 of the secret is kept, and its first
-- characters to recognise it in listings.
CREATE TABLE idch_tokens (
    id                 BIGINT PRIMARY KEY,                 -- counter 'token'
    user_id            BIGINT NOT NULL REFERENCES idch_users (id) ON DELETE CASCADE,
    hash               TEXT NOT NULL UNIQUE,               -- hex SHA-256 of the secret
    prefix             TEXT NOT NULL,
    description        TEXT NOT NULL DEFAULT '',
    restricted         INTEGER NOT NULL DEFAULT FALSE,
    billing_account_id BIGINT NOT NULL DEFAULT 0 CHECK (billing_account_id >= 0), -- 0 = not bound
    kong_id            TEXT NOT NULL UNIQUE,
    created_at         TEXT NOT NULL,
    updated_at         TEXT,
    CHECK (NOT restricted OR billing_account_id > 0)
);
CREATE INDEX idch_tokens_user ON idch_tokens (user_id, id);

CREATE TABLE locations (
    slug         TEXT PRIMARY KEY CHECK (slug <> ''),
    display_name TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    country_code TEXT NOT NULL,
    order_nr     BIGINT NOT NULL DEFAULT 0,
    is_preferred INTEGER NOT NULL DEFAULT FALSE,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
-- The default location: a single row, so "exactly one default" is the
-- table's shape and moving it is one conditional write on one row (no
-- two-statement flag swap that concurrent writers could interleave).
CREATE TABLE location_default (
    one  INTEGER PRIMARY KEY CHECK (one = 1),
    slug TEXT NOT NULL REFERENCES locations (slug)
);

-- +goose Down
DROP TABLE location_default;
DROP TABLE locations;
DROP TABLE idch_tokens;
DROP TABLE idch_users;
