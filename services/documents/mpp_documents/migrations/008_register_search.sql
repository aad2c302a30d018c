-- The register searched by supervisors (GET /v1/documents) and the job's own
-- link to its register entry (the document's QR code is fetched by that id).
ALTER TABLE jobs
    ADD COLUMN document_id uuid;

-- Jobs produced before the column existed.
UPDATE jobs SET document_id = d.id
FROM issued_documents d
WHERE d.job_id = jobs.id AND jobs.document_id IS NULL;

-- Newest first, and a range of issue dates, with or without a document type.
CREATE INDEX issued_documents_issued ON issued_documents (issued_at DESC, id DESC);
CREATE INDEX issued_documents_type_issued ON issued_documents (doc_type, issued_at DESC);
