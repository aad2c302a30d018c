"""The counts the SLA compliance and backlog reports read instead of the jobs
(migration 012): triggers on jobs append +1/-1 rows to `report_count_deltas`
whenever a job's SLA outcome, its day, service or point, or its uncollected
mark changes; `compact` folds them into `sla_daily` (per WIB day, service and
point) and `uncollected_counts` (per service and point).

Appending never waits for another writer, and folding is safe with any number
of instances at once: the deltas are deleted and added in one statement, and a
delta another fold already took is no longer there to delete. Reports add the
rows still in the deltas, so they are exact between folds.
"""

from __future__ import annotations

import asyncpg

from mpp_shared.kept_counts import FOLD_BATCH, taken

COMPACT_SQL = f"""
WITH {taken("report_count_deltas")}, days AS (
    INSERT INTO sla_daily AS d (day, service_code, pickup_point, cancelled, no_promise, on_time, late)
    SELECT day, service_code, pickup_point, sum(cancelled), sum(no_promise), sum(on_time), sum(late)
    FROM taken
    GROUP BY day, service_code, pickup_point
    HAVING sum(cancelled) <> 0 OR sum(no_promise) <> 0 OR sum(on_time) <> 0 OR sum(late) <> 0
    ORDER BY day, service_code, pickup_point
    ON CONFLICT (day, service_code, pickup_point) DO UPDATE SET
        cancelled = d.cancelled + excluded.cancelled,
        no_promise = d.no_promise + excluded.no_promise,
        on_time = d.on_time + excluded.on_time,
        late = d.late + excluded.late
), waiting AS (
    INSERT INTO uncollected_counts AS u (service_code, pickup_point, waiting)
    SELECT service_code, pickup_point, sum(uncollected)
    FROM taken
    GROUP BY service_code, pickup_point
    HAVING sum(uncollected) <> 0
    ORDER BY service_code, pickup_point
    ON CONFLICT (service_code, pickup_point) DO UPDATE SET waiting = u.waiting + excluded.waiting
)
SELECT count(*) FROM taken
"""


async def compact(db: asyncpg.Pool | asyncpg.Connection, batch: int = FOLD_BATCH) -> int:
    """Fold up to `batch` deltas; how many were folded."""
    return int(await db.fetchval(COMPACT_SQL, batch))
