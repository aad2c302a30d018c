-- What complaints knows of a linked request's promise: its due date, whether
-- (and when) its SLA was breached, and when the document was picked up.
ALTER TABLE known_requests
    ADD COLUMN due_at           timestamptz,
    ADD COLUMN sla_breached_at  timestamptz,
    ADD COLUMN picked_up_at     timestamptz;

-- The Ombudsman's report reads complaints filed in a period.
CREATE INDEX complaints_created_at ON complaints (created_at);
