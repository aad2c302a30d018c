-- The work queue's default order, overdue first: the overdue complaints and
-- then the others, each by the running step's deadline (soonest first, none
-- last), then the newest. Each part is read from this index in order and
-- pages by keyset after the last row shown, instead of sorting the queue.
CREATE INDEX complaints_queue_order
    ON complaints (step_due_at ASC NULLS LAST, created_at DESC, id DESC);
-- The retention sweep asks for ended complaints whose period started before
-- a moment (mpp_complaints.store.retention._ENDED, the same expression).
CREATE INDEX complaints_retention_ended
    ON complaints ((CASE WHEN status = 'closed' THEN coalesce(closed_at, updated_at) ELSE updated_at END))
    WHERE personal_data_erased_at IS NULL AND status IN ('closed', 'rejected');
