-- A resident's requests about their data (export, correction, erasure), run
-- by a supervisor at intake. No personal data here: which resident is not
-- kept (the answer went to the supervisor), only who asked, when, why, and
-- what each service did ({"<service>": {"status": "done" | "unavailable",
-- "counts": {...}}}).
CREATE TABLE personal_data_requests (
    id            uuid        PRIMARY KEY,
    kind          text        NOT NULL CHECK (kind IN ('export', 'correction', 'erasure')),
    requested_by  text        NOT NULL,
    counter       text,
    requested_at  timestamptz NOT NULL,
    reason        text        NOT NULL,
    complete      boolean     NOT NULL,   -- every service answered
    outcome       jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX personal_data_requests_at ON personal_data_requests (requested_at DESC, id DESC);
