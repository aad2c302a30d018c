"""Complaints: filing (public) and reading (complaint officers)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from mpp_complaints import filing, ratelimit
from mpp_complaints.api.schemas import ComplaintCreate, ComplaintPublic
from mpp_shared.auth import PUBLIC, Principal, Role, require_roles
from mpp_shared.idempotency import Idempotency
from mpp_shared.web import (
    ApiError,
    IdempotencyKey,
    PoolDep,
    replayed,
)

router = APIRouter(prefix="/v1/complaints", tags=["complaints"])
SOURCE = filing.SOURCE
ComplaintOfficer = Annotated[
    Principal, Depends(require_roles(Role.COMPLAINT_OFFICER, Role.SUPERVISOR))
]


@router.post(
    "",
    status_code=201,
    response_model=ComplaintPublic,
    dependencies=[PUBLIC],
    summary="File a complaint (pengaduan), anonymously if wished",
    responses={429: {"description": "Too many complaints from this client (Retry-After)"}},
)
async def file_complaint(
    body: ComplaintCreate, request: Request, pool: PoolDep, idempotency_key: IdempotencyKey = None
) -> Any:
    if (refused := ratelimit.refusal(request)) is not None:
        return refused
    async with pool.acquire() as conn, conn.transaction():
        once = Idempotency(conn, "complaints", idempotency_key)
        if (stored := await once.replay(body.model_dump())) is not None:
            return replayed(stored)
        answer = await filing.file(
            conn,
            settings=request.app.state.settings,
            cipher=request.app.state.cipher,
            body=body,
        )
        await once.remember(answer)
    return answer


@router.get("/{complaint_id}", response_model=ComplaintPublic, summary="One complaint")
async def get_complaint(complaint_id: uuid.UUID, pool: PoolDep, _officer: ComplaintOfficer) -> Any:
    row = await pool.fetchrow(
        "SELECT c.*, k.progress AS linked_request_progress, k.due_at AS linked_request_due_at, "
        "k.sla_breached_at, k.picked_up_at FROM complaints c "
        "LEFT JOIN known_requests k ON k.tracking_code = c.tracking_code WHERE c.id = $1",
        complaint_id,
    )
    if row is None:
        raise ApiError(404, "not_found", "Pengaduan tidak ditemukan", "Complaint not found")
    return ComplaintPublic(**{k: row[k] for k in ComplaintPublic.model_fields})
