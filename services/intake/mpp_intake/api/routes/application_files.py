"""The papers uploaded with an online application, for the officers: the
list beside each requirement, and one paper's bytes. Verifiers while the
application is being verified (submitted, resubmitted, returned), supervisors
at any time until the retention deletes them; every read is audited."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from mpp_intake.api.deps import CipherDep
from mpp_intake.api.routes.citizen_applications import file_response, intake_settings
from mpp_intake.usecases import application_files
from mpp_intake.usecases.application_files import ApplicationFiles
from mpp_shared.auth import Principal, Role
from mpp_shared.web import LanguageDep, PoolDep
from mpp_shared.web.auth import require_roles

router = APIRouter(prefix="/v1/applications", tags=["applications"])

FileReader = Annotated[Principal, Depends(require_roles(Role.VERIFIER, Role.SUPERVISOR))]


@router.get(
    "/{application_id}/files",
    response_model=ApplicationFiles,
    summary="The uploaded papers, beside each requirement (audited)",
)
async def list_files(
    application_id: uuid.UUID, pool: PoolDep, officer: FileReader, language: LanguageDep
) -> Any:
    return await application_files.list_files(
        pool, officer=officer, application_id=application_id, language=language
    )


@router.get(
    "/{application_id}/files/{file_id}",
    response_class=Response,
    summary="One uploaded paper's bytes (inline, not cached; audited)",
)
async def read_file(
    application_id: uuid.UUID,
    file_id: uuid.UUID,
    pool: PoolDep,
    cipher: CipherDep,
    officer: FileReader,
    request: Request,
) -> Response:
    content = await application_files.read_file(
        pool,
        settings=intake_settings(request),
        cipher=cipher,
        officer=officer,
        application_id=application_id,
        file_id=file_id,
    )
    return file_response(content)
