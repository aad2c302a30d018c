"""Deadlines per kind of report on real PostgreSQL: an aspiration's missed
steps are never escalated; a request for information starts on its
information clock, its one extension moves the running timer, and the
extended deadline, once missed, is escalated exactly once with two
schedulers."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import asyncpg
import pytest

from mpp_complaints.domain.kinds import InformationClock
from mpp_complaints.settings import ComplaintsSettings
from mpp_complaints.usecases import extension
from mpp_complaints.usecases.deadlines import DeadlineScheduler
from mpp_shared import clock
from mpp_shared.auth import Principal, Role
from mpp_shared.db import create_pool
from mpp_shared.errors import Conflict
from mpp_shared.events import parse_event
from mpp_shared.workcal import calendar_of
from tests.support.clock import HandClock

ESCALATED = "mpp.complaint.escalated.v1"
EXTENDED = "mpp.complaint.deadline_extended.v1"
SETTINGS = ComplaintsSettings()
CAL = calendar_of(SETTINGS)
OFFICER = Principal(subject="officer-ani", roles=frozenset({Role.COMPLAINT_OFFICER}))


@pytest.fixture
def pool(complaints_pool: asyncpg.Pool) -> asyncpg.Pool:
    return complaints_pool


async def file(pool: asyncpg.Pool, kind: str, filed_at: datetime) -> uuid.UUID:
    cid = uuid.uuid4()
    await pool.execute(
        "INSERT INTO complaints (id, complaint_code, category, description, channel, status, "
        "opd, created_at, updated_at, kind) VALUES ($1, $2, 'pelayanan', 'isi laporan', 'web', "
        "'received', 'DISDUKCAPIL', $3, $3, $4)",
        cid,
        "P" + cid.hex[:9].upper(),
        filed_at,
        kind,
    )
    return cid


async def outbox(pool: asyncpg.Pool, event_type: str, cid: uuid.UUID) -> list[dict[str, object]]:
    rows = await pool.fetch(
        "SELECT payload FROM outbox WHERE event_type = $1 AND key = $2 ORDER BY id",
        event_type,
        str(cid),
    )
    return [parse_event(r["payload"]).data for r in rows]


async def running(pool: asyncpg.Pool, cid: uuid.UUID) -> asyncpg.Record:
    row: asyncpg.Record = await pool.fetchrow(
        "SELECT step, due_at, fired_at FROM complaint_deadlines WHERE complaint_id = $1 "
        "AND cancelled_at IS NULL ORDER BY started_at DESC LIMIT 1",
        cid,
    )
    return row


async def test_an_aspiration_past_its_deadline_is_never_escalated(pool: asyncpg.Pool) -> None:
    filed_at = clock.now() - timedelta(days=1)
    aspiration = await file(pool, "aspirasi", filed_at)
    complaint = await file(pool, "pengaduan", filed_at)
    now = HandClock(filed_at)
    scheduler = DeadlineScheduler(pool, now=now, calendar=CAL)
    await scheduler.tick()  # both verification steps start
    due = (await running(pool, aspiration))["due_at"]
    now.at = due + timedelta(seconds=1)
    await scheduler.tick()
    await scheduler.tick()
    assert await outbox(pool, ESCALATED, aspiration) == []
    assert (await running(pool, aspiration))["fired_at"] is not None  # looked at, once
    [escalated] = await outbox(pool, ESCALATED, complaint)
    assert escalated["kind"] == "pengaduan" and escalated["step"] == "verification"


async def test_a_request_for_information_escalates_once_after_its_extended_deadline(
    pool: asyncpg.Pool, database: str
) -> None:
    filed_at = clock.now()
    cid = await file(pool, "permintaan_informasi", filed_at)
    information = InformationClock()
    first = DeadlineScheduler(pool, now=HandClock(filed_at), calendar=CAL, information=information)
    await first.tick()
    step = await running(pool, cid)
    due = information.answer_due(CAL, filed_at)
    assert step["step"] == "information" and step["due_at"] == due

    state = await extension.extend_deadline(
        pool,
        extension.ExtendDeadline(cid, "Data masih dihimpun dari tiga OPD"),
        officer=OFFICER,
        settings=SETTINGS,
    )
    extended = information.extended_due(CAL, due)
    assert state.step_due_at == extended and state.extension_reason
    assert (await running(pool, cid))["due_at"] == extended
    [told] = await outbox(pool, EXTENDED, cid)
    assert told["reason"] == "Data masih dihimpun dari tiga OPD"
    assert datetime.fromisoformat(str(told["previous_due_at"])) == due
    assert datetime.fromisoformat(str(told["due_at"])) == extended
    audit = await pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'complaint.deadline_extended' "
        "AND target_id = $1",
        str(cid),
    )
    assert audit == 1
    with pytest.raises(Conflict) as again:
        await extension.extend_deadline(
            pool, extension.ExtendDeadline(cid, "sekali lagi"), officer=OFFICER, settings=SETTINGS
        )
    assert again.value.code == "already_extended"

    # The old deadline passes: nothing. The extended one: one escalation, two schedulers.
    pools = [await create_pool(database, min_size=1, max_size=4) for _ in range(2)]
    try:
        now = HandClock(due + timedelta(seconds=1))
        a, b = (
            DeadlineScheduler(p, now=now, calendar=CAL, information=information, batch_size=4)
            for p in pools
        )
        await a.tick()
        assert await outbox(pool, ESCALATED, cid) == []
        now.at = extended + timedelta(seconds=1)
        for scheduler in (a, b, a, b):
            await scheduler.tick()
    finally:
        for p in pools:
            await p.close()
    [escalated] = await outbox(pool, ESCALATED, cid)
    assert escalated["step"] == "information" and escalated["kind"] == "permintaan_informasi"
    assert datetime.fromisoformat(str(escalated["due_at"])) == extended
    assert escalated["opd"] == "DISDUKCAPIL"
