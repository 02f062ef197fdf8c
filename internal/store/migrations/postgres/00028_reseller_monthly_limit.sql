-- +goose Up
-- The provider's bound on the money a partner records through the Partner
-- API (issue 14, finding 9). monthly_limit is in minor units of the
-- project's currency: NULL takes the provider-wide default, -1 is
-- unlimited. reseller_intake sums the money that entered the partner's
-- projects per calendar month (UTC) and currency; a payment adds to it with
-- a conditional upsert in its own transaction, so racers cannot pass the
-- limit together.
ALTER TABLE reseller_settings ADD COLUMN monthly_limit BIGINT CHECK (monthly_limit IS NULL OR monthly_limit >= -1);

CREATE TABLE reseller_intake (
    partner_id TEXT NOT NULL REFERENCES orgs (id),
    month      TEXT NOT NULL,                              -- YYYY-MM, UTC
    currency   TEXT NOT NULL,
    amount     BIGINT  NOT NULL CHECK (amount >= 0),       -- minor units
    PRIMARY KEY (partner_id, month, currency)
);

-- +goose Down
DROP TABLE reseller_intake;
ALTER TABLE reseller_settings DROP COLUMN monthly_limit;
