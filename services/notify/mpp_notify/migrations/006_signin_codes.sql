-- One-time sign-in codes (mpp.citizen): the delivery log shows a redacted
-- body (`body`, what GET /v1/notifications answers); the real text, with the
-- code, is kept only encrypted here for the dispatcher, and dropped as soon
-- as the message leaves the waiting states (sent, delivered, dead, ...),
-- whichever code path moves it.
ALTER TABLE delivery_log ADD COLUMN secret_body_enc bytea;

CREATE FUNCTION delivery_log_drop_secret() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.secret_body_enc IS NOT NULL
       AND NEW.status NOT IN ('queued', 'held', 'sending', 'retrying') THEN
        NEW.secret_body_enc := NULL;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER delivery_log_drop_secret
    BEFORE UPDATE ON delivery_log
    FOR EACH ROW EXECUTE FUNCTION delivery_log_drop_secret();
