"""The pickup board of one pickup point: what waits there to be collected,
for the pickup desk (masked holders, counts, versions) and, without any
holder, for the waiting room (`/ready`, public; its page is /board/{code}).

Documents does not own the list of pickup points (intake does): a code in the
right format with no jobs answers an empty board, not 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from mpp_documents.api.deps import SettingsDep, Staff
from mpp_documents.domain.handover import POINT_CODE_PATTERN
from mpp_documents.domain.register import type_name
from mpp_documents.usecases import pickup_board
from mpp_shared.web import MAX_PAGE, LanguageDep, PoolDep
from mpp_shared.web.auth import PUBLIC

router = APIRouter(prefix="/v1/pickup-points", tags=["pickup"])

# The most codes the waiting room is shown (more than any screen holds).
PUBLIC_BOARD_LIMIT = 200
PointCode = Annotated[str, Path(pattern=POINT_CODE_PATTERN, description="e.g. MPP, KEC-PARE")]


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
    settings: SettingsDep,
    pool: PoolDep,
    language: LanguageDep,
    _reader: Staff,
    code: PointCode,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    found = await pickup_board.read_board(
        pool, code, window_days=settings.pickup_window_days, page=page, page_size=page_size
    )
    return PickupBoard(
        pickup_point=found.pickup_point,
        as_of=found.as_of,
        pickup_window_days=found.window_days,
        counts=BoardCounts(
            ready=found.counts.ready,
            in_transit=found.counts.in_transit,
            collected_today=found.counts.collected_today,
            overdue=found.counts.overdue,
        ),
        items=[
            BoardItem(
                job_id=str(item.job_id),
                tracking_code=item.tracking_code,
                service_code=item.service_code,
                service_name=type_name(item.service_code, language),
                holder_masked=item.holder_masked,
                ready_at=item.ready_at,
                days_waiting=item.days_waiting,
                overdue=item.overdue,
                version=item.version,
            )
            for item in found.items
        ],
        page=page,
        page_size=page_size,
        total=found.counts.ready,
    )


class ReadyCodeOut(BaseModel):
    tracking_code: str
    service_code: str
    service_name: str = Field(description="In the caller's language")
    ready_at: datetime


class PublicBoardOut(BaseModel):
    """What a waiting room may see: tracking codes and services, no holder."""

    pickup_point: str
    as_of: datetime = Field(description="When the board was read (WIB)")
    count: int = Field(description="Every document ready at this point")
    items: list[ReadyCodeOut] = Field(
        description=f"Newest first, at most {PUBLIC_BOARD_LIMIT} (count may be more)"
    )


@router.get(
    "/{code}/ready",
    response_model=PublicBoardOut,
    dependencies=[PUBLIC],
    summary="Tracking codes ready at a pickup point (public, for the waiting room)",
)
async def ready_codes(
    pool: PoolDep, language: LanguageDep, code: PointCode, response: Response
) -> Any:
    found = await pickup_board.read_public_board(pool, code, limit=PUBLIC_BOARD_LIMIT)
    response.headers["Cache-Control"] = "no-store"
    return PublicBoardOut(
        pickup_point=found.pickup_point,
        as_of=found.as_of,
        count=found.count,
        items=[
            ReadyCodeOut(
                tracking_code=item.tracking_code,
                service_code=item.service_code,
                service_name=type_name(item.service_code, language),
                ready_at=item.ready_at,
            )
            for item in found.items
        ],
    )
