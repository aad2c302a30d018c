-- The delivery log pages by keyset (created_at, id), oldest first: without
-- this index its first page sorted the whole log, and every later page too.
CREATE INDEX delivery_log_listing ON delivery_log (created_at, id);
-- The log searched by a citizen's tracking code (officers' lookups).
CREATE INDEX delivery_log_tracking_code ON delivery_log (tracking_code)
    WHERE tracking_code IS NOT NULL;
-- The journal's retention asks, per event, whether a webhook delivery of it
-- is still running: the unique (subscription_id, event_id) cannot answer by
-- event alone, so every sweep read all deliveries.
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);
