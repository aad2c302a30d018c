"""The kecamatan's figures of the village's reports: counts per desa and kind
(reported, followed up, applied, overdue, escalated) over dates, for a month,
and the month's figures sent up to the regency (stored frozen, audited, and
announced as `mpp.population.period_reported.v1`, figures only; a second
send of the same kecamatan and month is refused)."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime

import asyncpg
from pydantic import BaseModel

from mpp_intake.domain import population as rules
from mpp_intake.domain.population import Period
from mpp_intake.store import population
from mpp_intake.usecases.history import SOURCE
from mpp_intake.usecases.population_scope import Scope, refuse_kecamatan, scope_of
from mpp_shared import audit, clock
from mpp_shared.auth import Principal
from mpp_shared.errors import Conflict, Forbidden, Invalid
from mpp_shared.events import build_event
from mpp_shared.events.schemas import PeriodFigures, PopulationPeriodReportedV1
from mpp_shared.messaging.outbox import enqueue


class FiguresPublic(BaseModel):
    """Counts of one desa and kind (`rules.FIGURES`)."""

    desa_code: str
    kind: str
    reported: int
    followed_up: int
    applied: int
    overdue: int
    escalated: int


class SummaryPublic(BaseModel):
    kecamatan_code: str | None
    desa_code: str | None
    occurred_from: date | None
    occurred_to: date | None
    figures: list[FiguresPublic]


class PeriodReportPublic(BaseModel):
    kecamatan_code: str
    period: str
    occurred_from: date
    occurred_to: date
    figures: list[FiguresPublic]


class SentPeriodReport(BaseModel):
    id: uuid.UUID
    kecamatan_code: str
    period: str
    figures: list[FiguresPublic]
    sent_by: str
    counter: str | None
    sent_at: datetime


class SentPeriodReportList(BaseModel):
    items: list[SentPeriodReport]
    total: int
    page: int
    page_size: int


def _figures(rows: list[asyncpg.Record]) -> list[FiguresPublic]:
    return [FiguresPublic(**dict(r)) for r in rows]


def checked_kecamatan(value: str | None) -> str | None:
    if value is not None and not rules.is_kecamatan_code(value):
        raise Invalid.field(
            "kecamatan_code", "kecamatan_code_invalid", *rules.message("kecamatan_code_invalid")
        )
    return value


def _kecamatan(scope: Scope, asked: str | None, *, required: bool) -> str | None:
    """The kecamatan looked at: the one asked (within the officer's area), else
    the officer's own; the regency must name one when `required`."""
    checked_kecamatan(asked)
    if asked:
        refuse_kecamatan(scope, asked)
        return asked
    if scope.kecamatan_code is None and required:
        raise Invalid.field("kecamatan_code", "missing", "wajib diisi", "is required")
    return scope.kecamatan_code


async def summary(
    pool: asyncpg.Pool,
    officer: Principal,
    *,
    kecamatan_code: str | None,
    occurred_from: date | None,
    occurred_to: date | None,
) -> SummaryPublic:
    """Counts per desa and kind of what happened between the dates; a desa
    officer sees their desa's only."""
    if occurred_from and occurred_to and occurred_from > occurred_to:
        raise Invalid.field("from", "date_range", *rules.message("date_range"))
    scope = await scope_of(pool, officer)
    kecamatan = _kecamatan(scope, kecamatan_code, required=False)
    rows = await population.figures(
        pool,
        kecamatan_code=kecamatan,
        desa_code=scope.desa_code,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
        now=clock.now(),
    )
    return SummaryPublic(
        kecamatan_code=kecamatan,
        desa_code=scope.desa_code,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
        figures=_figures(rows),
    )


async def _period_figures(
    conn: asyncpg.Connection | asyncpg.Pool,
    kecamatan: str,
    period: Period,
    desa_code: str | None = None,
) -> list[FiguresPublic]:
    rows = await population.figures(
        conn,
        kecamatan_code=kecamatan,
        desa_code=desa_code,
        occurred_from=period.first,
        occurred_to=period.last,
        now=clock.now(),
    )
    return _figures(rows)


async def period_report(
    pool: asyncpg.Pool, officer: Principal, *, kecamatan_code: str | None, period: Period
) -> PeriodReportPublic:
    """The month's figures per desa and kind (a desa officer: their desa's)."""
    scope = await scope_of(pool, officer)
    kecamatan = _kecamatan(scope, kecamatan_code, required=True)
    assert kecamatan is not None
    figures = await _period_figures(pool, kecamatan, period, scope.desa_code)
    return PeriodReportPublic(
        kecamatan_code=kecamatan,
        period=period.text,
        occurred_from=period.first,
        occurred_to=period.last,
        figures=figures,
    )


def as_csv(report: PeriodReportPublic) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["kecamatan_code", "period", *rules.CSV_HEADER])
    for f in report.figures:
        writer.writerow(
            [report.kecamatan_code, report.period, f.desa_code, f.kind]
            + [str(getattr(f, name)) for name in rules.FIGURES]
        )
    return out.getvalue()


def _sent(row: asyncpg.Record) -> SentPeriodReport:
    return SentPeriodReport(
        id=row["id"],
        kecamatan_code=row["kecamatan_code"],
        period=row["period"],
        figures=[FiguresPublic(**f) for f in row["figures"]],
        sent_by=row["sent_by"],
        counter=row["counter"],
        sent_at=row["sent_at"],
    )


async def send_period_report(
    pool: asyncpg.Pool, officer: Principal, *, kecamatan_code: str | None, period: Period
) -> SentPeriodReport:
    """Freeze and send the month's figures of a kecamatan to the regency.
    Refuses (Forbidden) a desa officer or another kecamatan, (Conflict) a
    kecamatan and month already sent."""
    now = clock.now()
    async with pool.acquire() as conn, conn.transaction():
        scope = await scope_of(conn, officer)
        if scope.desa_code is not None:
            raise Forbidden(
                "kecamatan_only",
                "Laporan bulanan dikirim oleh kecamatan, bukan oleh desa",
                "The monthly report is sent by the kecamatan, not by a desa",
            )
        kecamatan = _kecamatan(scope, kecamatan_code, required=True)
        assert kecamatan is not None
        figures = await _period_figures(conn, kecamatan, period)
        report_id = uuid.uuid4()
        row = await population.insert_period_report(
            conn,
            report_id=report_id,
            kecamatan_code=kecamatan,
            period=period.text,
            figures=[f.model_dump() for f in figures],
            sent_by=officer.subject,
            counter=officer.counter,
            sent_at=now,
        )
        if row is None:
            raise Conflict(
                "already_sent",
                f"Laporan kecamatan {kecamatan} untuk {period.text} sudah dikirim ke kabupaten; "
                "laporan yang sudah dikirim tidak dapat dikirim ulang",
                f"The report of kecamatan {kecamatan} for {period.text} was already sent to the "
                "regency; a sent report cannot be sent again",
            )
        await audit.record(
            conn,
            officer,
            action="population.period_report",
            target_type="population_period_report",
            target_id=str(report_id),
            detail={"kecamatan_code": kecamatan, "period": period.text, "rows": len(figures)},
        )
        event = PopulationPeriodReportedV1(
            kecamatan_code=kecamatan,
            period_report_id=report_id,
            period=period.text,
            figures=[PeriodFigures(**f.model_dump()) for f in figures],
            sent_at=now,
        )
        await enqueue(
            conn,
            build_event(event, source=SOURCE, subject=str(report_id)),
            topic=event.topic,
            key=kecamatan,
        )
    return _sent(row)


async def list_period_reports(
    pool: asyncpg.Pool,
    *,
    kecamatan_code: str | None,
    period: str | None,
    page: int,
    page_size: int,
) -> SentPeriodReportList:
    rows = await population.period_report_page(
        pool,
        kecamatan_code=checked_kecamatan(kecamatan_code),
        period=period,
        limit=page_size,
        offset=(page - 1) * page_size,
    )
    return SentPeriodReportList(
        items=[_sent(r) for r in rows],
        total=rows[0]["total"] if rows else 0,
        page=page,
        page_size=page_size,
    )
