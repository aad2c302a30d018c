-- The jobs list by state, newest first, read from the index at any size (it
-- was every job in the state, sorted: every document ever left uncollected
-- for `ready_for_pickup`); and the newest jobs of all for the list unfiltered.
CREATE INDEX jobs_state_newest ON jobs (state, created_at DESC);
CREATE INDEX jobs_newest ON jobs (created_at DESC);
-- Every lookup by state alone is served by the first of these.
DROP INDEX jobs_state;
