"""The complaint lifecycle after filing (SP4N-LAPOR!): verification,
assignment to an OPD (and reassignment), progress, response, closing with a
rating, reopening.

Every answer is `ComplaintState`, which never holds the reporter's contact
(nor does any event): the OPD systems see the same answer as officers.
An illegal transition or a stale `expected_version` is 409 with the current
state and version.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request

from mpp_complaints.api.deps import ComplaintOfficer, OfficerOrOpd, Settings, caller_of
from mpp_complaints.api.lifecycle_schemas import (
    Assignment,
    Closure,
    ComplaintState,
    Extension,
    Progress,
    Reopening,
    Response,
    Verification,
)
from mpp_complaints.usecases import assignment, closing, extension, handling, verification
from mpp_shared.web import PoolDep
from mpp_shared.web.auth import PUBLIC

router = APIRouter(prefix="/v1/complaints", tags=["complaint lifecycle"])


@router.post(
    "/{complaint_id}/verification",
    response_model=ComplaintState,
    summary="Verify a complaint, or reject it (not a complaint, a duplicate)",
)
async def verify(
    complaint_id: uuid.UUID, body: Verification, pool: PoolDep, officer: ComplaintOfficer
) -> Any:
    command = verification.DecideVerification(
        complaint_id=complaint_id,
        decision=body.decision,
        reason=body.reason,
        duplicate_of=body.duplicate_of,
        note=body.note,
        expected_version=body.expected_version,
    )
    return await verification.decide_verification(pool, command, officer=officer)


@router.post(
    "/{complaint_id}/assignment",
    response_model=ComplaintState,
    summary="Assign to an OPD (default: the category's), or reassign to another",
)
async def assign(
    complaint_id: uuid.UUID,
    body: Assignment,
    pool: PoolDep,
    officer: ComplaintOfficer,
    settings: Settings,
) -> Any:
    command = assignment.AssignComplaint(
        complaint_id=complaint_id, opd=body.opd, expected_version=body.expected_version
    )
    return await assignment.assign(pool, command, officer=officer, settings=settings)


@router.post(
    "/{complaint_id}/progress",
    response_model=ComplaintState,
    summary="The OPD has started on the complaint (in_progress)",
)
async def progress(
    complaint_id: uuid.UUID, body: Progress, pool: PoolDep, handler: OfficerOrOpd
) -> Any:
    command = handling.StartHandling(
        complaint_id=complaint_id, expected_version=body.expected_version
    )
    return await handling.start_handling(pool, command, handler=handler)


@router.post(
    "/{complaint_id}/response",
    response_model=ComplaintState,
    summary="Answer the reporter (the OPD's or the officer's response)",
)
async def respond(
    complaint_id: uuid.UUID,
    body: Response,
    pool: PoolDep,
    handler: OfficerOrOpd,
    settings: Settings,
) -> Any:
    command = handling.Respond(
        complaint_id=complaint_id, text=body.text, expected_version=body.expected_version
    )
    return await handling.respond(pool, command, handler=handler, settings=settings)


@router.post(
    "/{complaint_id}/extension",
    response_model=ComplaintState,
    summary="Extend a request for information's answer deadline once (UU 14/2008), with a "
    "reason the requester is told",
    description="By INFORMATION_EXTENSION_DAYS working days (7) from the running deadline. "
    "409 when the report is not a request for information waiting for its answer, its "
    "deadline was extended before or has passed; 422 without a reason.",
)
async def extend(
    complaint_id: uuid.UUID,
    body: Extension,
    pool: PoolDep,
    officer: ComplaintOfficer,
    settings: Settings,
) -> Any:
    command = extension.ExtendDeadline(
        complaint_id=complaint_id, reason=body.reason, expected_version=body.expected_version
    )
    return await extension.extend_deadline(pool, command, officer=officer, settings=settings)


@router.post(
    "/{complaint_id}/closure",
    response_model=ComplaintState,
    dependencies=[PUBLIC],
    summary="Close a responded complaint: the reporter with the complaint code and a rating "
    "1-5 (no token), or an officer",
)
async def close(complaint_id: uuid.UUID, body: Closure, request: Request, pool: PoolDep) -> Any:
    command = closing.CloseComplaint(
        complaint_id=complaint_id,
        complaint_code=body.complaint_code,
        rating=body.rating,
        comment=body.comment,
        expected_version=body.expected_version,
    )
    return await closing.close(pool, command, caller=await caller_of(request))


@router.post(
    "/{complaint_id}/reopening",
    response_model=ComplaintState,
    dependencies=[PUBLIC],
    summary="Reopen a responded complaint within the reopen window: the reporter with the "
    "complaint code (no token), or an officer",
)
async def reopen(
    complaint_id: uuid.UUID, body: Reopening, request: Request, pool: PoolDep, settings: Settings
) -> Any:
    command = closing.ReopenComplaint(
        complaint_id=complaint_id,
        reason=body.reason,
        complaint_code=body.complaint_code,
        expected_version=body.expected_version,
    )
    return await closing.reopen(pool, command, caller=await caller_of(request), settings=settings)
