-- Wake the relay when outbox rows commit: one notification per inserting
-- statement, delivered at commit, instead of an extra round trip per event.
CREATE FUNCTION outbox_wake_relay() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('mpp_outbox', '');
    RETURN NULL;
END $$;

CREATE TRIGGER outbox_wake_relay
    AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_wake_relay();
