-- Erasure of the reporter when a complaint's retention period has passed
-- (mpp_complaints/store/retention.py): the complaint keeps its code,
-- category, OPD, states, dates, rating and counts (every report still adds
-- up); the reporter's contact and its blind indexes, the description and the
-- free-text answers go, and this records when.
ALTER TABLE complaints ADD COLUMN personal_data_erased_at timestamptz;

-- What the retention job looks at: ended complaints not erased yet.
CREATE INDEX complaints_retention ON complaints (status)
    WHERE personal_data_erased_at IS NULL AND status IN ('closed', 'rejected');
