-- The full production path: the promised moment, holds with their reason,
-- cancellation.
ALTER TABLE jobs
    ADD COLUMN due_at            timestamptz,
    ADD COLUMN held_from         text,
    ADD COLUMN hold_reason_code  text,
    ADD COLUMN hold_note         text,
    ADD COLUMN cancel_reason     text,
    ADD COLUMN document_number   text,
    ADD COLUMN verification_code text,
    ADD COLUMN holder_masked     text;

ALTER TABLE job_history
    ADD COLUMN note text;

CREATE INDEX jobs_pickup_point_state ON jobs (pickup_point, state);
