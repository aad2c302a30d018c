-- Outreach lists ("jemput bola"): Dukcapil uploads the residents of a desa who
-- lack a document; the desa officer records visits and turns an entry into an
-- application. NIK, name and phone are stored encrypted, the NIK found through
-- its blind index (the same keyed hash as applications.nik_index).
CREATE TABLE outreach_lists (
    id            uuid        PRIMARY KEY,
    name          text        NOT NULL,
    uploaded_by   text        NOT NULL,
    counter       text,
    uploaded_at   timestamptz NOT NULL DEFAULT now(),
    rows_total    int         NOT NULL,   -- data rows in the file
    rows_accepted int         NOT NULL,
    rows_rejected int         NOT NULL,
    -- [{"line", "field", "code", "message_id", "message_en", "nik_masked"}], by line
    rejected_rows jsonb       NOT NULL DEFAULT '[]'
);

CREATE TABLE outreach_entries (
    id             uuid        PRIMARY KEY,
    list_id        uuid        NOT NULL REFERENCES outreach_lists (id),
    line           int         NOT NULL,   -- in the uploaded file
    desa_code      text        NOT NULL CHECK (desa_code ~ '^3506[0-9]{6}$'),
    kecamatan_code text        GENERATED ALWAYS AS (left(desa_code, 6)) STORED,
    nik_enc        bytea       NOT NULL,
    nik_index      bytea       NOT NULL,
    nik_masked     text        NOT NULL,
    name_enc       bytea       NOT NULL,
    name_masked    text        NOT NULL,
    phone_enc      bytea,
    phone_masked   text,
    address        text,
    service_code   text        NOT NULL,   -- the missing document, a catalog service
    status         text        NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'visited', 'not_home', 'refused', 'moved', 'applied')),
    -- [{"outcome", "note", "by", "counter", "at"}], oldest first
    follow_ups     jsonb       NOT NULL DEFAULT '[]',
    application_id uuid        REFERENCES applications (id),
    tracking_code  text,
    version        int         NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'applied') = (application_id IS NOT NULL AND tracking_code IS NOT NULL))
);

-- The desa officer's worklist, and the supervisor's by kecamatan.
CREATE INDEX outreach_entries_desa ON outreach_entries (desa_code, status, created_at);
CREATE INDEX outreach_entries_kecamatan ON outreach_entries (kecamatan_code, status);
CREATE INDEX outreach_entries_list ON outreach_entries (list_id, line);
-- A resident is on one worklist per service while it is still being worked.
CREATE UNIQUE INDEX outreach_entries_one_workable_per_nik_and_service
    ON outreach_entries (nik_index, service_code)
    WHERE status IN ('open', 'visited', 'not_home');
