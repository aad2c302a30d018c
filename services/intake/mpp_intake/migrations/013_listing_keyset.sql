-- The officers' list of applications pages by keyset (created_at, id),
-- newest first: the next page is an index range scan after the last row of
-- the previous one, as cheap at page 1 000 as at page 1. The same index
-- serves the list's count without filters (an index-only scan).
CREATE INDEX applications_newest ON applications (created_at DESC, id DESC);
