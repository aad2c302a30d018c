"""The village's reports of births, deaths and moves, and the kecamatan's
figures of them. Who sees which desa or kecamatan is decided by the use cases
(`usecases.population_scope`): a desa officer their desa, a kecamatan officer
their kecamatan, supervisors and admins the whole regency."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from mpp_intake.api.deps import CipherDep, DesaOrSupervisor, SettingsDep, Supervisor
from mpp_intake.api.population_schemas import PeriodReportCreate, PopulationReportCreate
from mpp_intake.domain import population as rules
from mpp_intake.domain.population import Kind, Period
from mpp_intake.settings import IntakeSettings
from mpp_intake.store.population import ReportFilters
from mpp_intake.usecases import population_figures, population_reports
from mpp_intake.usecases.population_figures import (
    PeriodReportPublic,
    SentPeriodReport,
    SentPeriodReportList,
    SummaryPublic,
)
from mpp_intake.usecases.population_reports import PopulationReportList, PopulationReportPublic
from mpp_shared.contacts import InvalidValue
from mpp_shared.errors import Invalid
from mpp_shared.idempotency import StoredAnswer
from mpp_shared.web import MAX_PAGE, IdempotencyKey, LanguageDep, PoolDep, replayed

router = APIRouter(prefix="/v1/population", tags=["population"])

DesaCode = Annotated[str | None, Query(description="One desa (10 digits)")]
KecamatanCode = Annotated[str | None, Query(description="One kecamatan (6 digits)")]
From = Annotated[date | None, Query(alias="from", description="Happened on or after")]
To = Annotated[date | None, Query(alias="to", description="Happened on or before")]


def _period(value: str) -> Period:
    try:
        return rules.parse_period(value)
    except InvalidValue as exc:
        raise Invalid.field("period", exc.code, *rules.message(exc.code)) from None


@router.post(
    "/reports",
    status_code=201,
    response_model=PopulationReportPublic,
    summary="A desa reports a birth, a death or a move (honours Idempotency-Key)",
    description=(
        "The report becomes the outreach entries of the documents the family now needs "
        "(birth: akta_kelahiran and kk; death: akta_kematian and kk; move_out: pindah_keluar; "
        "move_in: pindah_datang), in the same transaction. A desa officer reports for their "
        "desa; supervisors and kecamatan officers name `desa_code`. Not followed up within "
        "POPULATION_FOLLOW_UP_DAYS working days, it is escalated once to the kecamatan."
    ),
)
async def report(
    body: PopulationReportCreate,
    pool: PoolDep,
    settings: SettingsDep,
    cipher: CipherDep,
    officer: DesaOrSupervisor,
    language: LanguageDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    assert isinstance(settings, IntakeSettings)
    answer = await population_reports.report(
        pool,
        settings=settings,
        cipher=cipher,
        officer=officer,
        command=body.command(),
        language=language,
        idempotency_key=idempotency_key,
    )
    return replayed(answer) if isinstance(answer, StoredAnswer) else answer


@router.get(
    "/reports",
    response_model=PopulationReportList,
    summary="Reports in the officer's area, newest first (masked)",
)
async def list_reports(
    pool: PoolDep,
    officer: DesaOrSupervisor,
    kind: Kind | None = None,
    desa_code: DesaCode = None,
    kecamatan_code: KecamatanCode = None,
    not_followed_up: Annotated[bool, Query(description="No follow-up yet")] = False,
    overdue: Annotated[bool, Query(description="Past its due moment, no follow-up")] = False,
    escalated: Annotated[bool, Query(description="Escalated to the kecamatan")] = False,
    occurred_from: From = None,
    occurred_to: To = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    filters = ReportFilters(
        kind=kind.value if kind else None,
        desa_code=desa_code,
        kecamatan_code=population_figures.checked_kecamatan(kecamatan_code),
        not_followed_up=not_followed_up,
        overdue=overdue,
        escalated=escalated,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
    )
    return await population_reports.list_reports(
        pool, officer, filters, page=page, page_size=page_size
    )


@router.get(
    "/reports/{report_id}",
    response_model=PopulationReportPublic,
    summary="One report with its outreach entries",
)
async def get_report(
    report_id: uuid.UUID, pool: PoolDep, officer: DesaOrSupervisor, language: LanguageDep
) -> Any:
    return await population_reports.get_report(pool, officer, report_id, language)


@router.get(
    "/summary",
    response_model=SummaryPublic,
    summary="Counts per desa and kind: reported, followed up, applied, overdue, escalated",
)
async def summary(
    pool: PoolDep,
    officer: DesaOrSupervisor,
    kecamatan_code: KecamatanCode = None,
    occurred_from: From = None,
    occurred_to: To = None,
) -> Any:
    return await population_figures.summary(
        pool,
        officer,
        kecamatan_code=kecamatan_code,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
    )


@router.get(
    "/period-report",
    response_model=PeriodReportPublic,
    summary="A month's figures of a kecamatan per desa and kind (`format=csv` for CSV)",
    responses={200: {"content": {"text/csv": {}}}},
)
async def period_report(
    pool: PoolDep,
    officer: DesaOrSupervisor,
    period: Annotated[str, Query(description="YYYY-MM", examples=["2026-11"])],
    kecamatan_code: KecamatanCode = None,
    format: Literal["json", "csv"] = "json",
) -> Any:
    answer = await population_figures.period_report(
        pool, officer, kecamatan_code=kecamatan_code, period=_period(period)
    )
    if format == "csv":
        return Response(
            population_figures.as_csv(answer),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": (
                    f'attachment; filename="laporan-{answer.kecamatan_code}-{answer.period}.csv"'
                )
            },
        )
    return answer


@router.post(
    "/period-reports",
    status_code=201,
    response_model=SentPeriodReport,
    summary="The kecamatan sends a month's figures up to the regency (once per month)",
)
async def send_period_report(
    body: PeriodReportCreate, pool: PoolDep, officer: DesaOrSupervisor
) -> Any:
    return await population_figures.send_period_report(
        pool, officer, kecamatan_code=body.kecamatan_code, period=_period(body.period)
    )


@router.get(
    "/period-reports",
    response_model=SentPeriodReportList,
    summary="The monthly reports the kecamatan sent (the regency's view)",
)
async def list_period_reports(
    pool: PoolDep,
    _officer: Supervisor,
    kecamatan_code: KecamatanCode = None,
    period: Annotated[str | None, Query(description="YYYY-MM")] = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    return await population_figures.list_period_reports(
        pool,
        kecamatan_code=kecamatan_code,
        period=_period(period).text if period else None,
        page=page,
        page_size=page_size,
    )
