-- Applications know their catalog version, the documents handed in, what is
-- still missing, the verifier's checks, and the promised date. One active
-- application per NIK and service.
ALTER TABLE applications
    ADD COLUMN catalog_version   int         NOT NULL DEFAULT 1,
    ADD COLUMN documents         text[]      NOT NULL DEFAULT '{}',
    ADD COLUMN missing           jsonb       NOT NULL DEFAULT '[]',
    ADD COLUMN checks            jsonb       NOT NULL DEFAULT '[]',
    ADD COLUMN returned_items    jsonb       NOT NULL DEFAULT '[]',
    ADD COLUMN reason_codes      text[]      NOT NULL DEFAULT '{}',
    ADD COLUMN domicile_region   text,
    ADD COLUMN expected_ready_at timestamptz,
    ADD COLUMN active            boolean     NOT NULL DEFAULT true;

-- Applications that already ended (rejected, or handed over) are not active;
-- of older duplicates only the newest stays active, so the index can exist.
UPDATE applications SET active = false WHERE status = 'rejected' OR progress = 'picked_up';
UPDATE applications a SET active = false
WHERE a.active AND EXISTS (
    SELECT 1 FROM applications b
    WHERE b.active AND b.nik_index = a.nik_index AND b.service_code = a.service_code
      AND (b.created_at, b.id) > (a.created_at, a.id)
);

CREATE UNIQUE INDEX applications_one_active_per_nik_and_service
    ON applications (nik_index, service_code) WHERE active;
CREATE INDEX applications_listing ON applications (status, created_at DESC);
