-- The retention sweep asks for jobs whose period started before a moment,
-- the start computed per state (mpp_documents.store.retention._ENDED, the
-- same expression): indexed, the sweep reads the few jobs due instead of
-- every ended job not erased yet (years of them).
CREATE INDEX jobs_retention_ended ON jobs ((
CASE WHEN state = 'picked_up' THEN picked_up_at
     WHEN state = 'cancelled' THEN updated_at
     WHEN state = 'ready_for_pickup' THEN uncollected_at END
)) WHERE personal_data_erased_at IS NULL AND (state IN ('picked_up', 'cancelled')
                                             OR uncollected_at IS NOT NULL);
