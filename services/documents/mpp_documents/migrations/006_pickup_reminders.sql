-- Pickup windows: when a job becomes ready for pickup, one timer per reminder
-- day (ready_at + N days) and one for the end of the window. `fired_at` is set
-- in the transaction that writes the event to the outbox, so each timer fires
-- exactly once however many schedulers run; `closed_at` is set when the
-- document is picked up or cancelled, and a closed timer never fires.
-- Scheduler and rules: mpp_documents/pickup_window.py.
CREATE TABLE pickup_timers (
    id              uuid        PRIMARY KEY,
    job_id          uuid        NOT NULL REFERENCES jobs (id),
    kind            text        NOT NULL CHECK (kind IN ('reminder', 'uncollected')),
    seq             int         NOT NULL,  -- the reminder's number (1, 2, ...); 0 for the window's end
    ready_at        timestamptz NOT NULL,
    fire_at         timestamptz NOT NULL,
    window_ends_at  timestamptz NOT NULL,
    fired_at        timestamptz,
    -- sent: its event is in the outbox; superseded: a later moment of the same
    -- window was due at once (after an outage), so only that one was sent.
    outcome         text        CHECK (outcome IN ('sent', 'superseded')),
    closed_at       timestamptz,           -- picked up or cancelled first
    close_reason    text,
    -- Trace context where the window opened; the fired events' spans link to it.
    traceparent     text,
    tracestate      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (job_id, kind, seq),
    CHECK ((kind = 'reminder') = (seq >= 1) AND seq >= 0),
    CHECK (fire_at <= window_ends_at),
    CHECK ((fired_at IS NULL) = (outcome IS NULL)),
    CHECK ((closed_at IS NULL) = (close_reason IS NULL)),
    CHECK (fired_at IS NULL OR closed_at IS NULL)
);

-- The scheduler scans only what is still to fire, in the order it comes due.
CREATE INDEX pickup_timers_pending ON pickup_timers (fire_at)
    WHERE fired_at IS NULL AND closed_at IS NULL;

-- The window ended with the document still waiting: the job stays
-- ready_for_pickup (it can still be handed over) and records when.
ALTER TABLE jobs
    ADD COLUMN uncollected_at timestamptz;
