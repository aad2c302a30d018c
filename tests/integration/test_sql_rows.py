"""Rows written with another write's statement (`mpp_shared.sql_rows`), on a
real PostgreSQL: an application's audit entry and outbox event exist exactly
when the application was written, and one failing part writes nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from mpp_intake.store import applications
from mpp_intake.store.applications import NewApplication
from mpp_shared import audit
from mpp_shared.auth import Principal, Role
from mpp_shared.events import CloudEvent, build_event
from mpp_shared.events.examples import example
from mpp_shared.messaging import outbox

AT = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
OFFICER = Principal(subject="petugas-1", roles=frozenset({Role.FRONTDESK}), counter="MPP-1")


def _application(nik_index: bytes) -> NewApplication:
    return NewApplication(
        id=uuid.uuid4(),
        tracking_code=f"T{uuid.uuid4().hex[:9].upper()}",
        service_code="kk",
        channel="mpp_desk",
        status="submitted",
        nik_enc=b"\x00",
        nik_index=nik_index,
        nik_masked="35**",
        name_enc=b"\x00",
        name_masked="B***",
        phone_enc=None,
        email_enc=None,
        language="id",
        preferred_channel=None,
        pickup_point="MPP",
        submitted_by=OFFICER.subject,
        counter=OFFICER.counter,
        created_at=AT,
        catalog_version=1,
        documents=["f101"],
        missing=[],
        domicile_region="3506",
        expected_ready_at=None,
    )


def _event(new: NewApplication) -> CloudEvent:
    return build_event(example("mpp.application.submitted.v1"), source="/test", subject=str(new.id))


async def _submit(
    conn: asyncpg.Connection, new: NewApplication, event: CloudEvent | None = None
) -> bool:
    event = event or _event(new)
    along = (
        audit.entry(
            OFFICER,
            action="application.submit",
            target_type="application",
            target_id=str(new.id),
            detail={"status": new.status},
        ),
        outbox.row(event, topic="mpp.applications", key=str(new.id)),
    )
    return await applications.insert_with_first_step(
        conn, new, first_event_id=event.id, along=along
    )


async def _counts(conn: asyncpg.Connection) -> tuple[int, ...]:
    """Rows in applications, application_timeline, audit_log and outbox."""
    return tuple(
        [
            await conn.fetchval(f"SELECT count(*) FROM {table}")
            for table in ("applications", "application_timeline", "audit_log", "outbox")
        ]
    )


async def test_the_entry_and_the_event_are_written_exactly_when_the_application_is(
    intake_pool: asyncpg.Pool,
) -> None:
    nik_index = uuid.uuid4().bytes
    first = _application(nik_index)
    async with intake_pool.acquire() as conn:
        assert await _submit(conn, first)
        assert await _counts(conn) == (1, 1, 1, 1)
        entry = await conn.fetchrow(
            "SELECT actor, roles, counter, action, target_id, detail FROM audit_log"
        )
        assert dict(entry) == {
            "actor": "petugas-1",
            "roles": ["frontdesk"],
            "counter": "MPP-1",
            "action": "application.submit",
            "target_id": str(first.id),
            "detail": {"status": "submitted"},
        }
        row = await conn.fetchrow("SELECT topic, key, event_type FROM outbox")
        assert tuple(row) == ("mpp.applications", str(first.id), "mpp.application.submitted.v1")

        # The same resident and service while the first is active: nothing at all.
        async with conn.transaction():
            assert not await _submit(conn, _application(nik_index))
            assert await _counts(conn) == (1, 1, 1, 1)
        # Another resident: all four again.
        assert await _submit(conn, _application(uuid.uuid4().bytes))
        assert await _counts(conn) == (2, 2, 2, 2)


async def test_a_part_that_fails_leaves_no_part_written(intake_pool: asyncpg.Pool) -> None:
    async with intake_pool.acquire() as conn:
        first = _application(uuid.uuid4().bytes)
        event = _event(first)
        assert await _submit(conn, first, event)
        # The same event again (outbox.event_id is unique): its row fails, so
        # the second application, its step and its entry are not written either.
        with pytest.raises(asyncpg.UniqueViolationError):
            await _submit(conn, _application(uuid.uuid4().bytes), event)
        assert await _counts(conn) == (1, 1, 1, 1)
