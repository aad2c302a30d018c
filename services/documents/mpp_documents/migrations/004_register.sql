-- Register of issued documents: a gapless number per (document type, office,
-- year) and a public verification code for every document produced.
--
-- Numbers: `register_counters` holds the last number given for each
-- (doc_type, office, year). Issuing increments it with
--   INSERT ... ON CONFLICT (doc_type, office, year) DO UPDATE SET last = last + 1 RETURNING last
-- inside the transaction that records the document, so a rolled-back issue
-- gives its number back and concurrent issues wait on the counter row: the
-- committed numbers of a series are 1..N, no gap, no duplicate.
-- Format and codes: mpp_documents/domain/register.py.
CREATE TABLE register_counters (
    doc_type  text NOT NULL,
    office    text NOT NULL,
    year      int  NOT NULL,
    last      int  NOT NULL CHECK (last >= 1),
    PRIMARY KEY (doc_type, office, year)
);

CREATE TABLE issued_documents (
    id                uuid        PRIMARY KEY,
    job_id            uuid        NOT NULL UNIQUE,  -- one document per production job
    application_id    uuid        NOT NULL,
    doc_type          text        NOT NULL,
    office            text        NOT NULL,
    year              int         NOT NULL,
    seq               int         NOT NULL CHECK (seq >= 1),
    number            text        NOT NULL UNIQUE,
    verification_code text        NOT NULL UNIQUE,
    holder_masked     text        NOT NULL,         -- masked name or NIK, never clear
    issued_at         timestamptz NOT NULL,
    revoked_at        timestamptz,
    revoked_by        text,
    revoke_reason     text,
    UNIQUE (doc_type, office, year, seq),
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL)),
    CHECK ((revoked_at IS NULL) = (revoke_reason IS NULL))
);
CREATE INDEX issued_documents_application ON issued_documents (application_id);
