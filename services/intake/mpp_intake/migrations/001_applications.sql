-- Applications for population documents. NIK, name and contacts are stored
-- encrypted; `nik_index` is the keyed hash used to find them.
CREATE TABLE applications (
    id                uuid        PRIMARY KEY,
    tracking_code     text        NOT NULL UNIQUE,
    service_code      text        NOT NULL,
    channel           text        NOT NULL,
    status            text        NOT NULL,   -- submitted | verified | rejected
    progress          text        NOT NULL,   -- the citizen-facing step, fed by document events too
    nik_enc           bytea       NOT NULL,
    nik_index         bytea       NOT NULL,
    nik_masked        text        NOT NULL,
    name_enc          bytea       NOT NULL,
    name_masked       text        NOT NULL,
    phone_enc         bytea,
    email_enc         bytea,
    language          text        NOT NULL DEFAULT 'id',
    preferred_channel text,
    pickup_point      text,
    decision_reason   text,
    submitted_by      text        NOT NULL,
    counter           text,
    version           int         NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX applications_nik_index ON applications (nik_index);

CREATE TABLE application_timeline (
    id              bigserial   PRIMARY KEY,
    application_id  uuid        NOT NULL REFERENCES applications (id),
    step            text        NOT NULL,
    at              timestamptz NOT NULL,
    pickup_point    text,
    source_event_id uuid        UNIQUE
);
CREATE INDEX application_timeline_application ON application_timeline (application_id, at);
