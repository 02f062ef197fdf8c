-- +goose Up
-- A periodic sweep's claim: the node that runs a sweep for a period takes
-- its row by compare-and-set (period_at moves forward only), so with N
-- nodes on one database a sweep runs once per period, not N times.
CREATE TABLE job_periods (
    name       TEXT PRIMARY KEY,
    period_at  TEXT NOT NULL,
    node       TEXT NOT NULL,
    claimed_at TEXT NOT NULL
);

-- +goose Down
DROP TABLE job_periods;
