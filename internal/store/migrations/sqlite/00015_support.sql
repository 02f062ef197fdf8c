-- +goose Up
-- Support tickets of reseller partners and the public reviews
-- (internal/support, ITGLOBAL IT-45, IT-51..54).
CREATE TABLE support_tickets (
    id           BIGINT PRIMARY KEY,             -- counter 'support_ticket'
    partner_id   TEXT NOT NULL REFERENCES orgs (id),
    partner_path TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('client', 'system')),
    project_id   BIGINT NOT NULL DEFAULT 0,      -- 0 = none
    account_id   TEXT NOT NULL DEFAULT '',
    subject      TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('Open', 'InProgress', 'Closed')),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    closed_at    TEXT,
    CHECK ((closed_at IS NULL) = (state <> 'Closed'))
);
CREATE INDEX support_tickets_scope ON support_tickets (partner_path, kind, created_at);
CREATE INDEX support_tickets_project ON support_tickets (project_id) WHERE state <> 'Closed';

CREATE TABLE support_messages (
    id         BIGINT PRIMARY KEY,               -- counter 'support_message'
    ticket_id  BIGINT NOT NULL REFERENCES support_tickets (id) ON DELETE CASCADE,
    author     TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX support_messages_ticket ON support_messages (ticket_id, id);

CREATE TABLE reviews (
    id         BIGINT PRIMARY KEY,               -- counter 'review'
    author     TEXT NOT NULL,
    text       TEXT NOT NULL,
    rating     BIGINT NOT NULL CHECK (rating BETWEEN 1 AND 5),
    created_at TEXT NOT NULL
);

-- +goose Down
DROP TABLE reviews;
DROP TABLE support_messages;
DROP TABLE support_tickets;
