"""The scale benchmark's filler (tests.bench.scale) on a tiny size: every
table it fills gets its rows, a fill stopped after a chunk carries on to the
same result, and a filled resident is found by the NIK search's blind index."""

from __future__ import annotations

import uuid

import asyncpg

from mpp_intake.store import applications
from mpp_shared.db import with_database
from mpp_shared.pii import cipher_from_settings
from mpp_shared.settings import ServiceSettings
from tests.bench.scale import data
from tests.bench.scale.fill import fill
from tests.conftest import Servers

SIZE = 2000
CHUNK = 1000


async def _count(dsn: str, table: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
    finally:
        await conn.close()


async def test_fill_resumes_and_a_filled_nik_is_found(servers: Servers) -> None:
    prefix = f"scale_{uuid.uuid4().hex[:8]}_"
    dsn = {db: with_database(servers.dsn, f"{prefix}{db}") for db in data.DATABASES}
    try:
        stopped = await fill(
            servers.dsn, SIZE, prefix=prefix, chunk_size=CHUNK, stop_after=1, quiet=True
        )
        assert not stopped.finished and stopped.chunks_written == 1
        assert await _count(dsn["intake"], "applications") == CHUNK

        resumed = await fill(servers.dsn, SIZE, prefix=prefix, chunk_size=CHUNK, quiet=True)
        assert resumed.finished and resumed.chunks_written == 1  # only the missing chunk

        for db, table in [
            ("intake", "applications"),
            ("complaints", "known_requests"),
            ("notify", "recipients"),
        ]:
            assert await _count(dsn[db], table) == SIZE, table
        for db, table in [
            ("intake", "application_timeline"),
            ("documents", "jobs"),
            ("documents", "job_history"),
            ("documents", "issued_documents"),
            ("documents", "pickup_timers"),
            ("complaints", "complaints"),
            ("complaints", "complaint_deadlines"),
            ("notify", "delivery_log"),
            ("notify", "event_journal"),
            ("notify", "webhook_deliveries"),
        ]:
            assert await _count(dsn[db], table) > 0, table
        jobs = await _count(dsn["documents"], "jobs")
        assert await _count(dsn["documents"], "sla_clocks") == jobs
        verified = await _count(dsn["intake"], "applications WHERE status = 'verified'")
        assert jobs == verified
        for db in data.DATABASES:
            assert await _count(dsn[db], "bench_scale_fill") == 2, db

        # The last application is recent: its NIK is still held, and found.
        last = SIZE - 1
        cipher = cipher_from_settings(ServiceSettings())
        pool = await asyncpg.create_pool(dsn["intake"], min_size=1, max_size=1)
        try:
            rows = await applications.by_nik(
                pool, cipher.blind_indexes(data.application_nik(last), context="nik"), 20
            )
        finally:
            await pool.close()
        assert data.row_id("application", last) in {r["id"] for r in rows}
        assert {r["tracking_code"] for r in rows} >= {data.tracking_code(last)}
    finally:
        conn = await asyncpg.connect(servers.dsn)
        try:
            for name in dsn.values():
                db_name = name.rsplit("/", 1)[-1]
                await conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        finally:
            await conn.close()
