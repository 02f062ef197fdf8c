-- +goose Up
-- Idempotency keys (issue 14, finding 5) are scoped by the org whose money
-- and objects they protect (scope_id), not by the credential, and a running
-- request holds its key under a lease (owner, locked_until) that a retry
-- takes over once it has run out. Existing rows are kept: their scope is the
-- org of the credential that took them where it is still known; an
-- in-progress row's lease has already run out (its process is gone).
CREATE TABLE idempotency_keys_v2 (
    scope_id      TEXT NOT NULL,
    key           TEXT NOT NULL,
    principal_id  TEXT NOT NULL,
    grant_text    TEXT NOT NULL DEFAULT '',
    request_hash  TEXT NOT NULL,
    owner         TEXT NOT NULL DEFAULT '',
    status        INTEGER NOT NULL DEFAULT 0,
    content_type  TEXT NOT NULL DEFAULT '',
    body          TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    locked_until  TEXT NOT NULL,
    PRIMARY KEY (scope_id, key)
);
INSERT INTO idempotency_keys_v2 (scope_id, key, principal_id, request_hash, status, content_type, body,
    created_at, locked_until)
SELECT COALESCE(
        (SELECT org_id FROM api_keys WHERE api_keys.id = k.principal_id),
        (SELECT org_id FROM users WHERE users.id = k.principal_id),
        (SELECT partner_id FROM reseller_keys WHERE reseller_keys.id = k.principal_id),
        (SELECT u.org_id FROM idch_tokens t JOIN idch_users u ON u.id = t.user_id
          WHERE 'idcloudhost-token-' || t.id = k.principal_id),
        k.principal_id),
    k.key, k.principal_id, k.request_hash, k.status, k.content_type, k.body, k.created_at, k.created_at
FROM idempotency_keys k WHERE true
ON CONFLICT (scope_id, key) DO NOTHING;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_v2 RENAME TO idempotency_keys;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- +goose Down
CREATE TABLE idempotency_keys_v1 (
    principal_id  TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status        INTEGER NOT NULL DEFAULT 0,
    content_type  TEXT NOT NULL DEFAULT '',
    body          TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    PRIMARY KEY (principal_id, key)
);
INSERT INTO idempotency_keys_v1 (principal_id, key, request_hash, status, content_type, body, created_at)
SELECT principal_id, key, request_hash, status, content_type, body, created_at FROM idempotency_keys WHERE true
ON CONFLICT (principal_id, key) DO NOTHING;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_v1 RENAME TO idempotency_keys;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
