"""The Ombudsman's complaint report and the request links on real PostgreSQL:
exact figures for each case (on time, late, open overdue, not yet due, no
deadline, rejected, outside the period), split by kind of report (a request
for information counted against its information deadline), and an SLA breach or a pickup
recorded once on the request every complaint names, also when heard before
the request's submission."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from mpp_complaints.domain.reports import GroupBy
from mpp_complaints.handlers import HANDLERS
from mpp_complaints.usecases.reports import complaint_report
from mpp_shared.events import build_event
from mpp_shared.events.examples import EXAMPLES
from mpp_shared.events.schemas import (
    ApplicationSubmittedV1,
    DocumentPickedUpV1,
    DocumentQueuedV1,
    SlaBreachedV1,
)

T0 = datetime(2026, 7, 13, 2, tzinfo=UTC)  # Monday 09:00 WIB
START, END = datetime(2026, 6, 30, 17, tzinfo=UTC), datetime(2026, 7, 31, 17, tzinfo=UTC)
AS_OF = T0 + timedelta(days=10)
H = timedelta(hours=1)
D = timedelta(days=1)


@pytest.fixture
def pool(complaints_pool: asyncpg.Pool) -> asyncpg.Pool:
    return complaints_pool


async def _complaint(
    pool: asyncpg.Pool,
    *,
    status: str,
    kind: str = "pengaduan",
    category: str = "pungli",
    opd: str | None = "INSPEKTORAT",
    created_at: datetime = T0,
    responded_at: datetime | None = None,
    rating: int | None = None,
    reopen_count: int = 0,
    tracking_code: str | None = None,
    deadlines: tuple[tuple[str, datetime, datetime], ...] = (),
) -> uuid.UUID:
    cid = uuid.uuid4()
    await pool.execute(
        "INSERT INTO complaints (id, complaint_code, category, description, channel, status, "
        "opd, created_at, updated_at, responded_at, rating, reopen_count, tracking_code, kind) "
        "VALUES ($1, $2, $3, 'dimintai uang', 'web', $4, $5, $6, $6, $7, $8, $9, $10, $11)",
        cid,
        "P" + cid.hex[:9].upper(),
        category,
        status,
        opd,
        created_at,
        responded_at,
        rating,
        reopen_count,
        tracking_code,
        kind,
    )
    for step, started, due in deadlines:
        # Past steps ended (cancelled or fired); only the last may still run.
        await pool.execute(
            "INSERT INTO complaint_deadlines (id, complaint_id, step, opd, started_at, due_at, "
            "cancelled_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            uuid.uuid4(),
            cid,
            step,
            opd,
            started,
            due,
            None if (step, started, due) == deadlines[-1] else started + H,
        )
    return cid


async def _cases(pool: asyncpg.Pool) -> None:
    # On time: first response after 24 h, follow-up due after 5 days; closed, rated 5.
    await _complaint(
        pool,
        status="closed",
        responded_at=T0 + D,
        rating=5,
        deadlines=(("follow_up", T0, T0 + 5 * D), ("auto_close", T0 + D, T0 + 6 * D)),
    )
    # Late: first response after 48 h, past the first follow-up (1 day); reopened and
    # answered again in time for the second follow-up (which is not what counts).
    await _complaint(
        pool,
        status="responded",
        responded_at=T0 + 4 * D,
        reopen_count=1,
        deadlines=(
            ("follow_up", T0, T0 + D),
            ("auto_close", T0 + 2 * D, T0 + 8 * D),
            ("follow_up", T0 + 3 * D, T0 + 6 * D),
            ("auto_close", T0 + 4 * D, T0 + 11 * D),
        ),
    )
    # Open overdue: in progress, follow-up due 2 days in (before as_of) — late.
    await _complaint(pool, status="in_progress", deadlines=(("follow_up", T0, T0 + 2 * D),))
    # Open, not yet due: outside the share.
    await _complaint(pool, status="assigned", deadlines=(("follow_up", T0, AS_OF + D),))
    # Answered after 3 h with no follow-up deadline recorded: on time; closed, rated 2.
    await _complaint(pool, status="closed", responded_at=T0 + 3 * H, rating=2)
    # Rejected: counted, nothing else.
    await _complaint(pool, status="rejected")
    # Closed by an officer without a rating: no rating counted.
    await _complaint(
        pool,
        status="closed",
        responded_at=T0 + 10 * H,
        deadlines=(("follow_up", T0, T0 + 5 * D), ("auto_close", T0 + 10 * H, T0 + 6 * D)),
    )
    # Filed before the period: left out.
    await _complaint(pool, status="closed", created_at=START - H, responded_at=T0, rating=1)
    # Another category, not yet assigned.
    await _complaint(pool, status="received", category="pelayanan", opd=None)
    # Requests for information: answered after 8 days, within the extended information
    # deadline (10 days, moved to 17): on time; and one open past its deadline: late.
    info, office = "permintaan_informasi", "DISDUKCAPIL"
    await _complaint(
        pool,
        status="responded",
        kind=info,
        category="pelayanan",
        opd=office,
        responded_at=T0 + 8 * D,
        deadlines=(("information", T0, T0 + 17 * D), ("auto_close", T0 + 8 * D, T0 + 22 * D)),
    )
    await _complaint(
        pool,
        status="assigned",
        kind=info,
        category="pelayanan",
        opd=office,
        deadlines=(("information", T0, T0 + D),),
    )
    # An aspiration, answered after 10 h with its follow-up due after 5 days.
    await _complaint(
        pool,
        status="responded",
        kind="aspirasi",
        responded_at=T0 + 10 * H,
        deadlines=(("follow_up", T0, T0 + 5 * D), ("auto_close", T0 + 10 * H, T0 + 6 * D)),
    )


def _row(line: Any) -> dict[str, Any]:
    return {"kind": line.kind, "key": line.key, **vars(line.figures)}


PUNGLI = {
    "complaints": 7,
    "responded": 4,
    "responded_on_time": 3,
    "open_overdue": 1,
    "reopened": 1,
    "on_time_share": 0.6,  # 3 / (4 + 1)
    "median_hours_to_respond": 17.0,  # of 3, 10, 24, 48
    "reopen_rate": 0.25,
    "average_rating": 3.5,  # (5 + 2) / 2
}
INFORMATION = {
    "complaints": 2,
    "responded": 1,
    "responded_on_time": 1,
    "open_overdue": 1,
    "reopened": 0,
    "on_time_share": 0.5,
    "median_hours_to_respond": 192.0,
    "reopen_rate": 0.0,
    "average_rating": None,
}
ASPIRATION = {
    "complaints": 1,
    "responded": 1,
    "responded_on_time": 1,
    "open_overdue": 0,
    "reopened": 0,
    "on_time_share": 1.0,
    "median_hours_to_respond": 10.0,
    "reopen_rate": 0.0,
    "average_rating": None,
}
EMPTY = {
    "complaints": 1,
    "responded": 0,
    "responded_on_time": 0,
    "open_overdue": 0,
    "reopened": 0,
    "on_time_share": None,
    "median_hours_to_respond": None,
    "reopen_rate": None,
    "average_rating": None,
}


async def test_figures_per_category(pool: asyncpg.Pool) -> None:
    await _cases(pool)
    lines = await complaint_report(
        pool, start=START, end=END, as_of=AS_OF, group_by=GroupBy.CATEGORY
    )
    assert [_row(line) for line in lines] == [
        {"kind": "aspirasi", "key": "pungli", **ASPIRATION},
        {"kind": "pengaduan", "key": "pelayanan", **EMPTY},
        {"kind": "pengaduan", "key": "pungli", **PUNGLI},
        {"kind": "permintaan_informasi", "key": "pelayanan", **INFORMATION},
    ]


async def test_figures_per_opd_with_unassigned_last(pool: asyncpg.Pool) -> None:
    await _cases(pool)
    lines = await complaint_report(pool, start=START, end=END, as_of=AS_OF, group_by=GroupBy.OPD)
    assert [_row(line) for line in lines] == [
        {"kind": "aspirasi", "key": "INSPEKTORAT", **ASPIRATION},
        {"kind": "pengaduan", "key": "INSPEKTORAT", **PUNGLI},
        {"kind": "pengaduan", "key": None, **EMPTY},
        {"kind": "permintaan_informasi", "key": "DISDUKCAPIL", **INFORMATION},
    ]


async def test_an_empty_period_has_no_rows(pool: asyncpg.Pool) -> None:
    await _cases(pool)
    assert (
        await complaint_report(pool, start=END, end=END + D, as_of=AS_OF, group_by=GroupBy.OPD)
        == []
    )


async def test_a_breach_and_a_pickup_are_recorded_once_on_the_named_request(
    pool: asyncpg.Pool,
) -> None:
    app_id, job_id = uuid.uuid4(), uuid.uuid4()
    await pool.execute(
        "INSERT INTO known_requests (tracking_code, application_id, service_code, progress) "
        "VALUES ('MPP-TEST1', $1, 'ktp_el', 'in_production')",
        app_id,
    )
    breach = SlaBreachedV1(
        clock_id=uuid.uuid4(),
        subject_type="job",
        subject_id=job_id,
        application_id=app_id,
        tracking_code="MPP-TEST1",
        started_at=T0,
        due_at=T0 + 2 * D,
        fired_at=T0 + 2 * D + H,
    )
    later = breach.model_copy(update={"fired_at": T0 + 5 * D})
    pickup = DocumentPickedUpV1(
        job_id=job_id,
        application_id=app_id,
        tracking_code="MPP-TEST1",
        service_code="ktp_el",
        state="picked_up",
        version=5,
        occurred_at=T0 + 4 * D,
        handed_over_by="petugas",
    )
    async with pool.acquire() as conn:
        for data in (breach, later, pickup, pickup):
            event = build_event(data, source="/test", subject=str(job_id))
            await HANDLERS[event.type](conn, event)
        # A complaint's own clock (no application) changes nothing.
        own = breach.model_copy(update={"subject_type": "complaint", "application_id": None})
        event = build_event(own, source="/test", subject=str(job_id))
        await HANDLERS[event.type](conn, event)
    row = await pool.fetchrow("SELECT * FROM known_requests WHERE application_id = $1", app_id)
    assert (row["progress"], row["sla_breached_at"], row["due_at"], row["picked_up_at"]) == (
        "picked_up",
        T0 + 2 * D + H,
        T0 + 2 * D,
        T0 + 4 * D,
    )


async def test_what_is_heard_before_the_submission_waits_for_it(pool: asyncpg.Pool) -> None:
    """The consumer reads the three topics in no order across them: a
    document's progress, a breach and a pickup read before the submission
    are applied when it arrives, and an older progress read after a newer
    one does not overwrite it."""
    app_id, job_id = uuid.uuid4(), uuid.uuid4()
    code = f"MPP-{app_id.hex[:8].upper()}"

    def job_event(data_type: type[Any], state: str, at: datetime, **extra: Any) -> Any:
        return data_type(
            job_id=job_id,
            application_id=app_id,
            tracking_code=code,
            service_code="ktp_el",
            state=state,
            version=1,
            occurred_at=at,
            **extra,
        )

    breach = SlaBreachedV1(
        clock_id=uuid.uuid4(),
        subject_type="job",
        subject_id=job_id,
        application_id=app_id,
        tracking_code=code,
        started_at=T0,
        due_at=T0 + 2 * D,
        fired_at=T0 + 2 * D + H,
    )
    pickup = job_event(DocumentPickedUpV1, "picked_up", T0 + 4 * D, handed_over_by="petugas")
    submitted = ApplicationSubmittedV1.model_validate(
        {
            **EXAMPLES[ApplicationSubmittedV1.event_type],
            "application_id": app_id,
            "tracking_code": code,
        }
    )
    queued = job_event(DocumentQueuedV1, "queued", T0 + H)
    # When each happened; they are read in another order.
    happened = {
        submitted.event_type: (submitted, T0),
        queued.event_type: (queued, T0 + H),
        breach.event_type: (breach, T0 + 2 * D + H),
        pickup.event_type: (pickup, T0 + 4 * D),
    }
    read_in = (pickup, breach, submitted, queued)
    async with pool.acquire() as conn:
        for data in read_in:
            _, at = happened[data.event_type]
            event = build_event(data, source="/test", subject=str(job_id))
            event = event.model_copy(update={"time": at})
            await HANDLERS[event.type](conn, event)
    row = await pool.fetchrow("SELECT * FROM known_requests WHERE application_id = $1", app_id)
    assert (row["progress"], row["sla_breached_at"], row["due_at"], row["picked_up_at"]) == (
        "picked_up",
        T0 + 2 * D + H,
        T0 + 2 * D,
        T0 + 4 * D,
    )
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM request_facts_waiting WHERE application_id = $1", app_id
        )
        == 0
    )


async def test_a_complaint_naming_a_code_before_its_submission_is_linked_when_it_comes(
    pool: asyncpg.Pool,
) -> None:
    """A citizen may complain about a request whose submission complaints has
    not read yet: the complaint keeps the code, and the submission, when it
    is read, links it (once; a complaint already linked keeps its link)."""
    app_id = uuid.uuid4()
    code = f"MPP-{app_id.hex[:8].upper()}"
    early = await _complaint(pool, status="received", tracking_code=code)
    linked_elsewhere = await _complaint(pool, status="received", tracking_code=code)
    other_app = uuid.uuid4()
    await pool.execute(
        "UPDATE complaints SET application_id = $2 WHERE id = $1", linked_elsewhere, other_app
    )
    submitted = ApplicationSubmittedV1.model_validate(
        {
            **EXAMPLES[ApplicationSubmittedV1.event_type],
            "application_id": app_id,
            "tracking_code": code,
        }
    )
    event = build_event(submitted, source="/test", subject=str(app_id))
    async with pool.acquire() as conn:
        await HANDLERS[event.type](conn, event)
        await HANDLERS[event.type](conn, event)  # read twice: changes nothing more
    links = dict(
        await pool.fetch(
            "SELECT id, application_id FROM complaints WHERE id = ANY($1::uuid[])",
            [early, linked_elsewhere],
        )
    )
    assert links == {early: app_id, linked_elsewhere: other_app}
    known = await pool.fetch(
        "SELECT application_id, progress FROM known_requests WHERE tracking_code = $1", code
    )
    assert [tuple(r) for r in known] == [(app_id, "submitted")]
