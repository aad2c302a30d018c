"""SQL of a resident's requests about their data in documents: the production
jobs of their applications (found by application id, or by intake's keyed
hash of the holder's NIK), their history and SLA clocks, the pickup timers,
and the register's entries of the documents issued to them. Read only: the
register keeps its numbers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg

JOBS = """
SELECT * FROM jobs WHERE application_id = ANY($1::uuid[]) OR holder_nik_check = ANY($2::text[])
ORDER BY created_at, id
"""
HISTORY = "SELECT * FROM job_history WHERE job_id = ANY($1::uuid[]) ORDER BY job_id, at, id"
CLOCKS = "SELECT * FROM sla_clocks WHERE subject_id = ANY($1::uuid[]) ORDER BY started_at, id"
TIMERS = "SELECT * FROM pickup_timers WHERE job_id = ANY($1::uuid[]) ORDER BY job_id, fire_at"
ISSUED = """
SELECT * FROM issued_documents WHERE job_id = ANY($1::uuid[]) OR application_id = ANY($2::uuid[])
ORDER BY issued_at, id
"""


async def jobs(
    conn: asyncpg.Connection, application_ids: Sequence[uuid.UUID], nik_checks: Sequence[str]
) -> list[asyncpg.Record]:
    return list(await conn.fetch(JOBS, list(application_ids), list(nik_checks)))


async def of_jobs(
    conn: asyncpg.Connection, job_ids: Sequence[uuid.UUID]
) -> dict[str, list[asyncpg.Record]]:
    """The history, SLA clocks and pickup timers of these jobs, by kind."""
    ids = list(job_ids)
    return {
        "job_history": list(await conn.fetch(HISTORY, ids)),
        "sla_clock": list(await conn.fetch(CLOCKS, ids)),
        "pickup_timer": list(await conn.fetch(TIMERS, ids)),
    }


async def issued(
    conn: asyncpg.Connection, job_ids: Sequence[uuid.UUID], application_ids: Sequence[uuid.UUID]
) -> list[asyncpg.Record]:
    return list(await conn.fetch(ISSUED, list(job_ids), list(application_ids)))
