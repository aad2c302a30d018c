-- The WhatsApp assistant and the providers' status reports.

-- One conversation per WhatsApp sender: the number only encrypted and as the
-- blind index notify uses for recipients (so a message's window is found
-- from its recipient_index). last_inbound_at opens the 24-hour
-- customer-service window; state and menu expire after the idle timeout.
CREATE TABLE wa_conversations (
    sender_index     bytea       PRIMARY KEY,
    sender_enc       bytea       NOT NULL,
    language         text        NOT NULL DEFAULT 'id',
    state            text        NOT NULL DEFAULT 'start',   -- start | menu | service
    menu             jsonb       NOT NULL DEFAULT '[]',      -- service codes by number shown
    last_inbound_at  timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Each inbound message once (WhatsApp retries webhooks): inserted in the
-- transaction that queues the reply.
CREATE TABLE wa_inbound_messages (
    message_id    text        PRIMARY KEY,
    sender_index  bytea       NOT NULL,
    kind          text        NOT NULL,   -- what the assistant did: menu | service | status | ...
    received_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX wa_inbound_sender ON wa_inbound_messages (sender_index, received_at);

-- Status reports of the providers (WhatsApp callbacks, SMS delivery
-- reports), kept by the provider's message id: one that arrives before the
-- send's outcome is recorded is applied when it is.
CREATE TABLE provider_status_reports (
    id                   bigserial   PRIMARY KEY,
    provider             text        NOT NULL,
    provider_message_id  text        NOT NULL,
    status               text        NOT NULL,   -- sent | delivered | read | failed
    reported_at          timestamptz NOT NULL,
    error                text,
    applied              boolean     NOT NULL DEFAULT false,
    received_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX provider_status_reports_message
    ON provider_status_reports (provider, provider_message_id);

-- A message handed to a provider that reports delivery is `sent` until the
-- report says delivered (or failed); read is noted beside delivered.
-- template: the approved WhatsApp template (name, language, parameters) sent
-- instead of the text when the 24-hour window is closed.
ALTER TABLE delivery_log
    ADD COLUMN sent_at   timestamptz,
    ADD COLUMN read_at   timestamptz,
    ADD COLUMN template  jsonb;
CREATE INDEX delivery_log_provider_message ON delivery_log (provider_message_id)
    WHERE provider_message_id IS NOT NULL;
