-- What the pickup desk needs: the holder's handover check, when the document
-- became ready and was collected, and by whom.
ALTER TABLE jobs
    ADD COLUMN holder_nik_check      text,
    ADD COLUMN ready_at              timestamptz,
    ADD COLUMN picked_up_at          timestamptz,
    ADD COLUMN collected_by          text,      -- holder | representative
    ADD COLUMN representative_masked text,
    ADD COLUMN authority_letter_ref  text;

CREATE INDEX jobs_service_due ON jobs (service_code, due_at);
