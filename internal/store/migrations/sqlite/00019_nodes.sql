-- +goose Up
-- The Trellis processes (nodes) sharing this database, each with a lease it
-- renews (internal/nodes). A node is dead once stopped_at is set: by its
-- clean stop, or by another node fencing it after its lease ran out. What a
-- dead node left (S3 reservations) is taken over by the others.
CREATE TABLE nodes (
    id         TEXT PRIMARY KEY,
    host       TEXT NOT NULL,
    started_at TEXT NOT NULL,
    renewed_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    stopped_at TEXT
);

-- +goose Down
DROP TABLE nodes;
