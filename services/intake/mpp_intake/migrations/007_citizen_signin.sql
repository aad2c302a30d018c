-- Citizen sign-in with a one-time code (the online application). A code is
-- kept only as a keyed hash bound to its request; NIK and phone encrypted,
-- found through their blind indexes (nik_index as applications.nik_index,
-- context "nik"; phone_index with context "phone").
CREATE TABLE citizen_signin_codes (
    id           uuid        PRIMARY KEY,
    nik_enc      bytea       NOT NULL,
    nik_index    bytea       NOT NULL,
    phone_enc    bytea       NOT NULL,
    phone_index  bytea       NOT NULL,
    channel      text        NOT NULL CHECK (channel IN ('sms', 'whatsapp')),
    language     text        NOT NULL CHECK (language IN ('id', 'en')),
    code_hash    bytea       NOT NULL,
    wrong_tries  int         NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    -- set when the code was exchanged for a session, ended by wrong tries,
    -- or replaced by a newer code for the same NIK and phone
    ended_at     timestamptz,
    end_reason   text        CHECK (end_reason IN ('used', 'wrong_tries', 'replaced'))
);
CREATE INDEX citizen_signin_codes_live ON citizen_signin_codes (nik_index, phone_index, created_at DESC);
CREATE INDEX citizen_signin_codes_expiry ON citizen_signin_codes (expires_at);

CREATE TABLE citizen_sessions (
    id           uuid        PRIMARY KEY,
    code_id      uuid        NOT NULL REFERENCES citizen_signin_codes (id),
    nik_enc      bytea       NOT NULL,
    nik_index    bytea       NOT NULL,
    phone_enc    bytea       NOT NULL,
    phone_index  bytea       NOT NULL,
    channel      text        NOT NULL CHECK (channel IN ('sms', 'whatsapp')),
    language     text        NOT NULL CHECK (language IN ('id', 'en')),
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    ended_at     timestamptz
);
CREATE INDEX citizen_sessions_nik ON citizen_sessions (nik_index);

-- Rate limits shared by every replica: one row per counted attempt, by
-- scope (code_nik, code_phone, code_address, exchange_address) and a keyed
-- hash of the NIK / phone / client address. Each code request also purges,
-- a small batch at a time, what has served its purpose: counts out of the
-- window, and sessions and codes that expired more than a day ago (they
-- hold an encrypted NIK and phone).
CREATE TABLE citizen_rate_events (
    scope  text        NOT NULL,
    key    bytea       NOT NULL,
    at     timestamptz NOT NULL
);
CREATE INDEX citizen_rate_events_key ON citizen_rate_events (scope, key, at);
CREATE INDEX citizen_rate_events_at ON citizen_rate_events (at);
CREATE INDEX citizen_sessions_expiry ON citizen_sessions (expires_at);
