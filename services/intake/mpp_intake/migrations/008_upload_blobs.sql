-- Uploaded papers of online applications, when UPLOAD_STORAGE=postgres (the
-- embedded default; S3-compatible object storage otherwise). `data` is only
-- ever ciphertext: AES-GCM with the PII key, the key bound as associated data
-- (mpp_intake.store.file_storage.EncryptedFileStorage). Which application and
-- requirement a blob belongs to is kept by the application's own tables.
CREATE TABLE upload_blobs (
    key        text        PRIMARY KEY,
    data       bytea       NOT NULL,
    size       int         NOT NULL,
    stored_at  timestamptz NOT NULL DEFAULT now()
);
-- Ciphertext does not compress: store it out of line without trying.
ALTER TABLE upload_blobs ALTER COLUMN data SET STORAGE EXTERNAL;
