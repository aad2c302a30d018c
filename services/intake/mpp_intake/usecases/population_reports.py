"""The village's reports of births, deaths and moves.

A report is stored in one transaction with the outreach entries of the
documents the family now needs (one per service, carrying the applicant and
the papers the family already holds), its audit entry and the event
`mpp.population.reported.v1` (PII-free). Its follow-up deadline is counted on
the working calendar; a follow-up recorded on, or an application made from,
any of its entries ends it (`store.population.mark_followed_up`).
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime

import asyncpg
from pydantic import BaseModel

from mpp_intake.domain import population as rules
from mpp_intake.domain.population import Kind
from mpp_intake.settings import IntakeSettings
from mpp_intake.store import catalog, outreach, population
from mpp_intake.usecases.history import SOURCE
from mpp_intake.usecases.outreach_entries import OutreachEntryPublic, entry_answer
from mpp_intake.usecases.population_scope import Scope, refuse_desa, refuse_kecamatan, scope_of
from mpp_shared import audit, clock
from mpp_shared.auth import Principal
from mpp_shared.errors import Invalid, Language, NotFound
from mpp_shared.events import build_event
from mpp_shared.events.schemas import PopulationReportedV1
from mpp_shared.idempotency import Idempotency, StoredAnswer
from mpp_shared.messaging.outbox import enqueue
from mpp_shared.pii import FieldCipher, mask_name, mask_nik, mask_phone
from mpp_shared.scheduling import trace_carrier
from mpp_shared.workcal import calendar_of

NOT_FOUND = ("Laporan kependudukan tidak ditemukan", "Population report not found")


@dataclass(frozen=True)
class ReportEvent:
    """What the desa officer reports (each value already checked on its own
    at the edge). Its fields are those of the request, so an Idempotency-Key
    retry is recognised by them."""

    kind: Kind
    occurred_on: date
    kk_number: str
    applicant_nik: str
    applicant_name: str
    subject_name: str | None = None
    subject_nik: str | None = None
    applicant_phone: str | None = None
    papers_held: tuple[str, ...] = ()
    note: str | None = None
    desa_code: str | None = None


class PopulationReportPublic(BaseModel):
    id: uuid.UUID
    kind: Kind
    desa_code: str
    kecamatan_code: str
    occurred_on: date
    kk_masked: str
    subject_name_masked: str | None
    subject_nik_masked: str | None
    applicant_nik_masked: str
    applicant_name_masked: str
    applicant_phone_masked: str | None
    papers_held: list[str]
    note: str | None
    services: list[str]
    reported_by: str
    counter: str | None
    reported_at: datetime
    due_at: datetime
    followed_up_at: datetime | None
    escalated_at: datetime | None
    overdue: bool
    entry_ids: list[uuid.UUID]
    entries: list[OutreachEntryPublic] | None = None


class PopulationReportList(BaseModel):
    items: list[PopulationReportPublic]
    total: int
    page: int
    page_size: int


def report_answer(
    row: asyncpg.Record,
    entry_ids: list[uuid.UUID],
    now: datetime,
    entries: list[OutreachEntryPublic] | None = None,
) -> PopulationReportPublic:
    return PopulationReportPublic(
        id=row["id"],
        kind=Kind(row["kind"]),
        desa_code=row["desa_code"],
        kecamatan_code=row["kecamatan_code"],
        occurred_on=row["occurred_on"],
        kk_masked=row["kk_masked"],
        subject_name_masked=row["subject_name_masked"],
        subject_nik_masked=row["subject_nik_masked"],
        applicant_nik_masked=row["nik_masked"],
        applicant_name_masked=row["name_masked"],
        applicant_phone_masked=row["phone_masked"],
        papers_held=list(row["papers_held"]),
        note=row["note"],
        services=list(row["services"]),
        reported_by=row["reported_by"],
        counter=row["counter"],
        reported_at=row["reported_at"],
        due_at=row["due_at"],
        followed_up_at=row["followed_up_at"],
        escalated_at=row["escalated_at"],
        overdue=row["followed_up_at"] is None and row["due_at"] <= now,
        entry_ids=entry_ids,
        entries=entries,
    )


# --- checks needing the catalog or the scope --------------------------------------


def _check_subject(command: ReportEvent) -> None:
    if rules.needs_subject_nik(command.kind):
        if not command.subject_nik:
            raise Invalid.field("subject_nik", "subject_nik_required", *_m("subject_nik_required"))
        if not command.subject_name:
            raise Invalid.field("subject_name", "missing", "wajib diisi", "is required")
    elif command.subject_nik:
        raise Invalid.field("subject_nik", "subject_nik_for_birth", *_m("subject_nik_for_birth"))


def _m(code: str, **values: str) -> tuple[str, str]:
    return rules.message(code, **values)


async def _check_papers(conn: asyncpg.Connection, command: ReportEvent) -> None:
    services = rules.services_of(command.kind)
    known: set[str] = set()
    for code in services:
        service = await catalog.current_service_cached(conn, code)
        if service is not None:
            for requirement in service.requirements:
                known |= requirement.accepted_codes
    unknown = rules.unknown_papers(list(command.papers_held), known)
    if unknown:
        id_, en = _m("unknown_paper", services=", ".join(services), value=", ".join(unknown))
        raise Invalid.field("papers_held", "unknown_paper", id_, en)


def _desa_of_report(scope: Scope, command: ReportEvent) -> str:
    """The desa reported for: a desa officer's own (or refused), else the one named."""
    desa = command.desa_code or scope.desa_code
    if desa is None:
        raise Invalid.field(
            "desa_code",
            "missing",
            "wajib diisi: desa tempat kejadian (10 angka)",
            "is required: the desa where it happened (10 digits)",
        )
    refuse_desa(scope, desa)
    return desa


# --- use cases ------------------------------------------------------------------


async def report(
    pool: asyncpg.Pool,
    *,
    settings: IntakeSettings,
    cipher: FieldCipher,
    officer: Principal,
    command: ReportEvent,
    language: Language,
    idempotency_key: str | None,
) -> PopulationReportPublic | StoredAnswer:
    """Store the report and its outreach entries; a retry with the same
    Idempotency-Key gets the first answer back. Refuses (Invalid) a subject
    without the NIK its kind needs and papers no service of the report knows,
    (Forbidden) a desa outside the officer's area."""
    _check_subject(command)
    now = clock.now()
    report_id = uuid.uuid4()
    services = list(rules.services_of(command.kind))
    entry_ids = [uuid.uuid4() for _ in services]
    async with pool.acquire() as conn, conn.transaction():
        scope = await scope_of(conn, officer)
        desa = _desa_of_report(scope, command)
        await _check_papers(conn, command)
        once = Idempotency(conn, f"population-reports:{officer.subject}", idempotency_key)
        if (stored := await once.replay(asdict(command))) is not None:
            return stored
        carrier = trace_carrier()
        await population.insert_report(
            conn,
            _new_report(
                cipher,
                command,
                report_id=report_id,
                desa_code=desa,
                services=services,
                officer=officer,
                now=now,
                due_at=rules.follow_up_due(
                    calendar_of(settings), now, settings.population_follow_up_days
                ),
                carrier=carrier,
            ),
        )
        await population.insert_entries(conn, report_id, now, entry_ids, services)
        await audit.record(
            conn,
            officer,
            action="population.report",
            target_type="population_report",
            target_id=str(report_id),
            detail={"kind": command.kind.value, "desa_code": desa, "services": services},
        )
        event = PopulationReportedV1(
            kecamatan_code=desa[:6],
            report_id=report_id,
            kind=command.kind.value,
            desa_code=desa,
            occurred_on=command.occurred_on,
            services=services,
            entry_ids=entry_ids,
            reported_at=now,
        )
        await enqueue(
            conn,
            build_event(event, source=SOURCE, subject=str(report_id)),
            topic=event.topic,
            key=desa,
        )
        row = await population.fetch_report(conn, report_id)
        assert row is not None
        answer = report_answer(
            row, entry_ids, now, await _entries(conn, report_id, services, language)
        )
        await once.remember(answer)
    return answer


def _new_report(
    cipher: FieldCipher,
    command: ReportEvent,
    *,
    report_id: uuid.UUID,
    desa_code: str,
    services: list[str],
    officer: Principal,
    now: datetime,
    due_at: datetime,
    carrier: dict[str, str],
) -> population.NewReport:
    subject_nik, subject_name, phone = (
        command.subject_nik,
        command.subject_name,
        command.applicant_phone,
    )
    return population.NewReport(
        id=report_id,
        kind=command.kind.value,
        desa_code=desa_code,
        occurred_on=command.occurred_on,
        kk_enc=cipher.encrypt(command.kk_number, context="kk"),
        kk_masked=mask_nik(command.kk_number),
        subject_name_enc=(
            cipher.encrypt(subject_name, context="subject_name") if subject_name else None
        ),
        subject_name_masked=mask_name(subject_name) if subject_name else None,
        subject_nik_enc=cipher.encrypt(subject_nik, context="subject_nik") if subject_nik else None,
        subject_nik_index=cipher.blind_index(subject_nik, context="nik") if subject_nik else None,
        subject_nik_masked=mask_nik(subject_nik) if subject_nik else None,
        nik_enc=cipher.encrypt(command.applicant_nik, context="nik"),
        nik_index=cipher.blind_index(command.applicant_nik, context="nik"),
        nik_masked=mask_nik(command.applicant_nik),
        name_enc=cipher.encrypt(command.applicant_name, context="name"),
        name_masked=mask_name(command.applicant_name),
        phone_enc=cipher.encrypt(phone, context="phone") if phone else None,
        phone_masked=mask_phone(phone) if phone else None,
        papers_held=list(dict.fromkeys(command.papers_held)),
        note=command.note or None,
        services=services,
        reported_by=officer.subject,
        counter=officer.counter,
        reported_at=now,
        due_at=due_at,
        traceparent=carrier.get("traceparent"),
        tracestate=carrier.get("tracestate"),
    )


async def _entries(
    conn: asyncpg.Connection | asyncpg.Pool,
    report_id: uuid.UUID,
    services: list[str],
    language: Language,
) -> list[OutreachEntryPublic]:
    """The report's entries, in the order of its services (as its event lists them)."""
    rows = await outreach.entry_page(
        conn,
        desa_code=None,
        kecamatan_code=None,
        status=None,
        service_code=None,
        list_id=None,
        report_id=report_id,
        limit=50,
        offset=0,
    )
    entries = [entry_answer(r, language) for r in rows]
    return sorted(entries, key=lambda e: (services.index(e.service_code), e.created_at, e.id))


async def list_reports(
    pool: asyncpg.Pool,
    officer: Principal,
    filters: population.ReportFilters,
    *,
    page: int,
    page_size: int,
) -> PopulationReportList:
    """Newest first, within the officer's area (asking outside it is refused)."""
    scope = await scope_of(pool, officer)
    if filters.desa_code:
        refuse_desa(scope, filters.desa_code)
    if filters.kecamatan_code:
        refuse_kecamatan(scope, filters.kecamatan_code)
    if scope.kecamatan_code:
        filters = replace(filters, kecamatan_code=scope.kecamatan_code)
    now = clock.now()
    rows = await population.report_page(
        pool,
        filters,
        scope_desa=scope.desa_code,
        now=now,
        limit=page_size,
        offset=(page - 1) * page_size,
    )
    return PopulationReportList(
        items=[report_answer(r, list(r["entry_ids"] or []), now) for r in rows],
        total=rows[0]["total"] if rows else 0,
        page=page,
        page_size=page_size,
    )


async def get_report(
    pool: asyncpg.Pool, officer: Principal, report_id: uuid.UUID, language: Language
) -> PopulationReportPublic:
    """The report with its entries; one outside the officer's area is refused."""
    scope = await scope_of(pool, officer)
    row = await population.fetch_report(pool, report_id)
    if row is None:
        raise NotFound("not_found", *NOT_FOUND)
    refuse_desa(scope, row["desa_code"])
    entries = await _entries(pool, report_id, list(row["services"]), language)
    return report_answer(row, [e.id for e in entries], clock.now(), entries)
