-- The reporter's phone and e-mail as blind indexes (keyed hashes, contexts
-- "reporter-phone" and "reporter-email"), so that a resident's request to see
-- or correct their data finds the complaints they filed. New filings write
-- them; rows filed before are filled by `python -m mpp_complaints.rotate_keys`
-- (in batches, resumable: `reporter_indexed` says which rows are done).
ALTER TABLE complaints
    ADD COLUMN reporter_phone_index bytea,
    ADD COLUMN reporter_email_index bytea,
    ADD COLUMN reporter_indexed     boolean NOT NULL DEFAULT false;

-- Nothing to index where no contact was kept.
UPDATE complaints SET reporter_indexed = true WHERE reporter_enc IS NULL;

CREATE INDEX complaints_reporter_phone ON complaints (reporter_phone_index)
    WHERE reporter_phone_index IS NOT NULL;
CREATE INDEX complaints_reporter_email ON complaints (reporter_email_index)
    WHERE reporter_email_index IS NOT NULL;
CREATE INDEX complaints_reporter_not_indexed ON complaints (id) WHERE NOT reporter_indexed;
CREATE INDEX complaints_application ON complaints (application_id)
    WHERE application_id IS NOT NULL;
