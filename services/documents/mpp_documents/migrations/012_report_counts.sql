-- Counts kept for the SLA compliance and backlog reports, so that a report
-- over a year, or a backlog holding years of uncollected documents, reads
-- a few hundred counter rows instead of every job (mpp_documents.store.reports).
--
-- A job's SLA outcome, once it has one, and whether it waits uncollected,
-- are written by triggers on jobs as +1/-1 rows to report_count_deltas:
-- appends only, so two transactions moving jobs of the same day, service and
-- point never wait for each other. The compaction (store.report_counts)
-- folds the deltas into sla_daily and uncollected_counts; a report adds the
-- deltas not folded yet, so it is exact whenever it runs.

-- The outcome the SLA report counts a job under; NULL while it is open (not
-- ready, not cancelled, with a promise). The rules of
-- mpp_documents.domain.reports, in one place for the triggers and the
-- partial indexes below.
CREATE FUNCTION sla_outcome(state text, due_at timestamptz, ready_at timestamptz,
                            picked_up_at timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN state = 'cancelled' THEN 'cancelled'
        WHEN due_at IS NULL THEN 'no_promise'
        WHEN coalesce(ready_at, picked_up_at) <= due_at THEN 'on_time'
        WHEN coalesce(ready_at, picked_up_at) > due_at THEN 'late'
    END
$$;

-- The WIB day a job falls in for the SLA report: its promise, or its creation
-- when it has none.
CREATE FUNCTION sla_day(due_at timestamptz, created_at timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (coalesce(due_at, created_at) AT TIME ZONE 'Asia/Jakarta')::date
$$;

-- Ready, its pickup window ended, still not handed over.
CREATE FUNCTION job_uncollected(state text, uncollected_at timestamptz) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT state = 'ready_for_pickup' AND uncollected_at IS NOT NULL
$$;

CREATE TABLE sla_daily (
    day            date NOT NULL,
    service_code   text NOT NULL,
    pickup_point   text,
    cancelled      int  NOT NULL,
    no_promise     int  NOT NULL,
    on_time        int  NOT NULL,
    late           int  NOT NULL,
    UNIQUE NULLS NOT DISTINCT (day, service_code, pickup_point)
);

CREATE TABLE uncollected_counts (
    service_code   text NOT NULL,
    pickup_point   text,
    waiting        int  NOT NULL,
    UNIQUE NULLS NOT DISTINCT (service_code, pickup_point)
);

-- One row per change of a job's outcome or uncollected mark: the columns
-- hold -1, 0 or +1.
CREATE TABLE report_count_deltas (
    id             bigserial PRIMARY KEY,
    day            date NOT NULL,
    service_code   text NOT NULL,
    pickup_point   text,
    cancelled      int  NOT NULL,
    no_promise     int  NOT NULL,
    on_time        int  NOT NULL,
    late           int  NOT NULL,
    uncollected    int  NOT NULL
);
CREATE INDEX report_count_deltas_day ON report_count_deltas (day);

CREATE FUNCTION jobs_report_counts() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    outcome text;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        outcome := sla_outcome(OLD.state, OLD.due_at, OLD.ready_at, OLD.picked_up_at);
        INSERT INTO report_count_deltas
            (day, service_code, pickup_point, cancelled, no_promise, on_time, late, uncollected)
        VALUES (sla_day(OLD.due_at, OLD.created_at), OLD.service_code, OLD.pickup_point,
                -(outcome IS NOT DISTINCT FROM 'cancelled')::int,
                -(outcome IS NOT DISTINCT FROM 'no_promise')::int,
                -(outcome IS NOT DISTINCT FROM 'on_time')::int,
                -(outcome IS NOT DISTINCT FROM 'late')::int,
                -job_uncollected(OLD.state, OLD.uncollected_at)::int);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        outcome := sla_outcome(NEW.state, NEW.due_at, NEW.ready_at, NEW.picked_up_at);
        INSERT INTO report_count_deltas
            (day, service_code, pickup_point, cancelled, no_promise, on_time, late, uncollected)
        VALUES (sla_day(NEW.due_at, NEW.created_at), NEW.service_code, NEW.pickup_point,
                (outcome IS NOT DISTINCT FROM 'cancelled')::int,
                (outcome IS NOT DISTINCT FROM 'no_promise')::int,
                (outcome IS NOT DISTINCT FROM 'on_time')::int,
                (outcome IS NOT DISTINCT FROM 'late')::int,
                job_uncollected(NEW.state, NEW.uncollected_at)::int);
    END IF;
    RETURN NULL;
END
$$;

-- The conditions keep the function from running on the many updates that
-- change nothing counted (production steps, SLA fields, personal data).
CREATE TRIGGER jobs_report_counts_insert AFTER INSERT ON jobs FOR EACH ROW
WHEN (sla_outcome(NEW.state, NEW.due_at, NEW.ready_at, NEW.picked_up_at) IS NOT NULL
      OR job_uncollected(NEW.state, NEW.uncollected_at))
EXECUTE FUNCTION jobs_report_counts();

CREATE TRIGGER jobs_report_counts_update AFTER UPDATE ON jobs FOR EACH ROW
WHEN ((sla_outcome(OLD.state, OLD.due_at, OLD.ready_at, OLD.picked_up_at) IS NOT NULL
       OR job_uncollected(OLD.state, OLD.uncollected_at)
       OR sla_outcome(NEW.state, NEW.due_at, NEW.ready_at, NEW.picked_up_at) IS NOT NULL
       OR job_uncollected(NEW.state, NEW.uncollected_at))
      AND (sla_outcome(OLD.state, OLD.due_at, OLD.ready_at, OLD.picked_up_at)
               IS DISTINCT FROM sla_outcome(NEW.state, NEW.due_at, NEW.ready_at, NEW.picked_up_at)
           OR job_uncollected(OLD.state, OLD.uncollected_at)
               IS DISTINCT FROM job_uncollected(NEW.state, NEW.uncollected_at)
           OR sla_day(OLD.due_at, OLD.created_at) IS DISTINCT FROM sla_day(NEW.due_at, NEW.created_at)
           OR OLD.service_code IS DISTINCT FROM NEW.service_code
           OR OLD.pickup_point IS DISTINCT FROM NEW.pickup_point))
EXECUTE FUNCTION jobs_report_counts();

CREATE TRIGGER jobs_report_counts_delete AFTER DELETE ON jobs FOR EACH ROW
WHEN (sla_outcome(OLD.state, OLD.due_at, OLD.ready_at, OLD.picked_up_at) IS NOT NULL
      OR job_uncollected(OLD.state, OLD.uncollected_at))
EXECUTE FUNCTION jobs_report_counts();

-- The jobs already there, counted once (the triggers above see every change
-- from here on: creating them waited for the writers of jobs).
INSERT INTO sla_daily (day, service_code, pickup_point, cancelled, no_promise, on_time, late)
SELECT sla_day(due_at, created_at), service_code, pickup_point,
       count(*) FILTER (WHERE o = 'cancelled'), count(*) FILTER (WHERE o = 'no_promise'),
       count(*) FILTER (WHERE o = 'on_time'), count(*) FILTER (WHERE o = 'late')
FROM (SELECT *, sla_outcome(state, due_at, ready_at, picked_up_at) AS o FROM jobs) j
WHERE o IS NOT NULL
GROUP BY 1, 2, 3;

INSERT INTO uncollected_counts (service_code, pickup_point, waiting)
SELECT service_code, pickup_point, count(*) FROM jobs
WHERE job_uncollected(state, uncollected_at)
GROUP BY 1, 2;

-- What the reports still read from jobs, each a small part of it: the SLA
-- report's open jobs and its late ones (their lateness, for the
-- percentiles), the backlog's jobs in production or in their pickup window,
-- and the oldest uncollected job per point and service.
CREATE INDEX jobs_sla_open ON jobs (due_at) INCLUDE (service_code, pickup_point)
    WHERE sla_outcome(state, due_at, ready_at, picked_up_at) IS NULL;
CREATE INDEX jobs_sla_late ON jobs (due_at)
    INCLUDE (service_code, pickup_point, ready_at, picked_up_at)
    WHERE sla_outcome(state, due_at, ready_at, picked_up_at) = 'late';
CREATE INDEX jobs_in_progress_by_point ON jobs (pickup_point, state, created_at)
    WHERE state NOT IN ('picked_up', 'cancelled') AND NOT job_uncollected(state, uncollected_at);
-- A job without a point is looked up as '' (an equality the index serves,
-- which IS NOT DISTINCT FROM is not).
CREATE INDEX jobs_uncollected_oldest ON jobs ((coalesce(pickup_point, '')), service_code, created_at)
    WHERE job_uncollected(state, uncollected_at);
DROP INDEX jobs_open_by_point;
