-- +goose Up
-- The built-in sim providers' fake cloud (issue 14): JSON documents by
-- (space, kind, id), one space per simulator, so every node on the
-- database sees one hypervisor and it survives restarts. The row with
-- kind '' and id '' of a space is its lock: a step updates it first, so
-- steps of one space run one at a time across nodes.
CREATE TABLE sim_state (
    space TEXT NOT NULL,
    kind  TEXT NOT NULL,
    id    TEXT NOT NULL,
    doc   TEXT NOT NULL,
    PRIMARY KEY (space, kind, id)
);

-- +goose Down
DROP TABLE sim_state;
