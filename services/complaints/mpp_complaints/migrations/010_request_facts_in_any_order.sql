-- A request's events come on three topics (applications, documents, sla), in
-- no order across them: a document's progress, a breach or a pickup may be
-- read before the submission that makes the request known (the consumer
-- was down while all of them were written, say). Such facts wait here, one
-- row per application, and are applied when the request becomes known.
-- Progress keeps the latest by the time the event happened (`progress_at`),
-- whatever the order the events are read in. Every application's first
-- event is its submission (or incompleteness), so a row waits for as long as
-- the consumer takes to read it; no personal data is kept here.
ALTER TABLE known_requests ADD COLUMN progress_at timestamptz;

CREATE TABLE request_facts_waiting (
    application_id  uuid        PRIMARY KEY,
    progress        text,
    progress_at     timestamptz,
    due_at          timestamptz,
    sla_breached_at timestamptz,
    picked_up_at    timestamptz,
    received_at     timestamptz NOT NULL DEFAULT now()
);
