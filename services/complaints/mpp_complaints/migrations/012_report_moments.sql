-- The two moments the Ombudsman's report judges a complaint by
-- (mpp_complaints.domain.reports), kept on the complaint so the report reads
-- one index range of complaints instead of looking up each complaint's
-- deadlines twice (at 5 M applications, a year's report took a second):
--
-- - first_response_at: when its first auto-close step started (each
--   response starts one), else responded_at;
-- - followup_due_at: the due moment of its first follow-up step (for a
--   request for information: of its information step).
--
-- Triggers keep them: on complaint_deadlines (a step started, moved or
-- extended) and on complaints (responded_at or kind changed). Both compute
-- them with the functions below, from the rows as they are.

CREATE FUNCTION complaint_first_response(complaint uuid, responded timestamptz)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT min(d.started_at) FROM complaint_deadlines d
          WHERE d.complaint_id = complaint AND d.step = 'auto_close'),
        responded)
$$;

CREATE FUNCTION complaint_followup_due(complaint uuid, complaint_kind text)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT d.due_at FROM complaint_deadlines d
     WHERE d.complaint_id = complaint
       AND d.step = CASE WHEN complaint_kind = 'permintaan_informasi' THEN 'information'
                         ELSE 'follow_up' END
     ORDER BY d.started_at LIMIT 1
$$;

ALTER TABLE complaints
    ADD COLUMN first_response_at timestamptz,
    ADD COLUMN followup_due_at   timestamptz;

UPDATE complaints SET
    first_response_at = complaint_first_response(id, responded_at),
    followup_due_at = complaint_followup_due(id, kind)
WHERE responded_at IS NOT NULL
   OR EXISTS (SELECT 1 FROM complaint_deadlines d WHERE d.complaint_id = complaints.id);

CREATE FUNCTION complaints_report_moments() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.first_response_at := complaint_first_response(NEW.id, NEW.responded_at);
    NEW.followup_due_at := complaint_followup_due(NEW.id, NEW.kind);
    RETURN NEW;
END
$$;

CREATE TRIGGER complaints_report_moments_insert BEFORE INSERT ON complaints FOR EACH ROW
EXECUTE FUNCTION complaints_report_moments();

CREATE TRIGGER complaints_report_moments BEFORE UPDATE ON complaints FOR EACH ROW
WHEN (OLD.responded_at IS DISTINCT FROM NEW.responded_at OR OLD.kind IS DISTINCT FROM NEW.kind
      OR OLD.id IS DISTINCT FROM NEW.id)
EXECUTE FUNCTION complaints_report_moments();

CREATE FUNCTION complaint_deadlines_report_moments() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    d complaint_deadlines%ROWTYPE;
BEGIN
    IF TG_OP = 'DELETE' THEN
        d := OLD;
    ELSE
        d := NEW;
    END IF;
    -- Written only when a moment changes: a step that moves neither (most
    -- do not) neither writes nor locks the complaint.
    UPDATE complaints c SET
        first_response_at = complaint_first_response(c.id, c.responded_at),
        followup_due_at = complaint_followup_due(c.id, c.kind)
    WHERE c.id = d.complaint_id
      AND (c.first_response_at IS DISTINCT FROM complaint_first_response(c.id, c.responded_at)
           OR c.followup_due_at IS DISTINCT FROM complaint_followup_due(c.id, c.kind));
    IF TG_OP = 'UPDATE' AND OLD.complaint_id IS DISTINCT FROM NEW.complaint_id THEN
        UPDATE complaints c SET
            first_response_at = complaint_first_response(c.id, c.responded_at),
            followup_due_at = complaint_followup_due(c.id, c.kind)
        WHERE c.id = OLD.complaint_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER complaint_deadlines_report_moments_insert AFTER INSERT ON complaint_deadlines
FOR EACH ROW WHEN (NEW.step IN ('auto_close', 'follow_up', 'information'))
EXECUTE FUNCTION complaint_deadlines_report_moments();

CREATE TRIGGER complaint_deadlines_report_moments_update
AFTER UPDATE OF complaint_id, step, started_at, due_at ON complaint_deadlines FOR EACH ROW
WHEN (OLD.step IN ('auto_close', 'follow_up', 'information')
      OR NEW.step IN ('auto_close', 'follow_up', 'information'))
EXECUTE FUNCTION complaint_deadlines_report_moments();

CREATE TRIGGER complaint_deadlines_report_moments_delete AFTER DELETE ON complaint_deadlines
FOR EACH ROW WHEN (OLD.step IN ('auto_close', 'follow_up', 'information'))
EXECUTE FUNCTION complaint_deadlines_report_moments();

-- The report's range of complaints by filing, with everything it counts (an
-- index-only scan); it serves every other lookup by created_at as well.
CREATE INDEX complaints_report ON complaints (created_at)
    INCLUDE (kind, category, opd, status, rating, reopen_count, first_response_at,
             followup_due_at);
DROP INDEX complaints_created_at;
