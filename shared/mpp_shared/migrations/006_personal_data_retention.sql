-- Erasure of personal data whose purpose is over (mpp_shared.retention): one
-- row per run of a service's retention job, or per erasure a supervisor
-- asked for one resident. It says what was erased when, never whom: counts
-- per data kind, no id of a record or a person.
CREATE TABLE retention_runs (
    id          bigserial   PRIMARY KEY,
    trigger     text        NOT NULL CHECK (trigger IN ('schedule', 'request')),
    request_id  uuid,                      -- the data-subject request, for 'request'
    started_at  timestamptz NOT NULL,      -- the service clock
    finished_at timestamptz,
    erased      jsonb       NOT NULL DEFAULT '{}',  -- {"<kind>": records erased}
    kept        int         NOT NULL DEFAULT 0,     -- records kept for now ('request')
    CHECK ((trigger = 'request') = (request_id IS NOT NULL))
);
CREATE INDEX retention_runs_started ON retention_runs (started_at DESC);
