"""The officers' work queue: complaints listed for complaint officers and
supervisors (every complaint) and for an OPD's system (only those assigned
to its OPD), overdue first by default, with paging and counts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from mpp_complaints.api.deps import OfficerOrOpd
from mpp_complaints.domain.complaints import CHANNELS, OPD_CODE
from mpp_complaints.domain.kinds import KINDS
from mpp_complaints.domain.queue import (
    STATUSES,
    QueueFilter,
    Sort,
    parse_channel,
    parse_kind,
    parse_statuses,
)
from mpp_complaints.usecases import queue
from mpp_complaints.usecases.queue import ComplaintQueue
from mpp_shared.web import MAX_PAGE, PoolDep
from mpp_shared.web.paging import CursorQuery

router = APIRouter(prefix="/v1/complaints", tags=["complaints"])


@router.get(
    "",
    response_model=ComplaintQueue,
    summary="The work queue: reports by status, kind, category, OPD, channel, overdue first",
    description="Complaint officers and supervisors list every complaint; an OPD's system "
    "(`opd_system` token with the claim `opd`) only those assigned to its OPD (asking for "
    "another OPD is 403; a token naming no OPD is 403). `overdue_first` (default): overdue "
    "complaints first (verification, follow-up or information step past its deadline), then by the "
    "running step's deadline, soonest first, then the newest. `counts.by_status` counts "
    "under every filter but `status`; `total` and `counts.overdue` under every filter. "
    "No item holds the reporter's name or contact.",
)
async def list_complaints(
    pool: PoolDep,
    viewer: OfficerOrOpd,
    status: Annotated[
        list[str] | None,
        Query(
            description="Repeat it or separate with commas: " + ", ".join(STATUSES),
            max_length=20,
        ),
    ] = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    opd: Annotated[str | None, Query(pattern=OPD_CODE)] = None,
    channel: Annotated[
        str | None, Query(json_schema_extra={"enum": list(CHANNELS)}, max_length=40)
    ] = None,
    kind: Annotated[
        str | None, Query(json_schema_extra={"enum": list(KINDS)}, max_length=40)
    ] = None,
    overdue: Annotated[bool | None, Query(description="Only overdue (true) or not (false)")] = None,
    sort: Sort = Sort.OVERDUE_FIRST,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
    cursor: CursorQuery = None,
) -> Any:
    wanted = QueueFilter(
        statuses=parse_statuses(status or ()),
        category=category or None,
        opd=opd,
        channel=parse_channel(channel),
        kind=parse_kind(kind),
        overdue=overdue,
    )
    return await queue.list_queue(
        pool, wanted, viewer=viewer, sort=sort, page=page, page_size=page_size, cursor=cursor
    )
