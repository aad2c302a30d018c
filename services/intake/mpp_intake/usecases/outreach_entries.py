"""The desa officer's worklist of outreach entries, and the visits recorded
on it.

A desa officer is a `frontdesk` principal whose counter is `DESA-<desa code>`;
they see and change the entries of that desa only (refused with Forbidden,
before anything of the entry's state is told). Supervisors and admins see
every desa.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg
from pydantic import BaseModel, Field

from mpp_intake.domain import outreach as rules
from mpp_intake.domain.outreach import EntryStatus, Outcome
from mpp_intake.store import outreach, population
from mpp_intake.usecases.history import SOURCE
from mpp_shared import clock
from mpp_shared.auth import Principal, Role
from mpp_shared.errors import Conflict, Forbidden, Language
from mpp_shared.transitions import begin_transition, finish_transition

_ALL_DESA = frozenset({Role.SUPERVISOR, Role.ADMIN})


class FollowUp(BaseModel):
    outcome: str
    note: str | None = None
    by: str
    counter: str | None = None
    at: datetime


class OutreachEntryPublic(BaseModel):
    id: uuid.UUID
    origin: Literal["list", "report"] = Field(
        description="Where it came from: an uploaded list (`list_id`) or a desa's report "
        "of a birth, death or move (`report_id`)"
    )
    list_id: uuid.UUID | None
    list_name: str | None
    line: int | None
    report_id: uuid.UUID | None
    report_kind: str | None
    papers_held: list[str] = Field(
        description="Papers the family already holds (from the report): pre-filled as handed "
        "in when the entry becomes an application"
    )
    desa_code: str
    kecamatan_code: str
    nik_masked: str
    name_masked: str
    phone_masked: str | None
    address: str | None
    service_code: str
    service_name: str | None
    status: str
    follow_ups: list[FollowUp]
    application_id: uuid.UUID | None
    tracking_code: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class OutreachEntryList(BaseModel):
    items: list[OutreachEntryPublic]
    total: int
    page: int
    page_size: int


@dataclass(frozen=True)
class EntryFilters:
    """Which entries a worklist shows; None leaves a filter out. A desa
    officer's list is always their own desa."""

    status: EntryStatus | None = None
    service_code: str | None = None
    desa_code: str | None = None
    kecamatan_code: str | None = None
    list_id: uuid.UUID | None = None


@dataclass(frozen=True)
class RecordFollowUp:
    outcome: Outcome
    note: str | None = None
    expected_version: int | None = None


# --- who sees which desa --------------------------------------------------------


def desa_scope(officer: Principal) -> str | None:
    """The one desa a desa officer works for; None for those who see every desa."""
    if officer.has_any(_ALL_DESA):
        return None
    desa = rules.desa_of_counter(officer.counter)
    if desa is None:
        raise Forbidden(
            "not_a_desa_counter",
            "Daftar jemput bola hanya untuk petugas desa: token Anda harus untuk loket "
            f"DESA-<kode desa 10 angka>, misalnya DESA-3506172001 (loket Anda: "
            f"{officer.counter or 'tidak ada'})",
            "Outreach lists are for desa officers: your token must be for a counter "
            f"DESA-<10-digit desa code>, e.g. DESA-3506172001 (your counter: "
            f"{officer.counter or 'none'})",
        )
    return desa


def check_desa(officer: Principal, row: asyncpg.Record) -> None:
    scope = desa_scope(officer)
    if scope is not None and scope != row["desa_code"]:
        raise Forbidden(
            "other_desa",
            f"Entri ini milik desa {row['desa_code']}; Anda petugas desa {scope}",
            f"This entry belongs to desa {row['desa_code']}; you are the officer of desa {scope}",
        )


def desa_of(officer: Principal) -> Callable[[asyncpg.Record], None]:
    """`authorize` for `begin_transition`: another desa's officer is refused
    before the entry's version or status is told."""
    return functools.partial(check_desa, officer)


# --- answers --------------------------------------------------------------------


def entry_answer(row: asyncpg.Record, language: Language) -> OutreachEntryPublic:
    service_name = row["service_name_en"] if language == "en" else row["service_name_id"]
    return OutreachEntryPublic(
        id=row["id"],
        origin="report" if row["report_id"] is not None else "list",
        list_id=row["list_id"],
        list_name=row["list_name"],
        line=row["line"],
        report_id=row["report_id"],
        report_kind=row["report_kind"],
        papers_held=list(row["papers_held"]),
        desa_code=row["desa_code"],
        kecamatan_code=row["kecamatan_code"],
        nik_masked=row["nik_masked"],
        name_masked=row["name_masked"],
        phone_masked=row["phone_masked"],
        address=row["address"],
        service_code=row["service_code"],
        service_name=service_name,
        status=row["status"],
        follow_ups=[FollowUp(**f) for f in row["follow_ups"]],
        application_id=row["application_id"],
        tracking_code=row["tracking_code"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def read_entry(
    conn: asyncpg.Connection | asyncpg.Pool, entry_id: uuid.UUID
) -> asyncpg.Record:
    row = await outreach.fetch_entry(conn, entry_id)
    if row is None:
        raise outreach.ENTRIES.not_found()
    return row


# --- use cases ------------------------------------------------------------------


async def list_entries(
    pool: asyncpg.Pool,
    officer: Principal,
    filters: EntryFilters,
    *,
    page: int,
    page_size: int,
    language: Language,
) -> OutreachEntryList:
    """One page of entries in upload order; a desa officer asking for another
    desa is refused (Forbidden)."""
    desa_code = filters.desa_code
    scope = desa_scope(officer)
    if scope is not None:
        if desa_code and rules.normalise_desa_code(desa_code) != scope:
            raise Forbidden(
                "other_desa",
                f"Anda petugas desa {scope} dan hanya melihat entri desa itu",
                f"You are the officer of desa {scope} and see that desa's entries only",
            )
        desa_code = scope
    elif desa_code:
        desa_code = rules.normalise_desa_code(desa_code)
    rows = await outreach.entry_page(
        pool,
        desa_code=desa_code,
        kecamatan_code=filters.kecamatan_code,
        status=filters.status.value if filters.status else None,
        service_code=filters.service_code,
        list_id=filters.list_id,
        limit=page_size,
        offset=(page - 1) * page_size,
    )
    return OutreachEntryList(
        items=[entry_answer(r, language) for r in rows],
        total=rows[0]["total"] if rows else 0,
        page=page,
        page_size=page_size,
    )


async def get_entry(
    pool: asyncpg.Pool, officer: Principal, entry_id: uuid.UUID, language: Language
) -> OutreachEntryPublic:
    row = await read_entry(pool, entry_id)
    check_desa(officer, row)
    return entry_answer(row, language)


async def record_follow_up(
    pool: asyncpg.Pool,
    officer: Principal,
    entry_id: uuid.UUID,
    command: RecordFollowUp,
    language: Language,
) -> OutreachEntryPublic:
    """The visit's outcome becomes the entry's status. Refuses (Conflict) an
    entry already applied for, a stale version, or a return to a workable
    status while a newer list holds the same resident for the service."""
    now = clock.now()
    follow_up = {
        "outcome": command.outcome.value,
        "note": command.note or None,
        "by": officer.subject,
        "counter": officer.counter,
        "at": now.isoformat(),
    }
    try:
        async with pool.acquire() as conn, conn.transaction():
            row = await begin_transition(
                conn,
                outreach.ENTRIES,
                entry_id,
                target=command.outcome.value,
                expected_version=command.expected_version,
                allowed=lambda row: rules.can_follow_up(row["status"]),
                authorize=desa_of(officer),
            )
            await outreach.record_follow_up(
                conn, entry_id, status=command.outcome.value, follow_up=follow_up, at=now
            )
            if row["report_id"] is not None:
                await population.mark_followed_up(conn, row["report_id"], now)
            await finish_transition(
                conn,
                officer,
                action="outreach.follow_up",
                target_type="outreach_entry",
                target_id=str(entry_id),
                detail={"outcome": command.outcome.value, "from": row["status"]},
                source=SOURCE,
                key=str(entry_id),
            )
            return entry_answer(await read_entry(conn, entry_id), language)
    except asyncpg.UniqueViolationError:
        raise Conflict(
            "already_listed",
            "Penduduk ini sudah ada di daftar jemput bola yang lebih baru untuk layanan ini; "
            "lanjutkan di entri itu",
            "A newer outreach list holds this resident for this service; carry on with that entry",
        ) from None
