-- Erasure of the holder when a job's retention period has passed
-- (mpp_documents/store/retention.py): the job keeps its ids, states, dates,
-- codes and number; the NIK check, masked names, the authority letter's
-- reference and the free-text notes go, and this records when. The register
-- of issued documents is not touched: its numbers stay gapless.
ALTER TABLE jobs ADD COLUMN personal_data_erased_at timestamptz;

-- What the retention job looks at: ended jobs whose holder is not erased yet.
CREATE INDEX jobs_retention ON jobs (state)
    WHERE personal_data_erased_at IS NULL AND (state IN ('picked_up', 'cancelled')
                                               OR uncollected_at IS NOT NULL);
