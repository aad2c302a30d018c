"""A resident's requests about their data, documents' part: the internal
routes intake calls with the supervisor's own token (mpp_shared.personal_data).
The resident is named in the body only, never in the URL."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from mpp_documents.api.deps import SettingsDep, Supervisor
from mpp_documents.usecases import personal_data_erasure, personal_data_export
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
    summary="Everything documents holds about a resident (asked by intake)",
    description="The production jobs of the resident's applications (by application id or "
    "the NIK check intake computed), their history, SLA clocks and pickup timers, and the "
    "register's entries of their documents. Audited; never cached.",
)
async def export(
    body: SubjectRequest, response: Response, pool: PoolDep, officer: Supervisor
) -> Any:
    response.headers["Cache-Control"] = "no-store"
    return await personal_data_export.export(pool, officer, body)


@router.post(
    CORRECTION_PATH,
    response_model=ServiceCorrection,
    summary="Correct a resident's contact (documents keeps none: nothing changes; audited)",
)
async def correct(body: CorrectionRequest, pool: PoolDep, officer: Supervisor) -> Any:
    return await personal_data_export.correct(pool, officer, body)


@router.post(
    ERASURE_PATH,
    response_model=ServiceErasure,
    summary="Erase a resident from the jobs whose retention period has passed (asked by intake)",
    description="The retention rules applied to the resident's jobs now: the holder's NIK "
    "check, masked names, the representative's data and free-text notes of jobs ended more "
    "than RETENTION_DOCUMENT_JOBS_DAYS ago are erased (the job, its states, dates and number "
    "stay); the others, and the register's entries, are listed as kept with until when and "
    "why. Audited with counts only.",
)
async def erase(
    body: SubjectRequest,
    response: Response,
    pool: PoolDep,
    officer: Supervisor,
    settings: SettingsDep,
    language: LanguageDep,
) -> Any:
    response.headers["Cache-Control"] = "no-store"
    return await personal_data_erasure.erase(
        pool, settings=settings, officer=officer, request=body, language=language
    )
