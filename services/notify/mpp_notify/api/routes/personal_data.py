"""A resident's requests about their data, notify's part: the internal routes
intake calls with the supervisor's own token (mpp_shared.personal_data). The
resident is named in the body only, never in the URL."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from mpp_notify.api.deps import CipherDep
from mpp_notify.usecases import personal_data_erasure, personal_data_export
from mpp_shared.auth import Principal, Role
from mpp_shared.personal_data import (
    CORRECTION_PATH,
    ERASURE_PATH,
    EXPORT_PATH,
    CorrectionRequest,
    ServiceCorrection,
    ServiceErasure,
    ServiceExport,
    SubjectRequest,
)
from mpp_shared.web import PoolDep
from mpp_shared.web.auth import require_roles
from mpp_shared.web.deps import LanguageDep

router = APIRouter(tags=["personal data"])
Supervisor = Annotated[Principal, Depends(require_roles(Role.SUPERVISOR))]


@router.post(
    EXPORT_PATH,
    response_model=ServiceExport,
    summary="Everything notify holds about a resident, in clear (asked by intake)",
    description="The messages sent to the resident's phone or e-mail and about their "
    "applications, the contacts kept to tell them, their WhatsApp conversation. Audited; "
    "never cached.",
)
async def export(
    body: SubjectRequest,
    response: Response,
    pool: PoolDep,
    cipher: CipherDep,
    officer: Supervisor,
) -> Any:
    response.headers["Cache-Control"] = "no-store"
    return await personal_data_export.export(pool, cipher, officer, body)


@router.post(
    CORRECTION_PATH,
    response_model=ServiceCorrection,
    summary="Correct a resident's phone and/or e-mail (asked by intake)",
    description="Messages not sent yet (queued, held, waiting to retry) to the old address go "
    "to the new one, and the contacts kept for the resident's applications and complaints "
    "change, so the next message goes to the new address. Audited.",
)
async def correct(
    body: CorrectionRequest, pool: PoolDep, cipher: CipherDep, officer: Supervisor
) -> Any:
    return await personal_data_export.correct(pool, cipher, officer, body)


@router.post(
    ERASURE_PATH,
    response_model=ServiceErasure,
    summary="Erase a resident from the messages and contacts whose retention period has "
    "passed (asked by intake)",
    description="The retention rules applied now to the messages logged to the resident's "
    "phone or e-mail or about their applications, the contacts kept to tell them and their "
    "WhatsApp conversation: what is past RETENTION_MESSAGES_DAYS, RETENTION_CONTACTS_DAYS or "
    "RETENTION_WHATSAPP_DAYS is erased (a message keeps its event, channel, states and dates); "
    "the rest is listed as kept with until when and why. Audited with counts only.",
)
async def erase(
    body: SubjectRequest,
    response: Response,
    pool: PoolDep,
    cipher: CipherDep,
    officer: Supervisor,
    request: Request,
    language: LanguageDep,
) -> Any:
    response.headers["Cache-Control"] = "no-store"
    return await personal_data_erasure.erase(
        pool,
        settings=request.app.state.settings,
        cipher=cipher,
        officer=officer,
        request=body,
        language=language,
    )
