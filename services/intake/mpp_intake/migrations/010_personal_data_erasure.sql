-- Erasure of the person when a record's retention period has passed
-- (mpp_intake/store/retention.py): an application or outreach entry keeps
-- its ids, codes, states, dates, papers' metadata and counts; its NIK, name,
-- contacts (encrypted and as blind index), masks and free text go, and
-- `personal_data_erased_at` records when. A submitted draft loses its blind
-- indexes with its application.
ALTER TABLE applications
    ADD COLUMN personal_data_erased_at timestamptz,
    ALTER COLUMN nik_enc DROP NOT NULL,
    ALTER COLUMN nik_index DROP NOT NULL,
    ALTER COLUMN name_enc DROP NOT NULL;
ALTER TABLE outreach_entries
    ADD COLUMN personal_data_erased_at timestamptz,
    ALTER COLUMN nik_enc DROP NOT NULL,
    ALTER COLUMN nik_index DROP NOT NULL,
    ALTER COLUMN name_enc DROP NOT NULL;
ALTER TABLE online_drafts
    ALTER COLUMN nik_index DROP NOT NULL,
    ALTER COLUMN phone_index DROP NOT NULL;

-- What the retention job looks at: ended records whose person is not erased yet.
CREATE INDEX applications_retention ON applications (id)
    WHERE personal_data_erased_at IS NULL
      AND (status = 'rejected' OR progress IN ('picked_up', 'cancelled', 'uncollected'));
CREATE INDEX outreach_entries_retention ON outreach_entries (updated_at)
    WHERE personal_data_erased_at IS NULL AND status IN ('applied', 'refused', 'moved');
CREATE INDEX online_drafts_abandoned ON online_drafts (updated_at) WHERE application_id IS NULL;
