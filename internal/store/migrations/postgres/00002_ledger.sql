-- +goose Up
-- The double-entry ledger (internal/ledger). Amounts and balances are int64
-- minor units of the account's ISO-4217 currency; a posting adds its amount
-- to its account's balance, and every transaction's amounts sum to zero per
-- currency.
CREATE TABLE ledger_accounts (
    id            TEXT PRIMARY KEY,
    owner         TEXT NOT NULL,           -- billing account id; '' for system accounts
    kind          TEXT NOT NULL CHECK (kind IN ('balance', 'credit', 'receivables', 'revenue', 'vat_payable', 'payment_clearing')),
    currency      TEXT NOT NULL CHECK (length(currency) = 3 AND upper(currency) = currency),
    balance_floor BIGINT CHECK (balance_floor <= 0), -- NULL: unbounded below
    balance       BIGINT NOT NULL DEFAULT 0,
    seq           BIGINT NOT NULL DEFAULT 0 CHECK (seq >= 0), -- postings so far = last posting's seq
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (owner, kind, currency),
    UNIQUE (id, currency),                 -- target of the postings' (account, currency) reference
    CHECK (owner <> '' OR kind IN ('revenue', 'vat_payable', 'payment_clearing')),
    CHECK (balance_floor IS NULL OR balance >= balance_floor)
);

CREATE TABLE ledger_transactions (
    id              TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    request_hash    TEXT NOT NULL,         -- SHA-256 of the canonical request, to tell a replay from a different body
    description     TEXT NOT NULL DEFAULT '',
    metadata        TEXT NOT NULL DEFAULT '{}', -- JSON object of strings
    created_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE ledger_postings (
    transaction_id TEXT NOT NULL REFERENCES ledger_transactions (id),
    account_id     TEXT NOT NULL,
    currency       TEXT NOT NULL,
    amount         BIGINT NOT NULL CHECK (amount <> 0),
    seq            BIGINT NOT NULL CHECK (seq >= 1), -- the account's posting number: 1, 2, 3 … without gaps
    balance_after  BIGINT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, seq),
    UNIQUE (transaction_id, account_id),
    FOREIGN KEY (account_id, currency) REFERENCES ledger_accounts (id, currency)
);

-- +goose Down
DROP TABLE ledger_postings;
DROP TABLE ledger_transactions;
DROP TABLE ledger_accounts;
