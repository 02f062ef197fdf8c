-- +goose Up
-- Payments (internal/payment): payment methods, charges and what they pay.
-- Amounts are int64 minor units of the billing account's currency. A card
-- charge is inserted as 'pending' before the processor is called and
-- settled afterwards (the saga in internal/payment); its idempotency key is
-- unique, so a replayed request finds the charge instead of making a
-- second one.
INSERT INTO counters (name, value) VALUES ('payment_customer', 0) ON CONFLICT (name) DO NOTHING;

-- A billing account's customer at a processor (the idcloudhost
-- billing_account_processor_identifier_id); processor 'invoice' is the
-- paying-by-invoice method's pseudo processor.
CREATE TABLE payment_customers (
    id                 INTEGER PRIMARY KEY,                   -- counter 'payment_customer'
    billing_account_id INTEGER NOT NULL REFERENCES billing_accounts (id),
    processor          TEXT NOT NULL,
    customer_ref       TEXT NOT NULL,                         -- the processor's customer id; '' for 'invoice'
    created_at         TEXT NOT NULL,
    UNIQUE (billing_account_id, processor)
);

CREATE TABLE payment_objects (
    id                 INTEGER PRIMARY KEY,                    -- counter 'payment_object'
    billing_account_id INTEGER NOT NULL REFERENCES billing_accounts (id),
    customer_id        INTEGER NOT NULL REFERENCES payment_customers (id),
    kind               TEXT NOT NULL CHECK (kind IN ('card', 'invoice')),
    identifier         TEXT NOT NULL,                         -- processor method ref (pm_…); 'N/A' for the invoice method
    brand              TEXT NOT NULL DEFAULT '',
    last4              TEXT NOT NULL DEFAULT '',
    exp_month          INTEGER NOT NULL DEFAULT 0,
    exp_year           INTEGER NOT NULL DEFAULT 0,
    holder             TEXT NOT NULL DEFAULT '',
    additional_data    TEXT NOT NULL DEFAULT '{}',            -- JSON: the processor's method object
    is_primary         INTEGER NOT NULL DEFAULT FALSE,
    is_verified        INTEGER NOT NULL DEFAULT FALSE,
    valid_thru         TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    verified_at        TEXT,
    deleted_at         TEXT,
    -- only a verified, live method is primary
    CHECK (NOT is_primary OR (is_verified AND deleted_at IS NULL))
);
-- Exactly one primary per account is kept by the service under the account
-- lock; the index makes a second primary impossible whatever races.
CREATE UNIQUE INDEX payment_objects_one_primary ON payment_objects (billing_account_id) WHERE is_primary;
-- One live paying-by-invoice method per account.
CREATE UNIQUE INDEX payment_objects_one_invoice_method ON payment_objects (billing_account_id)
    WHERE kind = 'invoice' AND deleted_at IS NULL;
CREATE INDEX payment_objects_account ON payment_objects (billing_account_id, id);

-- A payment: a card charge (through the processor) or a bank transfer
-- (recorded by an operator). The idcloudhost "transaction".
CREATE TABLE charges (
    id                    INTEGER PRIMARY KEY,                 -- counter 'charge'
    billing_account_id    INTEGER NOT NULL REFERENCES billing_accounts (id),
    purpose               TEXT NOT NULL CHECK (purpose IN ('invoices', 'credit')),
    source                TEXT NOT NULL CHECK (source IN ('card', 'bank')),
    payment_object_id     INTEGER REFERENCES payment_objects (id), -- NULL for a bank payment
    idempotency_key       TEXT NOT NULL UNIQUE,               -- the business event the charge is for
    request_hash          TEXT NOT NULL,
    currency              TEXT NOT NULL,
    requested             INTEGER NOT NULL CHECK (requested >= amount),
    amount                INTEGER NOT NULL CHECK (amount > 0),
    status                TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    identifier            TEXT NOT NULL DEFAULT '',           -- processor transaction ref (tran_…) or bank reference
    customer_ref          TEXT NOT NULL DEFAULT '',
    method_ref            TEXT NOT NULL DEFAULT '',
    description           TEXT NOT NULL DEFAULT '',
    additional_data       TEXT NOT NULL DEFAULT '{}',         -- JSON: the processor's transaction object
    error                 TEXT NOT NULL DEFAULT '',           -- why a failed charge failed
    ledger_transaction_id TEXT NOT NULL DEFAULT '',
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL,
    finished_at           TEXT,
    CHECK ((source = 'bank') = (payment_object_id IS NULL)),
    CHECK ((status = 'pending') = (finished_at IS NULL)),
    CHECK (status <> 'succeeded' OR ledger_transaction_id <> '')
);
CREATE INDEX charges_pending ON charges (created_at) WHERE status = 'pending';
CREATE INDEX charges_account ON charges (billing_account_id, id);
-- Bank references are unique per source (a transfer is recorded once).
CREATE UNIQUE INDEX charges_bank_reference ON charges (identifier) WHERE source = 'bank';

-- The part of a charge applied to one invoice.
CREATE TABLE charge_allocations (
    charge_id  INTEGER NOT NULL REFERENCES charges (id),
    invoice_id INTEGER NOT NULL REFERENCES invoices (id),
    position   INTEGER NOT NULL CHECK (position >= 0),        -- payment order, oldest invoice first
    amount     INTEGER NOT NULL CHECK (amount > 0),
    PRIMARY KEY (charge_id, invoice_id),
    UNIQUE (charge_id, position)
);
CREATE INDEX charge_allocations_invoice ON charge_allocations (invoice_id);

-- +goose Down
DROP TABLE charge_allocations;
DROP TABLE charges;
DROP TABLE payment_objects;
DROP TABLE payment_customers;
DELETE FROM counters WHERE name = 'payment_customer';
