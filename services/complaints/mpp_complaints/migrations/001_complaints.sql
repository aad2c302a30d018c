-- Complaints (pengaduan). Reporter contact is kept encrypted and only for
-- answering the reporter; an anonymous complaint hides it from the OPD.
CREATE TABLE complaints (
    id              uuid        PRIMARY KEY,
    complaint_code  text        NOT NULL UNIQUE,
    category        text        NOT NULL,
    description     text        NOT NULL,
    channel         text        NOT NULL,
    anonymous       boolean     NOT NULL DEFAULT false,
    status          text        NOT NULL,
    tracking_code   text,
    application_id  uuid,
    reporter_enc    bytea,
    language        text        NOT NULL DEFAULT 'id',
    version         int         NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX complaints_tracking_code ON complaints (tracking_code);

-- What complaints knows of the requests, learnt from application and
-- document events, so that a complaint can be linked to its request.
CREATE TABLE known_requests (
    tracking_code   text        PRIMARY KEY,
    application_id  uuid        NOT NULL UNIQUE,
    service_code    text        NOT NULL,
    progress        text        NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
