-- Counts kept for the work queue (GET /v1/complaints), which answers on
-- every page how many complaints each status holds under the officer's
-- filters. Counting them from complaints read every complaint of the years
-- (closed ones included) on every page; the kept counts are a few hundred
-- rows, one per status, category, OPD, channel and kind.
--
-- Triggers on complaints append +1/-1 rows to complaint_queue_deltas: appends
-- only, so two officers moving complaints never wait for each other. The fold
-- (mpp_complaints.store.queue_counts) adds the deltas into
-- complaint_queue_counts; the queue adds the deltas not folded yet, so its
-- counts are exact whenever it runs. Which complaints are overdue depends on
-- the moment asked about, so that count still reads complaints: only the open
-- ones with a running deadline, from the partial index below.

CREATE TABLE complaint_queue_counts (
    status      text NOT NULL,
    category    text NOT NULL,
    opd         text,
    channel     text NOT NULL,
    kind        text NOT NULL,
    complaints  int  NOT NULL,
    UNIQUE NULLS NOT DISTINCT (status, category, opd, channel, kind)
);

-- One row per complaint counted in or out: `complaints` holds -1 or +1.
CREATE TABLE complaint_queue_deltas (
    id          bigserial PRIMARY KEY,
    status      text NOT NULL,
    category    text NOT NULL,
    opd         text,
    channel     text NOT NULL,
    kind        text NOT NULL,
    complaints  int  NOT NULL
);

CREATE FUNCTION complaints_queue_counts() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO complaint_queue_deltas (status, category, opd, channel, kind, complaints)
        VALUES (OLD.status, OLD.category, OLD.opd, OLD.channel, OLD.kind, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO complaint_queue_deltas (status, category, opd, channel, kind, complaints)
        VALUES (NEW.status, NEW.category, NEW.opd, NEW.channel, NEW.kind, 1);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER complaints_queue_counts_insert AFTER INSERT ON complaints FOR EACH ROW
EXECUTE FUNCTION complaints_queue_counts();

-- Only a change of what the queue counts by: not a deadline, a response, a
-- rating or personal data.
CREATE TRIGGER complaints_queue_counts_update AFTER UPDATE ON complaints FOR EACH ROW
WHEN (OLD.status IS DISTINCT FROM NEW.status
      OR OLD.category IS DISTINCT FROM NEW.category
      OR OLD.opd IS DISTINCT FROM NEW.opd
      OR OLD.channel IS DISTINCT FROM NEW.channel
      OR OLD.kind IS DISTINCT FROM NEW.kind)
EXECUTE FUNCTION complaints_queue_counts();

CREATE TRIGGER complaints_queue_counts_delete AFTER DELETE ON complaints FOR EACH ROW
EXECUTE FUNCTION complaints_queue_counts();

-- The complaints already there, counted once (the triggers above see every
-- change from here on: creating them waited for the writers of complaints).
INSERT INTO complaint_queue_counts (status, category, opd, channel, kind, complaints)
SELECT status, category, opd, channel, kind, count(*) FROM complaints
GROUP BY status, category, opd, channel, kind;

-- The overdue complaints, per status, under the queue's filters, and for the
-- gauge mpp.complaints.overdue: the open complaints whose step has a deadline
-- (mpp_complaints.store.queue.OVERDUE_WHERE), soonest deadline first. It
-- replaces complaints_open_step_due, which left out the information step a
-- request for information waits in, so the gauge could not use it.
CREATE INDEX complaints_overdue_candidates ON complaints (step_due_at)
    INCLUDE (status, category, opd, channel, kind)
    WHERE step IN ('verification', 'follow_up', 'information')
      AND status NOT IN ('closed', 'rejected');
DROP INDEX complaints_open_step_due;
