-- Why production of a citizen's document is held, shown on public tracking.
ALTER TABLE applications ADD COLUMN hold_reason jsonb;
