-- Online applications: a signed-in resident's draft (one open draft per
-- resident and service), and the uploaded papers of drafts and applications.
-- A draft is the resident's own, found by the blind indexes of the NIK AND
-- the phone of the citizen session (never by the NIK alone).
CREATE TABLE online_drafts (
    id             uuid        PRIMARY KEY,
    nik_index      bytea       NOT NULL,
    phone_index    bytea       NOT NULL,
    service_code   text        NOT NULL,
    pickup_point   text,
    created_by     text        NOT NULL,   -- citizen:<session id>
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    application_id uuid        REFERENCES applications (id)  -- set once submitted
);
CREATE UNIQUE INDEX online_drafts_one_open
    ON online_drafts (nik_index, phone_index, service_code) WHERE application_id IS NULL;

-- One row per uploaded paper. The bytes live in the file storage
-- (upload_blobs or S3) under `storage_key`, encrypted; here only what the
-- verifier and the events need: the requirement, the paper's code, the type,
-- size and SHA-256 of what was stored.
--  - in a draft: draft_id set, application_id NULL, handed_in false;
--  - moved to the application at submission (application_id set);
--  - a corrected paper uploaded after a return stays handed_in = false until
--    the resubmission hands it in; the paper it replaces gets superseded_at;
--  - the pickup starts the retention (retention_from); UPLOAD_RETENTION_DAYS
--    later the blob is deleted and deleted_at recorded (the row stays,
--    without content).
CREATE TABLE application_files (
    id             uuid        PRIMARY KEY,
    draft_id       uuid        REFERENCES online_drafts (id),
    application_id uuid        REFERENCES applications (id),
    requirement    text        NOT NULL,
    document       text        NOT NULL,
    storage_key    text        NOT NULL UNIQUE,
    content_type   text        NOT NULL,
    size           int         NOT NULL,
    sha256         text        NOT NULL,
    pages          int,
    uploaded_by    text        NOT NULL,
    uploaded_at    timestamptz NOT NULL,
    handed_in      boolean     NOT NULL DEFAULT false,
    superseded_at  timestamptz,
    retention_from timestamptz,
    deleted_at     timestamptz,
    CHECK (draft_id IS NOT NULL OR application_id IS NOT NULL)
);
CREATE INDEX application_files_draft ON application_files (draft_id) WHERE draft_id IS NOT NULL;
CREATE INDEX application_files_application
    ON application_files (application_id) WHERE application_id IS NOT NULL;
CREATE INDEX application_files_retention
    ON application_files (retention_from) WHERE retention_from IS NOT NULL AND deleted_at IS NULL;
