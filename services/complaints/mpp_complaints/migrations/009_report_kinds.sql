-- Three kinds of reports (SP4N-LAPOR!): aspirasi (a suggestion), pengaduan
-- (a complaint, the default of every report filed before kinds existed) and
-- permintaan_informasi (a request for public information, UU 14/2008, with
-- one extension of its answer deadline, given with a reason). An answered
-- aspiration or request for information may be published, with its asker's
-- consent, as a question and answer free of personal data.
ALTER TABLE complaints
    ADD COLUMN kind                 text        NOT NULL DEFAULT 'pengaduan'
        CHECK (kind IN ('aspirasi', 'pengaduan', 'permintaan_informasi')),
    ADD COLUMN extended_at          timestamptz,
    ADD COLUMN extension_reason     text,
    ADD COLUMN publication_consent  boolean     NOT NULL DEFAULT false,
    ADD COLUMN consent_given_by     text,
    ADD COLUMN consent_note         text,
    ADD COLUMN consent_recorded_at  timestamptz;
CREATE INDEX complaints_kind_status ON complaints (kind, status);

-- The public questions and answers: texts written by an officer (checked
-- free of personal data), one per report; withdrawn ones are kept, unlisted.
CREATE TABLE published_answers (
    id              uuid        PRIMARY KEY,
    complaint_id    uuid        NOT NULL UNIQUE REFERENCES complaints (id),
    kind            text        NOT NULL,
    question        text        NOT NULL,
    answer          text        NOT NULL,
    opd             text,
    published_by    text        NOT NULL,
    published_at    timestamptz NOT NULL,
    withdrawn_at    timestamptz,
    search          tsvector    GENERATED ALWAYS AS (
        to_tsvector('simple', question || ' ' || answer)
    ) STORED
);
CREATE INDEX published_answers_search ON published_answers USING GIN (search)
    WHERE withdrawn_at IS NULL;
CREATE INDEX published_answers_listed ON published_answers (published_at DESC)
    WHERE withdrawn_at IS NULL;
