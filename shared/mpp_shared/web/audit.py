"""The supervisor's read-only view of the audit trail and the admin's check
of its hash chain (`mpp_shared.audit_verify`), mounted by every service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from mpp_shared.audit import AuditFilters, AuditPage, read_trail
from mpp_shared.audit_chain import verify_keys
from mpp_shared.audit_check import AuditVerification, verify_pool
from mpp_shared.auth import Principal, Role
from mpp_shared.web.auth import require_roles
from mpp_shared.web.deps import MAX_PAGE, LanguageDep, PoolDep
from mpp_shared.web.paging import CursorQuery

router = APIRouter(prefix="/v1/audit", tags=["audit"])
Supervisor = Annotated[Principal, Depends(require_roles(Role.SUPERVISOR))]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]


@router.get(
    "", response_model=AuditPage, summary="Who did what, when, at which counter (read-only)"
)
async def read_audit_trail(
    pool: PoolDep,
    _supervisor: Supervisor,
    actor: str | None = None,
    counter: str | None = None,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: CursorQuery = None,
) -> AuditPage:
    filters = AuditFilters(actor, counter, action, target_type, target_id, since, until)
    return await read_trail(pool, filters, page=page, page_size=page_size, cursor=cursor)


@router.get(
    "/verification",
    response_model=AuditVerification,
    summary="Is the audit chain intact? The first broken link, the last checkpoint, "
    "entries still unsealed",
)
async def verify_audit_trail(
    request: Request, pool: PoolDep, _admin: Admin, language: LanguageDep
) -> AuditVerification:
    """Reads the whole chain in one snapshot: seconds for a few hundred
    thousand entries."""
    settings = request.app.state.settings
    return await verify_pool(
        pool,
        keys=verify_keys(settings),
        unsealed_bound=settings.audit_unsealed_bound,
        service=settings.service_name,
        language=language,
    )
