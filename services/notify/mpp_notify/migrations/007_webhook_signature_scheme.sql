-- How a subscription's deliveries are signed: mpp_v1 (X-MPP-Timestamp and
-- X-MPP-Signature, as before) or standard_webhooks (webhook-id,
-- webhook-timestamp, webhook-signature; www.standardwebhooks.com).
ALTER TABLE subscriptions
    ADD COLUMN signature_scheme text NOT NULL DEFAULT 'mpp_v1'
        CHECK (signature_scheme IN ('mpp_v1', 'standard_webhooks'));
