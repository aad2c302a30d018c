"""The moments the complaint report judges by, kept on each complaint by
triggers (complaints migration 012), on real PostgreSQL: after any sequence of
steps started, moved, extended, ended or removed, responses and changes of
kind, every complaint's kept moments equal what its deadlines say, computed
the way the report did before it kept them (looked up per complaint)."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from mpp_complaints.domain.reports import GroupBy
from mpp_complaints.store import reports

T0 = datetime(2026, 7, 1, tzinfo=UTC)
STEPS = ["verification", "follow_up", "auto_close", "information", "escalation"]
KINDS = ["pengaduan", "aspirasi", "permintaan_informasi"]

# The report's former per-complaint lookups: the reference.
MISMATCHES = """
SELECT c.id, c.first_response_at, c.followup_due_at, ref.first_response, ref.followup_due
FROM complaints c, LATERAL (
    SELECT COALESCE(
               (SELECT min(d.started_at) FROM complaint_deadlines d
                 WHERE d.complaint_id = c.id AND d.step = 'auto_close'),
               c.responded_at
           ) AS first_response,
           (SELECT d.due_at FROM complaint_deadlines d
             WHERE d.complaint_id = c.id
               AND d.step = CASE WHEN c.kind = 'permintaan_informasi' THEN 'information'
                                 ELSE 'follow_up' END
             ORDER BY d.started_at LIMIT 1) AS followup_due
) ref
WHERE c.first_response_at IS DISTINCT FROM ref.first_response
   OR c.followup_due_at IS DISTINCT FROM ref.followup_due
"""


def _at(rng: random.Random) -> datetime:
    return T0 + timedelta(minutes=rng.randrange(0, 30 * 24 * 60))


async def _complaint(conn: asyncpg.Connection, rng: random.Random) -> uuid.UUID:
    cid = uuid.uuid4()
    await conn.execute(
        "INSERT INTO complaints (id, complaint_code, category, description, channel, status, "
        "opd, created_at, updated_at, responded_at, kind) "
        "VALUES ($1, $2, 'pungli', 'dimintai uang', 'web', 'in_progress', 'INSPEKTORAT', "
        "$3, $3, $4, $5)",
        cid,
        "P" + cid.hex[:9].upper(),
        _at(rng),
        _at(rng) if rng.random() < 0.3 else None,
        rng.choice(KINDS),
    )
    return cid


async def _change(conn: asyncpg.Connection, rng: random.Random, ids: list[uuid.UUID]) -> None:
    cid = rng.choice(ids)
    what = rng.randrange(7)
    if what <= 1:
        started = _at(rng)
        await conn.execute(
            "INSERT INTO complaint_deadlines (id, complaint_id, step, started_at, due_at, "
            "cancelled_at) VALUES ($1, $2, $3, $4, $5, $4)",
            uuid.uuid4(),
            cid,
            rng.choice(STEPS),
            started,
            started + timedelta(days=5),
        )
    elif what == 2:
        await conn.execute(
            "UPDATE complaint_deadlines SET due_at = due_at + $2 WHERE complaint_id = $1",
            cid,
            timedelta(hours=rng.randrange(-48, 48)),
        )
    elif what == 3:
        await conn.execute(
            "UPDATE complaint_deadlines SET started_at = $2, step = $3 WHERE id = "
            "(SELECT id FROM complaint_deadlines WHERE complaint_id = $1 LIMIT 1)",
            cid,
            _at(rng),
            rng.choice(STEPS),
        )
    elif what == 4:
        await conn.execute(
            "DELETE FROM complaint_deadlines WHERE id = "
            "(SELECT id FROM complaint_deadlines WHERE complaint_id = $1 LIMIT 1)",
            cid,
        )
    elif what == 5:
        await conn.execute(
            "UPDATE complaints SET responded_at = $2, status = 'responded' WHERE id = $1",
            cid,
            _at(rng) if rng.random() < 0.8 else None,
        )
    else:
        await conn.execute("UPDATE complaints SET kind = $2 WHERE id = $1", cid, rng.choice(KINDS))


async def test_kept_moments_follow_every_change(complaints_pool: asyncpg.Pool) -> None:
    rng = random.Random(20261204)
    async with complaints_pool.acquire() as conn:
        ids = [await _complaint(conn, rng) for _ in range(120)]

    async def writer(seed: int) -> None:
        r = random.Random(seed)
        async with complaints_pool.acquire() as conn:
            for _ in range(150):
                async with conn.transaction():
                    # One complaint's changes at a time, as the service does
                    # (it holds the complaint while its steps change).
                    await _change(conn, r, ids)

    await asyncio.gather(*(writer(n) for n in range(3)))
    assert await complaints_pool.fetchval("SELECT count(*) FROM complaint_deadlines") > 100
    assert await complaints_pool.fetch(MISMATCHES) == []
    # The changes reached both moments, not only their defaults.
    assert (
        await complaints_pool.fetchval(
            "SELECT count(*) FROM complaints WHERE followup_due_at IS NOT NULL"
        )
        > 10
    )
    assert (
        await complaints_pool.fetchval(
            "SELECT count(*) FROM complaints WHERE first_response_at IS DISTINCT FROM responded_at"
        )
        > 10
    )

    async with complaints_pool.acquire() as conn:
        got = await reports.counts(
            conn,
            start=T0,
            end=T0 + timedelta(days=31),
            as_of=T0 + timedelta(days=15),
            group_by=GroupBy.CATEGORY,
        )
    assert sum(counts.complaints for _, _, counts, _ in got) == 120
