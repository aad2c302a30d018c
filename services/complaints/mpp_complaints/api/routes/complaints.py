"""Complaints: filing (public, rate limited, Idempotency-Key) and reading one
(complaint officers and supervisors any; an OPD's system only those assigned
to its OPD, another's is 404). The list (the work queue) is routes/queue.py."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request

from mpp_complaints.api import ratelimit
from mpp_complaints.api.deps import OfficerOrOpd, Settings
from mpp_complaints.api.schemas import ComplaintCreate, ComplaintPublic
from mpp_complaints.usecases import filing, views
from mpp_complaints.usecases.views import ComplaintDetail
from mpp_shared.idempotency import StoredAnswer
from mpp_shared.web import IdempotencyKey, PoolDep, replayed
from mpp_shared.web.auth import PUBLIC

router = APIRouter(prefix="/v1/complaints", tags=["complaints"])


@router.post(
    "",
    status_code=201,
    response_model=ComplaintPublic,
    dependencies=[PUBLIC],
    summary="File a report: a complaint (pengaduan, the default), a suggestion (aspirasi) or a "
    "request for information (permintaan_informasi), anonymously if wished",
    responses={429: {"description": "Too many complaints from this client (Retry-After)"}},
)
async def file_complaint(
    body: ComplaintCreate,
    request: Request,
    pool: PoolDep,
    settings: Settings,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    if (refused := await ratelimit.refusal(request)) is not None:
        return refused
    filed = await filing.file_complaint(
        pool,
        body,
        idempotency_key=idempotency_key,
        settings=settings,
        cipher=request.app.state.cipher,
    )
    return replayed(filed) if isinstance(filed, StoredAnswer) else filed


@router.get(
    "/{complaint_id}",
    response_model=ComplaintDetail,
    summary="One complaint (an OPD's system: only one assigned to its OPD)",
    description="Never the reporter's name or contact. Another OPD's complaint, or one not "
    "assigned yet, is 404 to an OPD's system; a token naming no OPD is 403.",
)
async def get_complaint(complaint_id: uuid.UUID, pool: PoolDep, viewer: OfficerOrOpd) -> Any:
    return await views.read_complaint(pool, complaint_id, viewer=viewer)
