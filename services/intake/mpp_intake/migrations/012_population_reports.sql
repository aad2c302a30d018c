-- The village's reports of births, deaths and moves: a desa officer reports
-- what happened; the report becomes the outreach entries of the documents the
-- family now needs. The applicant (the family member who will apply) is kept
-- like an outreach entry's resident (nik_enc / name_enc / phone_enc, NIK
-- blind index); the person it concerns and the KK number are encrypted too.
CREATE TABLE population_reports (
    id                     uuid        PRIMARY KEY,
    kind                   text        NOT NULL
        CHECK (kind IN ('birth', 'death', 'move_in', 'move_out')),
    desa_code              text        NOT NULL CHECK (desa_code ~ '^3506[0-9]{6}$'),
    kecamatan_code         text        GENERATED ALWAYS AS (left(desa_code, 6)) STORED,
    occurred_on            date        NOT NULL,
    kk_enc                 bytea,
    kk_masked              text        NOT NULL,
    subject_name_enc       bytea,
    subject_name_masked    text,
    subject_nik_enc        bytea,
    subject_nik_index      bytea,
    subject_nik_masked     text,
    nik_enc                bytea,
    nik_index              bytea,
    nik_masked             text        NOT NULL,
    name_enc               bytea,
    name_masked            text        NOT NULL,
    phone_enc              bytea,
    phone_masked           text,
    -- Requirement codes of the papers the family already holds.
    papers_held            text[]      NOT NULL DEFAULT '{}',
    note                   text,
    services               text[]      NOT NULL,
    reported_by            text        NOT NULL,
    counter                text,
    reported_at            timestamptz NOT NULL,
    -- Followed up (a visit recorded or an entry applied) by then, or escalated once.
    due_at                 timestamptz NOT NULL,
    followed_up_at         timestamptz,
    escalated_at           timestamptz,
    traceparent            text,
    tracestate             text,
    personal_data_erased_at timestamptz
);
CREATE INDEX population_reports_desa ON population_reports (desa_code, reported_at);
CREATE INDEX population_reports_kecamatan ON population_reports (kecamatan_code, occurred_on);
CREATE INDEX population_reports_nik ON population_reports (nik_index);
CREATE INDEX population_reports_subject_nik ON population_reports (subject_nik_index);
-- What the escalation scheduler looks at.
CREATE INDEX population_reports_due ON population_reports (due_at)
    WHERE followed_up_at IS NULL AND escalated_at IS NULL;
-- What the retention job looks at (a report is closed once followed up).
CREATE INDEX population_reports_retention ON population_reports (followed_up_at)
    WHERE personal_data_erased_at IS NULL AND followed_up_at IS NOT NULL;

-- An outreach entry comes from an uploaded list or from a report, never both.
ALTER TABLE outreach_entries
    ALTER COLUMN list_id DROP NOT NULL,
    ALTER COLUMN line DROP NOT NULL,
    ADD COLUMN report_id uuid REFERENCES population_reports (id),
    ADD COLUMN papers_held text[] NOT NULL DEFAULT '{}',
    ADD CONSTRAINT outreach_entries_one_origin CHECK ((list_id IS NULL) <> (report_id IS NULL));
CREATE INDEX outreach_entries_report ON outreach_entries (report_id);
-- Uploaded lists list a resident once per service while it is worked; a
-- report's entries are always created (twins, a second report).
DROP INDEX outreach_entries_one_workable_per_nik_and_service;
CREATE UNIQUE INDEX outreach_entries_one_workable_per_nik_and_service
    ON outreach_entries (nik_index, service_code)
    WHERE status IN ('open', 'visited', 'not_home') AND list_id IS NOT NULL;

-- The figures a kecamatan sent up to the regency for a month, frozen.
CREATE TABLE population_period_reports (
    id             uuid        PRIMARY KEY,
    kecamatan_code text        NOT NULL CHECK (kecamatan_code ~ '^3506[0-9]{2}$'),
    period         text        NOT NULL CHECK (period ~ '^[0-9]{4}-[0-9]{2}$'),
    -- [{"desa_code", "kind", "reported", "followed_up", "applied", "overdue", "escalated"}]
    figures        jsonb       NOT NULL,
    sent_by        text        NOT NULL,
    counter        text,
    sent_at        timestamptz NOT NULL,
    UNIQUE (kecamatan_code, period)
);
