"""The counts kept for the SLA and backlog reports (documents migration 012,
`mpp_documents.store.report_counts`) on real PostgreSQL: after any sequence of
job changes, from several connections at once, with folds in between and
beside them, the reports answer exactly what counting every job answers (the
reports' former statements, kept here as the reference)."""

from __future__ import annotations

import asyncio
import random
import types
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, cast

import asyncpg
import pytest

from mpp_documents.domain.reports import ZONE, GroupBy, Period
from mpp_documents.store import report_counts
from mpp_documents.usecases.reports import backlog, report_counts_task, sla_report
from mpp_shared.kept_counts import fold_all
from mpp_shared.runtime import Runtime

POINTS = ["MPP-KEDIRI", "KEC-PARE", None]
SERVICES = ["ktp_el", "kk", "akta_kelahiran"]
STATES = [
    "queued",
    "in_production",
    "produced",
    "on_hold",
    "ready_for_pickup",
    "picked_up",
    "cancelled",
]
BASE = datetime(2026, 7, 1, tzinfo=ZONE)
AS_OF = datetime(2026, 7, 20, 10, tzinfo=ZONE)
PERIODS = [
    Period(date(2026, 7, 1), date(2026, 8, 1)),
    Period(date(2026, 7, 10), date(2026, 7, 11)),
    Period(date(2026, 6, 1), date(2026, 9, 1)),
]

# The SLA report as it was before the kept counts: every job of the period.
REFERENCE_SLA = """
WITH scoped AS (
    SELECT service_code, pickup_point, due_at,
           state = 'cancelled' AS cancelled,
           coalesce(ready_at, picked_up_at) AS ready
    FROM jobs
    WHERE (due_at >= $1 AND due_at < $2)
       OR (due_at IS NULL AND created_at >= $1 AND created_at < $2)
)
SELECT service_code, pickup_point,
       count(*) FILTER (WHERE cancelled) AS cancelled,
       count(*) FILTER (WHERE NOT cancelled AND due_at IS NULL) AS no_promise,
       count(*) FILTER (WHERE NOT cancelled AND ready <= due_at) AS closed_on_time,
       count(*) FILTER (WHERE NOT cancelled AND ready > due_at) AS closed_late,
       count(*) FILTER (WHERE NOT cancelled AND ready IS NULL AND due_at < $3) AS open_overdue,
       count(*) FILTER (WHERE NOT cancelled AND ready IS NULL AND due_at >= $3)
           AS open_not_yet_due,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM ready - due_at) / 3600)
           FILTER (WHERE NOT cancelled AND ready > due_at) AS late_median_hours
FROM scoped
GROUP BY service_code, pickup_point
"""
# The backlog as it was: every job neither picked up nor cancelled.
REFERENCE_BACKLOG = """
SELECT state, pickup_point, count(*) AS open,
       count(*) FILTER (WHERE coalesce(ready_at, picked_up_at) IS NULL AND due_at < $1) AS overdue,
       min(created_at) AS oldest
FROM jobs WHERE state NOT IN ('picked_up', 'cancelled')
GROUP BY state, pickup_point
"""


def _at(rng: random.Random) -> datetime:
    return BASE + timedelta(minutes=rng.randrange(-5 * 24 * 60, 40 * 24 * 60))


def _job(rng: random.Random) -> tuple[Any, ...]:
    state = rng.choice(STATES)
    due = None if rng.random() < 0.1 else _at(rng)
    ready = _at(rng) if state in ("ready_for_pickup", "picked_up") or rng.random() < 0.1 else None
    picked = _at(rng) if state == "picked_up" else None
    uncollected = _at(rng) if state == "ready_for_pickup" and rng.random() < 0.5 else None
    return (
        uuid.uuid4(),
        uuid.uuid4(),
        rng.choice(SERVICES),
        state,
        rng.choice(POINTS),
        due,
        ready,
        picked,
        uncollected,
        _at(rng),
    )


INSERT = (
    "INSERT INTO jobs (id, application_id, tracking_code, service_code, state, pickup_point,"
    " due_at, ready_at, picked_up_at, uncollected_at, created_at, updated_at)"
    " VALUES ($1, $2, 'T', $3, $4, $5, $6, $7, $8, $9, $10, $10)"
)


# Every change a job can go through, and some no code path makes (moving a
# promise or a point, going back a step, deleting), which the counts must
# follow all the same; the last one changes nothing counted, as the
# production steps do. Each: the statement on job $1 and its other arguments.
CHANGES: list[tuple[str, Callable[[random.Random], tuple[Any, ...]]]] = [
    ("UPDATE jobs SET state = 'cancelled' WHERE id = $1", lambda r: ()),
    (
        "UPDATE jobs SET state = 'ready_for_pickup', ready_at = $2 WHERE id = $1",
        lambda r: (_at(r),),
    ),
    ("UPDATE jobs SET state = 'picked_up', picked_up_at = $2 WHERE id = $1", lambda r: (_at(r),)),
    (
        "UPDATE jobs SET uncollected_at = $2 WHERE id = $1 AND state = 'ready_for_pickup'",
        lambda r: (_at(r),),
    ),
    ("UPDATE jobs SET due_at = $2 WHERE id = $1", lambda r: (_at(r),)),
    ("UPDATE jobs SET pickup_point = $2 WHERE id = $1", lambda r: (r.choice(POINTS),)),
    ("DELETE FROM jobs WHERE id = $1", lambda r: ()),
    (
        "UPDATE jobs SET state = $2, ready_at = NULL, picked_up_at = NULL WHERE id = $1",
        lambda r: (r.choice(["queued", "in_production", "on_hold"]),),
    ),
    ("UPDATE jobs SET version = version + 1 WHERE id = $1", lambda r: ()),
]


async def _change(conn: asyncpg.Connection, rng: random.Random, job_id: uuid.UUID) -> None:
    sql, arguments = rng.choice(CHANGES)
    await conn.execute(sql, job_id, *arguments(rng))


async def _assert_reports_exact(pool: asyncpg.Pool) -> None:
    for period in PERIODS:
        expected = {
            (r["service_code"], r["pickup_point"]): (
                r["closed_on_time"],
                r["closed_late"],
                r["open_overdue"],
                r["open_not_yet_due"],
                r["cancelled"],
                r["no_promise"],
                r["late_median_hours"],
            )
            for r in await pool.fetch(REFERENCE_SLA, period.start, period.end, AS_OF)
        }
        report = await sla_report(pool, period=period, as_of=AS_OF, group_by=GroupBy.SERVICE_POINT)
        got = {
            (line.service_code, line.pickup_point): (
                line.counts.closed_on_time,
                line.counts.closed_late,
                line.counts.open_overdue,
                line.counts.open_not_yet_due,
                line.counts.cancelled,
                line.counts.no_promise,
                line.lateness.median_hours,
            )
            for line in report.lines
        }
        assert set(got) == set(expected), period
        for key, (*counts, median) in expected.items():
            assert list(got[key][:-1]) == counts, (period, key)
            assert got[key][-1] == (None if median is None else pytest.approx(median, abs=0.01))
    expected_backlog = {
        (r["state"], r["pickup_point"]): (r["open"], r["overdue"], r["oldest"])
        for r in await pool.fetch(REFERENCE_BACKLOG, AS_OF)
    }
    found = await backlog(pool, as_of=AS_OF)
    assert {
        (g.state, g.pickup_point): (g.open, g.overdue, g.oldest_created_at) for g in found.groups
    } == expected_backlog
    for point in POINTS[:2]:
        for service in SERVICES[:2]:
            narrowed = await backlog(pool, as_of=AS_OF, pickup_point=point, service_code=service)
            assert narrowed.totals.open == await pool.fetchval(
                "SELECT count(*) FROM jobs WHERE state NOT IN ('picked_up', 'cancelled')"
                " AND pickup_point = $1 AND service_code = $2",
                point,
                service,
            )


async def test_reports_from_kept_counts_equal_counting_every_job(
    documents_pool: asyncpg.Pool,
) -> None:
    rng = random.Random(20261204)
    jobs = [_job(rng) for _ in range(300)]
    await documents_pool.executemany(INSERT, jobs)
    ids = [job[0] for job in jobs]
    await _assert_reports_exact(documents_pool)  # nothing folded yet

    async def writer(seed: int) -> None:
        r = random.Random(seed)
        async with documents_pool.acquire() as conn:
            for _ in range(120):
                async with conn.transaction():
                    for _ in range(r.randrange(1, 4)):
                        await _change(conn, r, r.choice(ids))
                if r.random() < 0.1:
                    await conn.execute(INSERT, *_job(r))

    async def folder() -> None:
        for _ in range(15):
            await report_counts.compact(documents_pool, batch=rng.randrange(5, 200))
            await asyncio.sleep(0.005)

    for round_ in range(3):
        await asyncio.gather(*(writer(round_ * 10 + n) for n in range(3)), folder(), folder())
        await _assert_reports_exact(documents_pool)  # some folded, some not
    assert await fold_all(documents_pool, report_counts.compact) >= 0
    assert await documents_pool.fetchval("SELECT count(*) FROM report_count_deltas") == 0
    await _assert_reports_exact(documents_pool)  # everything folded


async def test_folds_at_once_count_each_delta_once(documents_pool: asyncpg.Pool) -> None:
    rng = random.Random(7)
    await documents_pool.executemany(INSERT, [_job(rng) for _ in range(400)])
    deltas = await documents_pool.fetchval("SELECT count(*) FROM report_count_deltas")
    assert deltas > 100
    folded = await asyncio.gather(
        *(fold_all(documents_pool, report_counts.compact, batch=37) for _ in range(4))
    )
    assert sum(folded) == deltas
    await _assert_reports_exact(documents_pool)


async def test_the_service_folds_in_the_background(documents_pool: asyncpg.Pool) -> None:
    rng = random.Random(11)
    await documents_pool.executemany(INSERT, [_job(rng) for _ in range(50)])
    assert await documents_pool.fetchval("SELECT count(*) FROM report_count_deltas") > 0
    runtime = cast(Runtime, types.SimpleNamespace(pool=documents_pool))
    task: asyncio.Future[None] = asyncio.ensure_future(report_counts_task(0.05)(runtime))
    try:
        for _ in range(200):
            if await documents_pool.fetchval("SELECT count(*) FROM report_count_deltas") == 0:
                break
            await asyncio.sleep(0.05)
        assert await documents_pool.fetchval("SELECT count(*) FROM report_count_deltas") == 0
        assert await documents_pool.fetchval("SELECT count(*) FROM sla_daily") > 0
    finally:
        task.cancel()
    await _assert_reports_exact(documents_pool)
