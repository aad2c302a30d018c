"""The pickup board of one pickup point: what waits there to be collected.

Documents does not own the list of pickup points (intake does): a code in the
right format with no jobs answers an empty board, not 404.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from mpp_documents.domain.handover import (
    POINT_CODE_PATTERN,
    days_waiting,
    is_overdue,
    overdue_since,
)
from mpp_documents.domain.register import ZONE, type_name
from mpp_shared.auth import Principal, Role, require_roles
from mpp_shared.web import MAX_PAGE, LanguageDep, PoolDep

router = APIRouter(prefix="/v1/pickup-points", tags=["pickup"])

BoardReader = Annotated[
    Principal, Depends(require_roles(Role.PICKUP, Role.PRODUCTION, Role.SUPERVISOR))
]


class BoardCounts(BaseModel):
    ready: int = Field(description="Ready for pickup at this point")
    in_transit: int = Field(description="On their way to this point")
    collected_today: int = Field(description="Handed over here since midnight (WIB)")
    overdue: int = Field(description="Ready for longer than the pickup window")


class BoardItem(BaseModel):
    job_id: str
    tracking_code: str
    service_code: str
    service_name: str
    holder_masked: str | None = Field(description="Masked name and NIK, never clear")
    ready_at: datetime
    days_waiting: int = Field(description="Whole days since the document became ready")
    overdue: bool = Field(description="Waiting longer than the pickup window")
    version: int = Field(description="For expected_version when handing over")


class PickupBoard(BaseModel):
    pickup_point: str
    as_of: datetime
    pickup_window_days: int
    counts: BoardCounts
    items: list[BoardItem] = Field(description="Ready for pickup, newest first")
    page: int
    page_size: int
    total: int = Field(description="All ready items at this point (counts.ready)")


@router.get(
    "/{code}/board",
    response_model=PickupBoard,
    summary="What is ready at a pickup point, masked, with the point's counts",
)
async def board(
    request: Request,
    pool: PoolDep,
    language: LanguageDep,
    _reader: BoardReader,
    code: Annotated[str, Path(pattern=POINT_CODE_PATTERN, description="e.g. MPP, KEC-PARE")],
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    window_days: int = request.app.state.settings.pickup_window_days
    now = datetime.now(ZONE)
    midnight = datetime.combine(now.date(), time(), tzinfo=ZONE)
    # Jobs made ready before the ready_at column existed: their last change was
    # becoming ready, so updated_at stands in.
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        counts = await conn.fetchrow(
            """
            SELECT
                count(*) FILTER (WHERE state = 'ready_for_pickup') AS ready,
                count(*) FILTER (WHERE state = 'in_transit') AS in_transit,
                count(*) FILTER (WHERE state = 'picked_up' AND picked_up_at >= $2)
                    AS collected_today,
                count(*) FILTER (WHERE state = 'ready_for_pickup'
                                   AND coalesce(ready_at, updated_at) < $3) AS overdue
            FROM jobs
            WHERE pickup_point = $1 AND state IN ('ready_for_pickup', 'in_transit', 'picked_up')
            """,
            code,
            midnight,
            overdue_since(now, window_days),
        )
        rows = await conn.fetch(
            """
            SELECT id, tracking_code, service_code, holder_masked, version,
                   coalesce(ready_at, updated_at) AS ready_at
            FROM jobs WHERE pickup_point = $1 AND state = 'ready_for_pickup'
            ORDER BY coalesce(ready_at, updated_at) DESC, id DESC
            LIMIT $2 OFFSET $3
            """,
            code,
            page_size,
            (page - 1) * page_size,
        )
    return PickupBoard(
        pickup_point=code,
        as_of=now,
        pickup_window_days=window_days,
        counts=BoardCounts(**dict(counts)),
        items=[
            BoardItem(
                job_id=str(r["id"]),
                tracking_code=r["tracking_code"],
                service_code=r["service_code"],
                service_name=type_name(r["service_code"], language),
                holder_masked=r["holder_masked"],
                ready_at=r["ready_at"],
                days_waiting=days_waiting(r["ready_at"], now),
                overdue=is_overdue(r["ready_at"], now, window_days),
                version=r["version"],
            )
            for r in rows
        ],
        page=page,
        page_size=page_size,
        total=counts["ready"],
    )
