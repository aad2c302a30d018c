-- Rate limits every replica of a service shares (mpp_shared.ratelimit): one
-- row per (scope, key), a token bucket kept as its theoretical arrival time
-- (GCRA): `tat` is when the bucket would be full again. A row whose `tat`
-- has passed behaves as no row at all, so such rows are purged freely.
-- The key is an HMAC-SHA256 of the client address (or provider) under
-- `rate_limit_secret`, never the value in clear.
CREATE TABLE rate_limit_buckets (
    scope     text        NOT NULL,
    key_hash  bytea       NOT NULL,
    tat       timestamptz NOT NULL,
    -- the last take: its time and whether it was granted (RETURNING reads them)
    taken_at  timestamptz NOT NULL,
    granted   boolean     NOT NULL,
    PRIMARY KEY (scope, key_hash)
);
CREATE INDEX rate_limit_buckets_tat ON rate_limit_buckets (tat);

-- The key of those HMACs: 32 bytes from two random UUIDs (244 random bits),
-- made once per database, read once per limiter. Not a setting: it only has to be the same for every replica,
-- and replacing it merely forgets the buckets.
CREATE TABLE rate_limit_secret (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    secret   bytea   NOT NULL
);
INSERT INTO rate_limit_secret (secret)
VALUES (decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));
