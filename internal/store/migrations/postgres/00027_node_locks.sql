-- +goose Up
-- Locks the nodes sharing this database hold on what they write (an S3
-- object, multipart upload or part: internal/nodelock), so two nodes never
-- write the same thing at once. name is a hash of what is locked; slot is ''
-- for the exclusive holder and the holder's token for a shared one; token
-- names one acquisition (release and renewal). A lock whose node is dead
-- (internal/nodes) or whose expires_at passed is taken over.
CREATE TABLE node_locks (
    name       TEXT NOT NULL,
    slot       TEXT NOT NULL,
    token      TEXT NOT NULL,
    node       TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (name, slot)
);

-- +goose Down
DROP TABLE node_locks;
