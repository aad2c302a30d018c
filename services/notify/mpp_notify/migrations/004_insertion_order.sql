-- A citizen's messages are listed oldest first by created_at. One consumer
-- transaction may insert several of them (a partition's batch of events is
-- handled in one transaction), and now() is the same for the whole
-- transaction: the ties fell back to the random id, so messages could be
-- listed out of the order of their events. clock_timestamp() is the time of
-- each insert (one row per INSERT here). Only the default changes: no row is
-- rewritten. (Webhook deliveries keep now(): a redelivery inserts many rows
-- in one statement and the queue orders those ties by the event's time.)
ALTER TABLE delivery_log ALTER COLUMN created_at SET DEFAULT clock_timestamp();
