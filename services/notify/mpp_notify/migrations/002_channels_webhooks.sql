-- Real channels: each message is queued, sent by the dispatcher with retries,
-- and ends delivered or dead. Status: queued | held (quiet hours) | sending |
-- retrying | delivered | dead.
ALTER TABLE delivery_log
    ADD COLUMN recipient_enc       bytea,            -- the address, encrypted, to send and resend
    ADD COLUMN subject             text,             -- e-mail subject line
    ADD COLUMN urgent              boolean     NOT NULL DEFAULT true,
    ADD COLUMN attempts            integer     NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at     timestamptz,
    ADD COLUMN lease_until         timestamptz,      -- a dispatcher is sending it until then
    ADD COLUMN provider_message_id text,
    ADD COLUMN last_error          text,
    ADD COLUMN delivered_at        timestamptz,
    ADD COLUMN dead_at             timestamptz,
    ADD COLUMN resends             integer     NOT NULL DEFAULT 0,
    ADD COLUMN updated_at          timestamptz NOT NULL DEFAULT now();
CREATE INDEX delivery_log_due ON delivery_log (next_attempt_at)
    WHERE status IN ('queued', 'held', 'sending', 'retrying');
CREATE INDEX delivery_log_recipient ON delivery_log (recipient_index, created_at);
CREATE INDEX delivery_log_status ON delivery_log (status, created_at);

-- Every try to hand a message or a webhook to the other side.
CREATE TABLE delivery_attempts (
    id                  bigserial   PRIMARY KEY,
    delivery_kind       text        NOT NULL,   -- message | webhook
    delivery_id         uuid        NOT NULL,
    attempt             integer     NOT NULL,
    started_at          timestamptz NOT NULL,
    finished_at         timestamptz,
    outcome             text        NOT NULL,   -- delivered | transient | permanent | interrupted
    status_code         integer,
    provider_message_id text,
    error               text
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, attempt);

-- Templates changed over the API; the shipped defaults live in the code.
CREATE TABLE message_templates (
    event_type   text        NOT NULL,
    channel      text        NOT NULL,   -- sms | whatsapp | email
    language     text        NOT NULL,   -- id | en
    subject      text,
    body         text        NOT NULL,
    version      integer     NOT NULL DEFAULT 1,
    updated_by   text        NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_type, channel, language)
);

-- Every domain event notify consumed, kept for webhook redelivery of a time range.
CREATE TABLE event_journal (
    event_id     uuid        PRIMARY KEY,
    event_type   text        NOT NULL,
    topic        text        NOT NULL,
    subject      text        NOT NULL,
    occurred_at  timestamptz NOT NULL,   -- the event's own time
    received_at  timestamptz NOT NULL DEFAULT now(),
    envelope     jsonb       NOT NULL    -- the CloudEvent as delivered to webhooks
);
CREATE INDEX event_journal_time ON event_journal (occurred_at);

-- OPD systems' webhook subscriptions.
CREATE TABLE subscriptions (
    id                    uuid        PRIMARY KEY,
    owner                 text        NOT NULL,   -- the opd_system client (token subject)
    url                   text        NOT NULL,
    event_types           text[]      NOT NULL,
    secret_enc            bytea       NOT NULL,
    description           text,
    status                text        NOT NULL DEFAULT 'active',   -- active | disabled
    consecutive_failures  integer     NOT NULL DEFAULT 0,
    disabled_at           timestamptz,
    disabled_reason       text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscriptions_owner ON subscriptions (owner);

-- One webhook delivery per subscription and event (plus explicit replays).
-- Status: pending | sending | retrying | delivered | dead.
CREATE TABLE webhook_deliveries (
    id                uuid        PRIMARY KEY,
    subscription_id   uuid        NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    event_id          uuid        NOT NULL REFERENCES event_journal (event_id),
    event_type        text        NOT NULL,
    replay            boolean     NOT NULL DEFAULT false,
    status            text        NOT NULL DEFAULT 'pending',
    attempts          integer     NOT NULL DEFAULT 0,
    next_attempt_at   timestamptz NOT NULL DEFAULT now(),
    lease_until       timestamptz,
    last_status_code  integer,
    last_error        text,
    delivered_at      timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries (subscription_id, event_id)
    WHERE NOT replay;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status IN ('pending', 'sending', 'retrying');
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, created_at);
