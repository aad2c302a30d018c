-- Who to tell about a request or complaint (contact encrypted at rest).
CREATE TABLE recipients (
    subject_type  text        NOT NULL,   -- application | complaint
    subject_id    uuid        NOT NULL,
    contact_enc   bytea       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subject_type, subject_id)
);

-- One row per message: at most one per event, channel and recipient.
CREATE TABLE delivery_log (
    id                 uuid        PRIMARY KEY,
    source_event_id    uuid        NOT NULL,
    source_event_type  text        NOT NULL,
    channel            text        NOT NULL,
    provider           text        NOT NULL,
    recipient_index    bytea       NOT NULL,
    recipient_masked   text        NOT NULL,
    language           text        NOT NULL,
    body               text        NOT NULL,
    status             text        NOT NULL,
    application_id     uuid,
    complaint_id       uuid,
    tracking_code      text,
    trace_id           text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source_event_id, channel, recipient_index)
);
CREATE INDEX delivery_log_application ON delivery_log (application_id);
CREATE INDEX delivery_log_complaint ON delivery_log (complaint_id);
