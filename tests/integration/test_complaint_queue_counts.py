"""The work queue's counts per status, kept by triggers (complaints migration
013, `mpp_complaints.store.queue_counts`), on real PostgreSQL: after any
sequence of complaints filed, moved, reassigned and deleted, from several
connections at once, with folds in between and beside them, the queue's
counts under every filter equal what counting every complaint answers (the
queue's former statement, kept here as the reference)."""

from __future__ import annotations

import asyncio
import random
import types
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import asyncpg

from mpp_complaints.domain.queue import STATUSES, QueueFilter
from mpp_complaints.store import queue, queue_counts
from mpp_complaints.usecases.queue import counts_fold_task
from mpp_shared.runtime import Runtime

NOW = datetime(2026, 7, 20, 10, tzinfo=UTC)
CATEGORIES = ["pungli", "pelayanan", "sarana"]
OPDS = ["DISDUKCAPIL", "INSPEKTORAT", None]
CHANNELS = ["web", "whatsapp", "counter"]
KINDS = ["pengaduan", "aspirasi", "permintaan_informasi"]
STEPS = ["verification", "follow_up", "auto_close", "information", None]

# Every filter the counts are asked under, each with and without `overdue`.
FILTERS = [
    QueueFilter(**narrowed, overdue=overdue)  # type: ignore[arg-type]
    for narrowed in (
        {},
        {"category": "pungli"},
        {"opd": "DISDUKCAPIL"},
        {"channel": "whatsapp"},
        {"kind": "permintaan_informasi"},
        {"opd": "INSPEKTORAT", "kind": "pengaduan", "category": "pelayanan"},
    )
    for overdue in (None, True, False)
]

# The queue's counts as they were before the kept counts: every complaint.
REFERENCE = """
SELECT status, count(*) AS complaints, count(*) FILTER (WHERE overdue) AS overdue
FROM (SELECT *, coalesce(step IN ('verification', 'follow_up', 'information')
                         AND status NOT IN ('closed', 'rejected') AND step_due_at < $1,
                         false) AS overdue
      FROM complaints) c
WHERE ($2::text IS NULL OR category = $2) AND ($3::text IS NULL OR opd = $3)
  AND ($4::text IS NULL OR channel = $4) AND ($5::text IS NULL OR kind = $5)
  AND ($6::boolean IS NULL OR overdue = $6)
GROUP BY status
"""


def _at(rng: random.Random) -> datetime:
    return NOW + timedelta(minutes=rng.randrange(-20 * 24 * 60, 20 * 24 * 60))


def _complaint(rng: random.Random) -> tuple[Any, ...]:
    cid = uuid.uuid4()
    return (
        cid,
        "P" + cid.hex[:9].upper(),
        rng.choice(CATEGORIES),
        rng.choice(CHANNELS),
        rng.choice(STATUSES),
        rng.choice(OPDS),
        rng.choice(KINDS),
        rng.choice(STEPS),
        None if rng.random() < 0.1 else _at(rng),
    )


INSERT = (
    "INSERT INTO complaints (id, complaint_code, category, description, channel, status, opd,"
    " kind, step, step_due_at) VALUES ($1, $2, $3, 'dimintai uang', $4, $5, $6, $7, $8, $9)"
)

# Every change a complaint can go through, and some no code path makes
# (changing its channel or kind, deleting it), which the counts must follow
# all the same; the last two change nothing counted, as a response, a
# rating or an erasure do. Each: the statement on complaint $1 and its other
# arguments.
CHANGES: list[tuple[str, Callable[[random.Random], tuple[Any, ...]]]] = [
    ("UPDATE complaints SET status = $2 WHERE id = $1", lambda r: (r.choice(STATUSES),)),
    ("UPDATE complaints SET opd = $2 WHERE id = $1", lambda r: (r.choice(OPDS),)),
    ("UPDATE complaints SET category = $2 WHERE id = $1", lambda r: (r.choice(CATEGORIES),)),
    ("UPDATE complaints SET channel = $2 WHERE id = $1", lambda r: (r.choice(CHANNELS),)),
    ("UPDATE complaints SET kind = $2 WHERE id = $1", lambda r: (r.choice(KINDS),)),
    (
        "UPDATE complaints SET status = $2, opd = $3 WHERE id = $1",
        lambda r: (r.choice(STATUSES), r.choice(OPDS)),
    ),
    ("DELETE FROM complaints WHERE id = $1", lambda r: ()),
    (
        "UPDATE complaints SET step = $2, step_due_at = $3 WHERE id = $1",
        lambda r: (r.choice(STEPS), _at(r)),
    ),
    ("UPDATE complaints SET version = version + 1 WHERE id = $1", lambda r: ()),
]


async def _assert_counts_exact(pool: asyncpg.Pool) -> None:
    for wanted in FILTERS:
        expected = {
            r["status"]: (r["complaints"], r["overdue"])
            for r in await pool.fetch(
                REFERENCE,
                NOW,
                wanted.category,
                wanted.opd,
                wanted.channel,
                wanted.kind,
                wanted.overdue,
            )
        }
        async with pool.acquire() as conn:
            rows = await queue.counts(conn, wanted, now=NOW)
        got = {r["status"]: (r["complaints"], r["overdue"]) for r in rows if r["complaints"] != 0}
        assert got == expected, wanted


async def test_queue_counts_from_kept_counts_equal_counting_every_complaint(
    complaints_pool: asyncpg.Pool,
) -> None:
    rng = random.Random(20261205)
    complaints = [_complaint(rng) for _ in range(300)]
    await complaints_pool.executemany(INSERT, complaints)
    ids = [c[0] for c in complaints]
    await _assert_counts_exact(complaints_pool)  # nothing folded yet

    async def writer(seed: int) -> None:
        r = random.Random(seed)
        async with complaints_pool.acquire() as conn:
            for _ in range(120):
                async with conn.transaction():
                    for _ in range(r.randrange(1, 4)):
                        sql, arguments = r.choice(CHANGES)
                        await conn.execute(sql, r.choice(ids), *arguments(r))
                if r.random() < 0.1:
                    await conn.execute(INSERT, *_complaint(r))

    async def folder() -> None:
        for _ in range(15):
            await queue_counts.fold(complaints_pool, batch=rng.randrange(5, 200))
            await asyncio.sleep(0.005)

    for round_ in range(3):
        await asyncio.gather(*(writer(round_ * 10 + n) for n in range(3)), folder(), folder())
        await _assert_counts_exact(complaints_pool)  # some folded, some not
    while await queue_counts.fold(complaints_pool) > 0:
        pass
    assert await complaints_pool.fetchval("SELECT count(*) FROM complaint_queue_deltas") == 0
    await _assert_counts_exact(complaints_pool)  # everything folded


async def test_folds_at_once_count_each_delta_once(complaints_pool: asyncpg.Pool) -> None:
    rng = random.Random(7)
    await complaints_pool.executemany(INSERT, [_complaint(rng) for _ in range(400)])
    deltas = await complaints_pool.fetchval("SELECT count(*) FROM complaint_queue_deltas")
    assert deltas == 400

    async def fold_all() -> int:
        folded = 0
        while (n := await queue_counts.fold(complaints_pool, batch=37)) > 0:
            folded += n
        return folded

    assert sum(await asyncio.gather(*(fold_all() for _ in range(4)))) == deltas
    assert await complaints_pool.fetchval(
        "SELECT sum(complaints) FROM complaint_queue_counts"
    ) == len(await complaints_pool.fetch("SELECT id FROM complaints"))
    await _assert_counts_exact(complaints_pool)


async def test_the_service_folds_in_the_background(complaints_pool: asyncpg.Pool) -> None:
    rng = random.Random(11)
    await complaints_pool.executemany(INSERT, [_complaint(rng) for _ in range(50)])
    runtime = cast(Runtime, types.SimpleNamespace(pool=complaints_pool))
    task: asyncio.Future[None] = asyncio.ensure_future(counts_fold_task(0.05)(runtime))
    try:
        for _ in range(200):
            if await complaints_pool.fetchval("SELECT count(*) FROM complaint_queue_deltas") == 0:
                break
            await asyncio.sleep(0.05)
        assert await complaints_pool.fetchval("SELECT count(*) FROM complaint_queue_deltas") == 0
        assert await complaints_pool.fetchval("SELECT count(*) FROM complaint_queue_counts") > 0
    finally:
        task.cancel()
    await _assert_counts_exact(complaints_pool)
