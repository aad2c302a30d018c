"""Complaints: filing (public, rate limited, Idempotency-Key) and reading
(complaint officers)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request

from mpp_complaints.api import ratelimit
from mpp_complaints.api.deps import ComplaintOfficer, Settings
from mpp_complaints.api.schemas import ComplaintCreate, ComplaintPublic
from mpp_complaints.usecases import filing, views
from mpp_shared.idempotency import StoredAnswer
from mpp_shared.web import IdempotencyKey, PoolDep, replayed
from mpp_shared.web.auth import PUBLIC

router = APIRouter(prefix="/v1/complaints", tags=["complaints"])


@router.post(
    "",
    status_code=201,
    response_model=ComplaintPublic,
    dependencies=[PUBLIC],
    summary="File a complaint (pengaduan), anonymously if wished",
    responses={429: {"description": "Too many complaints from this client (Retry-After)"}},
)
async def file_complaint(
    body: ComplaintCreate,
    request: Request,
    pool: PoolDep,
    settings: Settings,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    if (refused := ratelimit.refusal(request)) is not None:
        return refused
    filed = await filing.file_complaint(
        pool,
        body,
        idempotency_key=idempotency_key,
        settings=settings,
        cipher=request.app.state.cipher,
    )
    return replayed(filed) if isinstance(filed, StoredAnswer) else filed


@router.get("/{complaint_id}", response_model=ComplaintPublic, summary="One complaint")
async def get_complaint(complaint_id: uuid.UUID, pool: PoolDep, _officer: ComplaintOfficer) -> Any:
    return await views.read_complaint(pool, complaint_id)
