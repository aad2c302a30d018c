-- The supervisor's audit trail filtered by who acted or at which counter,
-- newest first (id DESC, read backwards): without these, a filter read the
-- whole trail.
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_counter ON audit_log (counter, id) WHERE counter IS NOT NULL;
