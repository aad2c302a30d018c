"""The supervisor's view of what the retention job erased, and when (never
whom): `GET /v1/personal-data/retention-runs`, mounted by every service
beside its own personal-data routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from mpp_shared.auth import Principal, Role
from mpp_shared.retention import RetentionRun, Trigger, recent_runs
from mpp_shared.web.auth import require_roles
from mpp_shared.web.deps import PoolDep

router = APIRouter(prefix="/v1/personal-data", tags=["personal data"])
Supervisor = Annotated[Principal, Depends(require_roles(Role.SUPERVISOR))]


@router.get(
    "/retention-runs",
    response_model=list[RetentionRun],
    summary="The recent runs of this service's retention job: what was erased when, never whom",
    description=(
        "Newest first. Each run counts, per data kind, the records whose personal data "
        "was erased because their retention period had passed (`schedule`), or on a "
        "supervisor's data-subject request (`request`, with the request's id and the "
        "number of records kept for now); `audit_details` counts the audit entries whose "
        "detail was emptied. No record or person is named."
    ),
)
async def retention_runs(
    pool: PoolDep,
    _supervisor: Supervisor,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    trigger: Trigger | None = None,
) -> list[RetentionRun]:
    return await recent_runs(pool, limit=limit, trigger=trigger)
