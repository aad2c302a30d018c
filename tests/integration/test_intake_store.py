"""Intake's catalog versions and its one-active-application rule on a real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import pytest

from mpp_intake.store import catalog as catalog_store
from mpp_shared import migrate

ROOT = Path(__file__).resolve().parents[2]
SOURCES = {
    "shared": migrate.SHARED_MIGRATIONS,
    "intake": ROOT / "services" / "intake" / "mpp_intake" / "migrations",
}


@pytest.fixture
async def intake_db(database: str) -> str:
    conn = await asyncpg.connect(database)
    try:
        await migrate.apply_migrations(conn, SOURCES)
    finally:
        await conn.close()
    return database


async def test_publishing_makes_a_new_version_and_keeps_the_old(intake_db: str) -> None:
    conn = await asyncpg.connect(intake_db)
    try:
        v1 = await catalog_store.current_service(conn, "kk")
        assert v1 is not None and v1.version == 1 and v1.requirements
        doc = {
            "code": "kk",
            "name_id": v1.name_id,
            "name_en": v1.name_en,
            "opd": v1.opd,
            "fee_idr": 0,
            "sla_amount": 2,
            "sla_unit": "working_days",
            "pickup_points": list(v1.pickup_points),
            "channels": list(v1.channels),
            "requirements": '[{"code": "f101", "name_id": "Formulir F-1.01", "name_en": "Form F-1.01", "mandatory": true}]',
        }
        async with conn.transaction():
            assert await catalog_store.publish_version(conn, doc, "admin-1") == 2
        v2 = await catalog_store.current_service(conn, "kk")
        assert v2 is not None and (v2.version, v2.sla_amount) == (2, 2)
        assert [r.code for r in v2.requirements] == ["f101"]
        kept = await catalog_store.service_version(conn, "kk", 1)
        assert kept == v1
    finally:
        await conn.close()


_INSERT = """
INSERT INTO applications (id, tracking_code, service_code, channel, status, progress, nik_enc,
    nik_index, nik_masked, name_enc, name_masked, submitted_by)
VALUES ($1, $2, 'kk', 'mpp_desk', 'submitted', 'submitted', '\\x00', $3, 'x', '\\x00', 'x', 'desk')
"""


async def test_two_counters_racing_for_the_same_resident_create_one_active_application(
    intake_db: str,
) -> None:
    nik_index = uuid.uuid4().bytes
    conns = [await asyncpg.connect(intake_db) for _ in range(2)]
    gate = asyncio.Event()

    async def submit(conn: asyncpg.Connection, code: str) -> str:
        async with conn.transaction():
            await gate.wait()
            try:
                await conn.execute(_INSERT, uuid.uuid4(), code, nik_index)
            except asyncpg.UniqueViolationError:
                return "duplicate"
        return "created"

    try:
        tasks = [asyncio.create_task(submit(c, f"CODE{i}")) for i, c in enumerate(conns)]
        await asyncio.sleep(0.1)
        gate.set()
        assert sorted(await asyncio.gather(*tasks)) == ["created", "duplicate"]
        # A finished application no longer blocks a new one.
        await conns[0].execute(
            "UPDATE applications SET active = false WHERE nik_index = $1", nik_index
        )
        await conns[0].execute(_INSERT, uuid.uuid4(), "CODE9", nik_index)
        assert (
            await conns[0].fetchval(
                "SELECT count(*) FROM applications WHERE nik_index = $1", nik_index
            )
            == 2
        )
    finally:
        for c in conns:
            await c.close()


async def test_upgrade_keeps_only_live_applications_active(database: str) -> None:
    """Rows written before migration 004 get `active` right, duplicates included."""
    conn = await asyncpg.connect(database)
    try:
        first = {"shared": SOURCES["shared"], "intake": SOURCES["intake"]}
        # Apply up to 003 by hiding 004+ in a copy of the folder.
        import shutil
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            for path in sorted(SOURCES["intake"].glob("00[1-3]_*.sql")):
                shutil.copy(path, tmp)
            await migrate.apply_migrations(conn, {"shared": SOURCES["shared"], "intake": Path(tmp)})
        same = uuid.uuid4().bytes
        rows = [
            ("OLD1", same, "submitted", "submitted"),  # an older duplicate
            ("OLD2", same, "submitted", "submitted"),  # the newest of the two
            ("DONE", uuid.uuid4().bytes, "verified", "picked_up"),
            ("NO", uuid.uuid4().bytes, "rejected", "rejected"),
        ]
        for code, index, status, progress in rows:
            await conn.execute(
                "INSERT INTO applications (id, tracking_code, service_code, channel, status, progress,"
                " nik_enc, nik_index, nik_masked, name_enc, name_masked, submitted_by)"
                " VALUES ($1, $2, 'kk', 'mpp_desk', $3, $4, '\\x00', $5, 'x', '\\x00', 'x', 'desk')",
                uuid.uuid4(),
                code,
                status,
                progress,
                index,
            )
            await asyncio.sleep(0.01)
        await migrate.apply_migrations(conn, first)
        active = {
            r["tracking_code"]: r["active"]
            for r in await conn.fetch("SELECT tracking_code, active FROM applications")
        }
        assert active == {"OLD1": False, "OLD2": True, "DONE": False, "NO": False}
    finally:
        await conn.close()
