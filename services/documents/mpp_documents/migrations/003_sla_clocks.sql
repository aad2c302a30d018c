-- SLA clocks of production jobs: when the work is due, when to warn, and
-- whether the warning and the breach were emitted. `warned_at` and
-- `breached_at` are set in the transaction that writes the event to the
-- outbox, so each fires exactly once however many schedulers run.
CREATE TABLE sla_clocks (
    id              uuid             PRIMARY KEY,
    subject_type    text             NOT NULL DEFAULT 'job',
    subject_id      uuid             NOT NULL,
    application_id  uuid,
    tracking_code   text,
    service_code    text,
    pickup_point    text,
    started_at      timestamptz      NOT NULL,
    due_at          timestamptz      NOT NULL,
    warn_share      double precision NOT NULL CHECK (warn_share >= 0 AND warn_share <= 1),
    warn_at         timestamptz      NOT NULL,
    warned_at       timestamptz,
    breached_at     timestamptz,
    stopped_at      timestamptz,     -- the job was picked up or cancelled
    stop_reason     text,
    -- Trace context where the clock started; the fired events' spans link to it.
    traceparent     text,
    tracestate      text,
    created_at      timestamptz      NOT NULL DEFAULT now(),
    UNIQUE (subject_type, subject_id),
    CHECK (warn_at <= due_at)
);

-- The scheduler scans only what is still to fire, in the order it comes due.
CREATE INDEX sla_clocks_warn_pending ON sla_clocks (warn_at)
    WHERE warned_at IS NULL AND stopped_at IS NULL;
CREATE INDEX sla_clocks_breach_pending ON sla_clocks (due_at)
    WHERE breached_at IS NULL AND stopped_at IS NULL;
