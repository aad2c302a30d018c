-- The complaint lifecycle (SP4N-LAPOR!): a managed list of categories, each
-- with its responsible OPD and deadlines in working days; the lifecycle's
-- columns on complaints; and the timers of each step's deadline.
CREATE TABLE complaint_categories (
    code            text        PRIMARY KEY,
    name_id         text        NOT NULL,
    name_en         text        NOT NULL,
    opd             text        NOT NULL,
    verify_days     int         NOT NULL DEFAULT 3 CHECK (verify_days >= 1),
    followup_days   int         NOT NULL DEFAULT 5 CHECK (followup_days >= 1),
    close_days      int         NOT NULL DEFAULT 10 CHECK (close_days >= 1),
    active          boolean     NOT NULL DEFAULT true,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
INSERT INTO complaint_categories (code, name_id, name_en, opd) VALUES
    ('pelayanan', 'Kualitas pelayanan', 'Quality of service', 'DISDUKCAPIL'),
    ('keterlambatan', 'Dokumen terlambat', 'Late document', 'DISDUKCAPIL'),
    ('pungli', 'Pungutan liar', 'Illegal fee', 'INSPEKTORAT'),
    ('sikap_petugas', 'Sikap petugas', 'Officer conduct', 'INSPEKTORAT'),
    ('lainnya', 'Lainnya', 'Other', 'DPMPTSP');

ALTER TABLE complaints
    ADD COLUMN opd              text,
    ADD COLUMN step             text,
    ADD COLUMN step_due_at      timestamptz,
    ADD COLUMN response_text    text,
    ADD COLUMN rating           smallint CHECK (rating BETWEEN 1 AND 5),
    ADD COLUMN rating_comment   text,
    ADD COLUMN responded_at     timestamptz,
    ADD COLUMN closed_at        timestamptz,
    ADD COLUMN closed_by        text,
    ADD COLUMN reopen_count     int NOT NULL DEFAULT 0,
    ADD COLUMN rejection_reason text,
    ADD COLUMN rejection_note   text,
    ADD COLUMN duplicate_of     uuid REFERENCES complaints (id);
CREATE INDEX complaints_opd_status ON complaints (opd, status);

-- One row per step a complaint enters; fired (escalated, or closed for
-- auto_close) at most once, cancelled when the step ends first.
CREATE TABLE complaint_deadlines (
    id              uuid        PRIMARY KEY,
    complaint_id    uuid        NOT NULL REFERENCES complaints (id),
    step            text        NOT NULL,
    opd             text,
    started_at      timestamptz NOT NULL,
    due_at          timestamptz NOT NULL,
    fired_at        timestamptz,
    cancelled_at    timestamptz,
    traceparent     text,
    tracestate      text
);
CREATE INDEX complaint_deadlines_pending ON complaint_deadlines (due_at)
    WHERE fired_at IS NULL AND cancelled_at IS NULL;
CREATE INDEX complaint_deadlines_complaint ON complaint_deadlines (complaint_id);
-- At most one running step per complaint.
CREATE UNIQUE INDEX complaint_deadlines_one_open ON complaint_deadlines (complaint_id)
    WHERE fired_at IS NULL AND cancelled_at IS NULL;

-- Filed complaints without a step yet: the scheduler starts their
-- verification step (from created_at), whichever way they were filed.
CREATE INDEX complaints_unscheduled ON complaints (created_at)
    WHERE step IS NULL AND status IN ('received', 'verified');
