"""A resident's requests about their data, complaints' part: the internal
routes intake calls with the supervisor's own token (mpp_shared.personal_data).
The resident is named in the body only, never in the URL."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from mpp_complaints.api.deps import Settings, Supervisor
from mpp_complaints.usecases import personal_data_erasure, personal_data_export
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
from mpp_shared.web.deps import LanguageDep

router = APIRouter(tags=["personal data"])


@router.post(
    EXPORT_PATH,
    response_model=ServiceExport,
    summary="Everything complaints holds about a resident, in clear (asked by intake)",
    description="The complaints filed with the resident's phone or e-mail, and those naming "
    "their applications (a complaint filed by someone else comes without its reporter's "
    "contact). Audited; never cached.",
)
async def export(
    body: SubjectRequest, request: Request, response: Response, pool: PoolDep, officer: Supervisor
) -> Any:
    response.headers["Cache-Control"] = "no-store"
    return await personal_data_export.export(pool, request.app.state.cipher, officer, body)


@router.post(
    CORRECTION_PATH,
    response_model=ServiceCorrection,
    summary="Correct a resident's phone and/or e-mail as a complaint's reporter (asked by intake)",
)
async def correct(
    body: CorrectionRequest, request: Request, pool: PoolDep, officer: Supervisor
) -> Any:
    return await personal_data_export.correct(pool, request.app.state.cipher, officer, body)


@router.post(
    ERASURE_PATH,
    response_model=ServiceErasure,
    summary="Erase a resident from the complaints whose retention period has passed "
    "(asked by intake)",
    description="The retention rules applied now to the complaints the resident filed and the "
    "anonymous ones naming their applications: the reporter's contact, the description and "
    "the free-text answers of complaints closed or rejected more than "
    "RETENTION_COMPLAINTS_DAYS ago are erased (code, category, states, dates and rating stay); "
    "the others are listed as kept with until when and why. Audited with counts only.",
)
async def erase(
    body: SubjectRequest,
    request: Request,
    response: Response,
    pool: PoolDep,
    officer: Supervisor,
    settings: Settings,
    language: LanguageDep,
) -> Any:
    response.headers["Cache-Control"] = "no-store"
    return await personal_data_erasure.erase(
        pool,
        settings=settings,
        cipher=request.app.state.cipher,
        officer=officer,
        request=body,
        language=language,
    )
