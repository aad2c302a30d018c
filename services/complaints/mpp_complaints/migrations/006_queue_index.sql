-- The officers' work queue (GET /v1/complaints) lists complaints by status
-- (the open ones, as a rule), each status's running step's deadline soonest
-- first, then the newest; its per-status counts read the same index. The OPD
-- queue is served by complaints_opd_status, the overdue part by
-- complaints_open_step_due.
CREATE INDEX complaints_queue ON complaints (status, step_due_at ASC NULLS LAST, created_at DESC);
