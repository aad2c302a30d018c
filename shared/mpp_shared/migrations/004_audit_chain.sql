-- Tamper-evident audit trail (mpp_shared.audit_chain): each entry is chained
-- to the one sealed before it, and signed checkpoints pin the chain's head.
-- Entries are inserted unsealed (these columns NULL) in the action's own
-- transaction; the sealer fills them afterwards, in the order it seals them.
-- Existing entries are sealed by the sealer like new ones.
ALTER TABLE audit_log
    ADD COLUMN position         bigint,      -- 1, 2, 3 ... in sealing order (not the id)
    ADD COLUMN detail_digest    bytea,       -- SHA-256 of the canonical detail
    ADD COLUMN prev_hash        bytea,       -- hash of the entry at position - 1 (32 zero bytes at 1)
    ADD COLUMN hash             bytea,       -- SHA-256 of the canonical entry
    ADD COLUMN sealed_at        timestamptz,
    -- The audited erasure (its audit_log id) that emptied `detail`; the digest stays.
    ADD COLUMN detail_erased_by bigint;

CREATE UNIQUE INDEX audit_log_position ON audit_log (position);
-- What the sealer reads: the few entries not sealed yet.
CREATE INDEX audit_log_unsealed ON audit_log (id) WHERE position IS NULL;

CREATE TABLE audit_checkpoint (
    position  bigint      PRIMARY KEY,  -- the chain's head when signed
    hash      bytea       NOT NULL,     -- the hash of the entry at `position`
    service   text        NOT NULL,
    signed_at timestamptz NOT NULL,
    key_id    text        NOT NULL,     -- first 16 hex digits of SHA-256(public key)
    signature bytea       NOT NULL      -- Ed25519 over the canonical checkpoint
);

-- Still append-only, with the two changes the chain itself needs: sealing an
-- unsealed entry (only the chain columns are set), and erasing the detail of
-- a sealed entry through an audited erasure (only `detail` and
-- `detail_erased_by` change, the digest stays). The verifier catches any
-- other change made by someone who can bypass this trigger.
DROP TRIGGER audit_log_append_only ON audit_log;

CREATE TRIGGER audit_log_append_only
    BEFORE DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();

CREATE FUNCTION audit_log_seal_or_erase_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (OLD.id, OLD.at, OLD.actor, OLD.roles, OLD.counter, OLD.action, OLD.target_type,
        OLD.target_id) IS DISTINCT FROM
       (NEW.id, NEW.at, NEW.actor, NEW.roles, NEW.counter, NEW.action, NEW.target_type,
        NEW.target_id) THEN
        RAISE EXCEPTION 'audit_log is append-only';
    END IF;
    IF OLD.position IS NULL AND NEW.position IS NOT NULL AND NEW.hash IS NOT NULL
       AND OLD.detail IS NOT DISTINCT FROM NEW.detail AND NEW.detail_erased_by IS NULL THEN
        RETURN NEW;  -- sealing
    END IF;
    IF OLD.position IS NOT NULL AND OLD.detail_erased_by IS NULL
       AND NEW.detail_erased_by IS NOT NULL
       AND (OLD.position, OLD.detail_digest, OLD.prev_hash, OLD.hash, OLD.sealed_at)
           IS NOT DISTINCT FROM
           (NEW.position, NEW.detail_digest, NEW.prev_hash, NEW.hash, NEW.sealed_at) THEN
        RETURN NEW;  -- an audited erasure of the detail
    END IF;
    RAISE EXCEPTION 'audit_log is append-only';
END $$;

CREATE TRIGGER audit_log_seal_or_erase_only
    BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_seal_or_erase_only();

CREATE FUNCTION audit_checkpoint_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_checkpoint is append-only';
END $$;

CREATE TRIGGER audit_checkpoint_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_checkpoint
    FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoint_is_append_only();
