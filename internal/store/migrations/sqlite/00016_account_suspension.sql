-- +goose Up
-- A storage account can be suspended (a billing platform suspending its
-- subscription, issue 7): while suspended_at is set, S3 reads and writes on
-- its buckets are refused; lifting the suspension clears it.
ALTER TABLE storage_accounts ADD COLUMN suspended_at TEXT;

-- +goose Down
ALTER TABLE storage_accounts DROP COLUMN suspended_at;
