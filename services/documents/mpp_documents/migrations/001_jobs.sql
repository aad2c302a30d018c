-- Production jobs: one per verified application.
CREATE TABLE jobs (
    id              uuid        PRIMARY KEY,
    application_id  uuid        NOT NULL UNIQUE,
    tracking_code   text        NOT NULL,
    service_code    text        NOT NULL,
    state           text        NOT NULL,
    pickup_point    text,
    version         int         NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_state ON jobs (state);

CREATE TABLE job_history (
    id          bigserial   PRIMARY KEY,
    job_id      uuid        NOT NULL REFERENCES jobs (id),
    from_state  text,
    to_state    text        NOT NULL,
    actor       text        NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_history_job ON job_history (job_id, at);
