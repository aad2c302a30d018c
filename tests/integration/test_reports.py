"""SLA compliance and backlog reports on real PostgreSQL: every category is
counted exactly, per service, per point and per both, with the period's WIB
edges, a fixed `as_of`, cancelled work apart and nothing due tomorrow called
overdue."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest

from mpp_documents.domain.reports import ZONE, GroupBy, Lateness, Period, SlaCounts
from mpp_documents.store.reports import sla_query
from mpp_documents.usecases.reports import backlog, sla_report

AS_OF = datetime(2026, 7, 20, 10, tzinfo=ZONE)
JULY = Period(date(2026, 7, 1), date(2026, 8, 1))


def wib(day: int, hour: int = 12, minute: int = 0, month: int = 7) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=ZONE)


@dataclass(frozen=True)
class Job:
    label: str
    service_code: str
    pickup_point: str | None
    state: str
    due_at: datetime | None
    ready_at: datetime | None = None
    picked_up_at: datetime | None = None
    created_at: datetime | None = None

    @property
    def created(self) -> datetime:
        if self.created_at is not None:
            return self.created_at
        assert self.due_at is not None
        return self.due_at - timedelta(days=3)


KEDIRI, PARE = "MPP-KEDIRI", "KEC-PARE"
JOBS = [
    # ktp_el at MPP-KEDIRI
    Job("A", "ktp_el", KEDIRI, "ready_for_pickup", wib(10), ready_at=wib(10, 11)),
    Job("B", "ktp_el", KEDIRI, "picked_up", wib(10), ready_at=wib(10), picked_up_at=wib(11)),
    Job("C", "ktp_el", KEDIRI, "picked_up", wib(5, 8), ready_at=wib(5, 10), picked_up_at=wib(6)),
    Job("D", "ktp_el", KEDIRI, "queued", wib(19)),
    Job("E", "ktp_el", KEDIRI, "on_hold", wib(20, 9, 59)),
    Job("F", "ktp_el", KEDIRI, "in_production", wib(21)),  # due tomorrow
    Job("G", "ktp_el", KEDIRI, "cancelled", wib(12)),
    # ktp_el at KEC-PARE
    Job("H", "ktp_el", PARE, "ready_for_pickup", wib(15, 8), ready_at=wib(15, 14)),
    Job("I", "ktp_el", PARE, "queued", AS_OF),  # due this very moment: not overdue yet
    # ktp_el without a pickup point, due at the first instant of July in WIB
    Job("O", "ktp_el", None, "queued", datetime(2026, 6, 30, 17, tzinfo=UTC)),
    # kk
    Job("J", "kk", KEDIRI, "ready_for_pickup", wib(8), ready_at=wib(7)),
    Job("K", "kk", KEDIRI, "queued", None, created_at=wib(3)),  # no promise
    Job("M", "kk", KEDIRI, "cancelled", None, created_at=wib(4)),
    # collected without a recorded ready_at: picked_up_at stands for it, a day late
    Job("Q", "kk", PARE, "picked_up", wib(7), picked_up_at=wib(8)),
    # outside July (WIB)
    Job("N", "ktp_el", KEDIRI, "queued", datetime(2026, 6, 30, 16, 59, 59, tzinfo=UTC)),
    Job("P", "ktp_el", KEDIRI, "queued", wib(1, 0, month=8)),
    Job("L", "kk", KEDIRI, "queued", None, created_at=wib(20, month=6)),
]
BY_LABEL = {job.label: job for job in JOBS}


@pytest.fixture
def pool(documents_pool: asyncpg.Pool) -> asyncpg.Pool:
    return documents_pool


async def insert(pool: asyncpg.Pool, jobs: list[Job]) -> None:
    await pool.executemany(
        "INSERT INTO jobs (id, application_id, tracking_code, service_code, state, pickup_point, "
        "due_at, ready_at, picked_up_at, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
        [
            (
                uuid.uuid4(),
                uuid.uuid4(),
                f"TRK-{job.label}",
                job.service_code,
                job.state,
                job.pickup_point,
                job.due_at,
                job.ready_at,
                job.picked_up_at,
                job.created,
            )
            for job in jobs
        ],
    )


@pytest.fixture
async def filled(pool: asyncpg.Pool) -> asyncpg.Pool:
    await insert(pool, JOBS)
    return pool


async def test_per_service_every_category_is_counted_exactly(filled: asyncpg.Pool) -> None:
    report = await sla_report(filled, period=JULY, as_of=AS_OF, group_by=GroupBy.SERVICE)
    lines = {line.service_code: line for line in report.lines}
    assert list(lines) == ["kk", "ktp_el"]
    assert all(line.pickup_point is None for line in report.lines)

    ktp = lines["ktp_el"]
    assert ktp.counts == SlaCounts(
        closed_on_time=2,  # A early, B exactly at due_at
        closed_late=2,  # C 2 h, H 6 h
        open_overdue=3,  # D, E (a minute before as_of), O (first instant of July)
        open_not_yet_due=2,  # F due tomorrow, I due at as_of
        cancelled=1,  # G
        no_promise=0,
    )
    assert ktp.on_time_share == 0.2857  # 2 / 7
    assert ktp.lateness == Lateness(median_hours=4.0, p90_hours=5.6)

    kk = lines["kk"]
    assert kk.counts == SlaCounts(
        closed_on_time=1,
        closed_late=1,
        open_overdue=0,
        open_not_yet_due=0,
        cancelled=1,
        no_promise=1,
    )
    assert kk.on_time_share == 0.5
    assert kk.lateness == Lateness(24.0, 24.0)

    assert report.totals.counts == SlaCounts(
        closed_on_time=3,
        closed_late=3,
        open_overdue=3,
        open_not_yet_due=2,
        cancelled=2,
        no_promise=1,
    )
    assert report.totals.on_time_share == 0.3333  # 3 / 9
    # Percentiles over all three late closures (2, 6, 24 h), not of the groups' figures.
    assert report.totals.lateness == Lateness(median_hours=6.0, p90_hours=20.4)


async def test_per_point_jobs_without_a_point_are_their_own_row(filled: asyncpg.Pool) -> None:
    report = await sla_report(filled, period=JULY, as_of=AS_OF, group_by=GroupBy.POINT)
    lines = {line.pickup_point: line for line in report.lines}
    assert list(lines) == [PARE, KEDIRI, None]
    assert all(line.service_code is None for line in report.lines)
    assert lines[KEDIRI].counts == SlaCounts(
        closed_on_time=3,
        closed_late=1,
        open_overdue=2,
        open_not_yet_due=1,
        cancelled=2,
        no_promise=1,
    )
    assert lines[KEDIRI].on_time_share == 0.5
    assert lines[PARE].counts == SlaCounts(closed_late=2, open_not_yet_due=1)
    assert lines[PARE].on_time_share == 0.0
    assert lines[PARE].lateness == Lateness(15.0, 22.2)
    assert lines[None].counts == SlaCounts(open_overdue=1)
    assert lines[None].on_time_share == 0.0
    assert report.totals.on_time_share == 0.3333


async def test_per_service_and_point(filled: asyncpg.Pool) -> None:
    report = await sla_report(filled, period=JULY, as_of=AS_OF, group_by=GroupBy.SERVICE_POINT)
    got = {(line.service_code, line.pickup_point): line for line in report.lines}
    assert list(got) == [
        ("kk", PARE),
        ("kk", KEDIRI),
        ("ktp_el", PARE),
        ("ktp_el", KEDIRI),
        ("ktp_el", None),
    ]
    assert got[("ktp_el", KEDIRI)].counts == SlaCounts(
        closed_on_time=2, closed_late=1, open_overdue=2, open_not_yet_due=1, cancelled=1
    )
    assert got[("ktp_el", KEDIRI)].on_time_share == 0.4
    assert got[("kk", KEDIRI)].counts == SlaCounts(closed_on_time=1, cancelled=1, no_promise=1)
    assert got[("kk", KEDIRI)].on_time_share == 1.0
    assert got[("kk", PARE)].counts == SlaCounts(closed_late=1)
    assert got[("ktp_el", PARE)].counts == SlaCounts(closed_late=1, open_not_yet_due=1)


async def test_the_sql_totals_agree_with_the_summed_groups(filled: asyncpg.Pool) -> None:
    for group_by in GroupBy:
        rows = await filled.fetch(
            sla_query(group_by), JULY.start, JULY.end, AS_OF, JULY.first_day, JULY.end_day
        )
        [total] = [r for r in rows if r["is_total"]]
        report = await sla_report(filled, period=JULY, as_of=AS_OF, group_by=group_by)
        assert SlaCounts(**{k: total[k] for k in SlaCounts.__dataclass_fields__}) == (
            report.totals.counts
        )


async def test_tomorrow_the_job_due_tomorrow_is_overdue(filled: asyncpg.Pool) -> None:
    # F is due 21 July 12:00 WIB; I at as_of.
    report = await sla_report(filled, period=JULY, as_of=wib(21, 12, 1), group_by=GroupBy.SERVICE)
    ktp = next(line for line in report.lines if line.service_code == "ktp_el")
    assert (ktp.counts.open_overdue, ktp.counts.open_not_yet_due) == (5, 0)
    assert ktp.on_time_share == 0.2222  # 2 / 9


async def test_the_period_edges_are_wib_days(filled: asyncpg.Pool) -> None:
    # 30 June (WIB) holds only N; 1 August only P.
    june_30 = await sla_report(
        filled, period=Period(date(2026, 6, 30), date(2026, 7, 1)), as_of=AS_OF
    )
    assert june_30.totals.counts == SlaCounts(open_overdue=1)
    august_1 = await sla_report(
        filled, period=Period(date(2026, 8, 1), date(2026, 8, 2)), as_of=AS_OF
    )
    assert august_1.totals.counts == SlaCounts(open_not_yet_due=1)
    assert august_1.totals.on_time_share is None
    # June holds L by its creation (no promise) and N by its due date.
    june = await sla_report(filled, period=Period(date(2026, 6, 1), date(2026, 7, 1)), as_of=AS_OF)
    assert june.totals.counts == SlaCounts(open_overdue=1, no_promise=1)


async def test_an_empty_period_gives_zero_totals_and_no_share(pool: asyncpg.Pool) -> None:
    report = await sla_report(pool, period=JULY, as_of=AS_OF, group_by=GroupBy.SERVICE_POINT)
    assert report.lines == []
    assert report.totals.counts == SlaCounts()
    assert report.totals.on_time_share is None
    assert report.totals.lateness == Lateness()


async def test_backlog_counts_open_jobs_per_state_and_point(filled: asyncpg.Pool) -> None:
    found = await backlog(filled, as_of=AS_OF)
    got = {(g.pickup_point, g.state): (g.open, g.overdue) for g in found.groups}
    assert list(got.items()) == [
        ((PARE, "queued"), (1, 0)),  # I is due at as_of, not past it
        ((PARE, "ready_for_pickup"), (1, 0)),  # H: ready, waiting is not overdue
        ((KEDIRI, "queued"), (5, 2)),  # D, N overdue; P not yet due; K, L without promise
        ((KEDIRI, "in_production"), (1, 0)),  # F due tomorrow
        ((KEDIRI, "ready_for_pickup"), (2, 0)),  # A, J
        ((KEDIRI, "on_hold"), (1, 1)),  # E
        ((None, "queued"), (1, 1)),  # O
    ]
    oldest = {(g.pickup_point, g.state): g.oldest_created_at for g in found.groups}
    assert oldest[(PARE, "queued")] == BY_LABEL["I"].created
    assert oldest[(KEDIRI, "on_hold")] == BY_LABEL["E"].created
    # L (created 20 June, no promise) is the oldest open job of all.
    assert oldest[(KEDIRI, "queued")] == BY_LABEL["L"].created
    assert (found.totals.open, found.totals.overdue) == (12, 4)
    assert found.totals.oldest_created_at == BY_LABEL["L"].created


async def test_backlog_filters_by_point_and_service(filled: asyncpg.Pool) -> None:
    at_pare = await backlog(filled, as_of=AS_OF, pickup_point=PARE)
    assert [(g.state, g.open) for g in at_pare.groups] == [("queued", 1), ("ready_for_pickup", 1)]
    kk = await backlog(filled, as_of=AS_OF, service_code="kk")
    assert [(g.pickup_point, g.state, g.open) for g in kk.groups] == [
        (KEDIRI, "queued", 2),  # K and L: no promise, never overdue
        (KEDIRI, "ready_for_pickup", 1),
    ]
    assert kk.totals.overdue == 0
    empty = await backlog(filled, as_of=AS_OF, pickup_point="NOWHERE")
    assert (empty.groups, empty.totals.open, empty.totals.oldest_created_at) == ([], 0, None)
