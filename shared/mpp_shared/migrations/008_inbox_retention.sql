-- The relay forgets handled events older than INBOX_RETENTION_HOURS, a batch
-- at a time; this finds them without reading the whole inbox. Parked events
-- stay (a redelivery must not park them twice; a replay handles them).
CREATE INDEX inbox_handled_at ON inbox (handled_at) WHERE outcome = 'handled';
