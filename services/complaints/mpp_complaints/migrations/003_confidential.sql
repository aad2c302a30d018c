-- A confidential complaint is never listed publicly (Open311 requests.json);
-- complaint officers still read it.
ALTER TABLE complaints ADD COLUMN confidential boolean NOT NULL DEFAULT false;
