-- Indexes for the SLA compliance and backlog reports (mpp_documents/reports.py).
--
-- SLA compliance scans the jobs whose promise falls in a period: a range on
-- due_at for any service (jobs_service_due leads with service_code, so it
-- cannot serve that range), and, for jobs without a promise, a range on
-- created_at.
CREATE INDEX jobs_due_at ON jobs (due_at);
CREATE INDEX jobs_no_promise_created ON jobs (created_at) WHERE due_at IS NULL;

-- The backlog reads the open jobs only, which stay few while the table grows.
CREATE INDEX jobs_open_by_point ON jobs (pickup_point, state, created_at)
    WHERE state NOT IN ('picked_up', 'cancelled');
