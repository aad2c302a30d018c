"""The officers' view of applications: one, a filtered page, or a resident's
by NIK; masked (no clear NIK, name or contact) and in the officer's language.

`ApplicationPublic` is also the answer of every use case that changes an
application, so that every route answers alike.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import asyncpg
from pydantic import BaseModel, Field

from mpp_intake.domain.applications import Status
from mpp_intake.domain.guidance import next_step
from mpp_intake.store import applications
from mpp_shared import paging
from mpp_shared.errors import Language
from mpp_shared.pii import FieldCipher

# A search by NIK answers one page of at most this many applications.
SEARCH_LIMIT = 200
# The one order of the applications list, named in its cursors.
LIST_SORT = "applications.newest"


class MissingRequirement(BaseModel):
    code: str
    name: str
    note: str | None = None


class ApplicationPublic(BaseModel):
    id: uuid.UUID
    tracking_code: str
    service_code: str
    service_name: str
    catalog_version: int
    fee_idr: int
    channel: str
    status: str
    progress: str
    nik_masked: str
    applicant_name_masked: str
    pickup_point: str | None
    documents: list[str]
    missing_requirements: list[MissingRequirement]
    returned_items: list[MissingRequirement]
    reason_codes: list[str]
    decision_reason: str | None
    expected_ready_at: datetime | None
    next_step: str
    version: int
    submitted_at: datetime


class ApplicationList(BaseModel):
    items: list[ApplicationPublic]
    total: int | None = Field(
        description="How many applications match; counted on a page asked for without "
        "`cursor`, null on the pages a cursor leads to; at most 10 000 (see `total_capped`)"
    )
    total_capped: bool = Field(
        default=False,
        description="More applications match than `total` says (it stops counting at "
        "10 000): narrow the filters for an exact count",
    )
    page: int
    page_size: int
    next_cursor: str | None = Field(
        default=None,
        description="Pass as `cursor` for the next page (keyset: any depth costs the same); "
        "null on the last page",
    )


@dataclass(frozen=True)
class ApplicationFilters:
    """Which applications a listing shows; None leaves a filter out. The days
    are inclusive, counted in UTC."""

    status: Status | None = None
    channel: str | None = None
    pickup_point: str | None = None
    service_code: str | None = None
    submitted_from: date | None = None
    submitted_to: date | None = None


def named_items(items: list[dict[str, Any]], language: Language) -> list[MissingRequirement]:
    return [
        MissingRequirement(
            code=i["code"],
            name=i["name_en"] if language == "en" else i["name_id"],
            note=i.get("note"),
        )
        for i in items
    ]


def public_answer(row: Mapping[str, Any], language: Language) -> ApplicationPublic:
    """The officer's (masked) view of an application row read with `applications.SELECT`."""
    missing = named_items(row["missing"], language)
    returned = named_items(row["returned_items"], language)
    return ApplicationPublic(
        id=row["id"],
        tracking_code=row["tracking_code"],
        service_code=row["service_code"],
        service_name=row["service_name_en"] if language == "en" else row["service_name_id"],
        catalog_version=row["catalog_version"],
        fee_idr=row["fee_idr"],
        channel=row["channel"],
        status=row["status"],
        progress=row["progress"],
        nik_masked=row["nik_masked"],
        applicant_name_masked=row["name_masked"],
        pickup_point=row["pickup_point"],
        documents=list(row["documents"]),
        missing_requirements=missing,
        returned_items=returned,
        reason_codes=list(row["reason_codes"]),
        decision_reason=row["decision_reason"],
        expected_ready_at=row["expected_ready_at"],
        next_step=next_step(
            row["status"],
            row["progress"],
            [m.name for m in missing],
            [r.name for r in returned],
            language,
        ),
        version=row["version"],
        submitted_at=row["created_at"],
    )


async def read_application(
    conn: asyncpg.Connection | asyncpg.Pool, application_id: uuid.UUID
) -> asyncpg.Record:
    """The application row; NotFound when there is none."""
    row = await applications.fetch(conn, application_id)
    if row is None:
        raise applications.APPLICATIONS.not_found()
    return row


async def get_application(
    pool: asyncpg.Pool, application_id: uuid.UUID, language: Language
) -> ApplicationPublic:
    return public_answer(await read_application(pool, application_id), language)


async def list_applications(
    pool: asyncpg.Pool,
    filters: ApplicationFilters,
    *,
    page: int,
    page_size: int,
    language: Language,
    cursor: str | None = None,
) -> ApplicationList:
    """One page of the applications `filters` let through, newest first: the
    one after `cursor` when given (keyset), else page `page` (OFFSET)."""
    after = None
    if cursor is not None:
        created_at, after_id = paging.decode(cursor, LIST_SORT, (paging.TIMESTAMP, paging.UUID))
        after = (created_at, after_id)
    since = (
        datetime.combine(filters.submitted_from, time.min, UTC) if filters.submitted_from else None
    )
    before = (
        datetime.combine(filters.submitted_to + timedelta(days=1), time.min, UTC)
        if filters.submitted_to
        else None
    )
    wanted: dict[str, Any] = {
        "status": filters.status.value if filters.status else None,
        "channel": filters.channel,
        "pickup_point": filters.pickup_point,
        "service_code": filters.service_code,
        "since": since,
        "before": before,
    }
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        rows = await applications.page(
            conn, **wanted, limit=page_size + 1, offset=(page - 1) * page_size, after=after
        )
        counted = None if after is not None else await applications.count(conn, **wanted)
    shown, following = paging.page_of(
        rows, page_size, LIST_SORT, lambda r: (r["created_at"], r["id"])
    )
    total, total_capped = paging.capped(counted)
    return ApplicationList(
        items=[public_answer(r, language) for r in shown],
        total=total,
        total_capped=total_capped,
        page=page,
        page_size=page_size,
        next_cursor=following,
    )


async def search_applications(
    pool: asyncpg.Pool, cipher: FieldCipher, nik: str, language: Language
) -> ApplicationList:
    """A resident's applications, newest first, found by the NIK's blind index."""
    rows = await applications.by_nik(pool, cipher.blind_indexes(nik, context="nik"), SEARCH_LIMIT)
    return ApplicationList(
        items=[public_answer(r, language) for r in rows],
        total=len(rows),
        page=1,
        page_size=SEARCH_LIMIT,
    )
