"""The online application, JSON (the twin of the `/online` pages): a signed-in
resident's drafts, papers uploaded per requirement (multipart), the
submission, and the resident's own applications and papers, with the
correction of a returned one. A citizen session token (role `citizen`)
reaches only the session's own drafts and applications (NIK and phone)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field, field_validator

from mpp_intake.api.deps import CipherDep, CitizenDep
from mpp_intake.domain import identity
from mpp_intake.settings import IntakeSettings
from mpp_intake.usecases import online_application, online_follow_up
from mpp_intake.usecases.application_views import ApplicationPublic
from mpp_intake.usecases.online_follow_up import FileContent
from mpp_intake.usecases.online_views import CitizenApplication, DraftSummary, DraftView
from mpp_shared.contacts import checked
from mpp_shared.web import LanguageDep, PoolDep

router = APIRouter(prefix="/v1/citizen", tags=["online application"])

DocumentField = Annotated[
    str, Form(description="The paper's code: the requirement's, or one of its alternatives'")
]
FileField = Annotated[UploadFile, File(description="A scan or photo: PDF, JPEG or PNG")]


def intake_settings(request: Request) -> IntakeSettings:
    settings: IntakeSettings = request.app.state.settings
    return settings


async def read_upload(upload: UploadFile, settings: IntakeSettings) -> bytes:
    """The uploaded bytes, at most one byte past the limit (enough to refuse)."""
    data = await upload.read(settings.upload_max_file_bytes + 1)
    await upload.close()
    return data


def file_response(content: FileContent) -> Response:
    """A paper's bytes: shown in the browser, never cached, never run."""
    extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
    name = f"{content.file_id}.{extension.get(content.content_type, 'bin')}"
    return Response(
        content.data,
        media_type=content.content_type,
        headers={
            "Content-Disposition": f'inline; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
        },
    )


class DraftCreate(BaseModel):
    service_code: str = Field(max_length=60, examples=["pindah_datang"])


class PickupPointChoice(BaseModel):
    pickup_point: str | None = Field(default=None, max_length=40)


class DraftSubmission(BaseModel):
    full_name: str = Field(min_length=2, max_length=120)
    email: str | None = None
    pickup_point: str | None = Field(default=None, max_length=40)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value in (None, "") else str(checked(identity.validate_email, value))


@router.get("/drafts", response_model=list[DraftSummary], summary="My open drafts")
async def my_drafts(citizen: CitizenDep, pool: PoolDep, language: LanguageDep) -> Any:
    return await online_application.my_drafts(pool, citizen, language)


@router.post(
    "/drafts",
    status_code=201,
    response_model=DraftView,
    summary="Start (or reopen) my draft for a service offered online",
)
async def start_draft(
    body: DraftCreate, citizen: CitizenDep, pool: PoolDep, request: Request, language: LanguageDep
) -> Any:
    return await online_application.start_draft(
        pool,
        settings=intake_settings(request),
        citizen=citizen,
        service_code=body.service_code,
        language=language,
    )


@router.get(
    "/drafts/{draft_id}",
    response_model=DraftView,
    summary="My draft: requirements, papers uploaded, what is missing, pickup points",
)
async def get_draft(
    draft_id: uuid.UUID, citizen: CitizenDep, pool: PoolDep, request: Request, language: LanguageDep
) -> Any:
    return await online_application.get_draft(
        pool,
        settings=intake_settings(request),
        citizen=citizen,
        draft_id=draft_id,
        language=language,
    )


@router.post(
    "/drafts/{draft_id}/files",
    status_code=201,
    response_model=DraftView,
    summary="Upload a paper for a requirement (replaces the earlier one)",
    description="413 past the size limits, 415 for anything but PDF, JPEG or PNG (by "
    "content), 422 for an unreadable file; each names the requirement.",
)
async def upload_to_draft(
    draft_id: uuid.UUID,
    document: DocumentField,
    file: FileField,
    citizen: CitizenDep,
    pool: PoolDep,
    cipher: CipherDep,
    request: Request,
    language: LanguageDep,
) -> Any:
    settings = intake_settings(request)
    return await online_application.upload_to_draft(
        pool,
        settings=settings,
        cipher=cipher,
        citizen=citizen,
        draft_id=draft_id,
        document=document,
        data=await read_upload(file, settings),
        language=language,
    )


@router.delete(
    "/drafts/{draft_id}/files/{file_id}", response_model=DraftView, summary="Remove a paper"
)
async def remove_from_draft(
    draft_id: uuid.UUID,
    file_id: uuid.UUID,
    citizen: CitizenDep,
    pool: PoolDep,
    cipher: CipherDep,
    request: Request,
    language: LanguageDep,
) -> Any:
    return await online_application.remove_from_draft(
        pool,
        settings=intake_settings(request),
        cipher=cipher,
        citizen=citizen,
        draft_id=draft_id,
        file_id=file_id,
        language=language,
    )


@router.put(
    "/drafts/{draft_id}/pickup-point", response_model=DraftView, summary="Choose the pickup point"
)
async def choose_point(
    draft_id: uuid.UUID,
    body: PickupPointChoice,
    citizen: CitizenDep,
    pool: PoolDep,
    request: Request,
    language: LanguageDep,
) -> Any:
    return await online_application.choose_point(
        pool,
        settings=intake_settings(request),
        citizen=citizen,
        draft_id=draft_id,
        pickup_point=body.pickup_point,
        language=language,
    )


@router.post(
    "/drafts/{draft_id}/submission",
    status_code=201,
    response_model=ApplicationPublic,
    summary="Submit my draft (refused, naming each, while a paper is missing)",
)
async def submit_draft(
    draft_id: uuid.UUID,
    body: DraftSubmission,
    citizen: CitizenDep,
    pool: PoolDep,
    cipher: CipherDep,
    request: Request,
    language: LanguageDep,
) -> Any:
    return await online_application.submit_draft(
        pool,
        settings=intake_settings(request),
        cipher=cipher,
        citizen=citizen,
        draft_id=draft_id,
        command=online_application.SubmitDraft(
            full_name=body.full_name.strip(), email=body.email, pickup_point=body.pickup_point
        ),
        language=language,
    )


@router.get("/applications", response_model=list[ApplicationPublic], summary="My applications")
async def my_applications(
    citizen: CitizenDep, pool: PoolDep, cipher: CipherDep, language: LanguageDep
) -> Any:
    return await online_follow_up.my_applications(pool, cipher, citizen, language)


@router.get(
    "/applications/{application_id}",
    response_model=CitizenApplication,
    summary="One of my applications, with its papers",
)
async def my_application(
    application_id: uuid.UUID,
    citizen: CitizenDep,
    pool: PoolDep,
    cipher: CipherDep,
    language: LanguageDep,
) -> Any:
    return await online_follow_up.my_application(
        pool, cipher=cipher, citizen=citizen, application_id=application_id, language=language
    )


@router.get(
    "/applications/{application_id}/files/{file_id}",
    response_class=Response,
    summary="One of my papers (its bytes)",
)
async def my_file(
    application_id: uuid.UUID,
    file_id: uuid.UUID,
    citizen: CitizenDep,
    pool: PoolDep,
    cipher: CipherDep,
    request: Request,
) -> Response:
    content = await online_follow_up.my_file(
        pool,
        settings=intake_settings(request),
        cipher=cipher,
        citizen=citizen,
        application_id=application_id,
        file_id=file_id,
    )
    return file_response(content)


@router.post(
    "/applications/{application_id}/files",
    status_code=201,
    response_model=CitizenApplication,
    summary="Upload a corrected or missing paper of a returned or incomplete application",
)
async def upload_correction(
    application_id: uuid.UUID,
    document: DocumentField,
    file: FileField,
    citizen: CitizenDep,
    pool: PoolDep,
    cipher: CipherDep,
    request: Request,
    language: LanguageDep,
) -> Any:
    settings = intake_settings(request)
    return await online_follow_up.upload_correction(
        pool,
        settings=settings,
        cipher=cipher,
        citizen=citizen,
        application_id=application_id,
        document=document,
        data=await read_upload(file, settings),
        language=language,
    )


@router.post(
    "/applications/{application_id}/resubmission",
    response_model=CitizenApplication,
    summary="Hand in the corrections uploaded (a returned application is resubmitted)",
)
async def resubmit(
    application_id: uuid.UUID,
    citizen: CitizenDep,
    pool: PoolDep,
    cipher: CipherDep,
    request: Request,
    language: LanguageDep,
) -> Any:
    return await online_follow_up.resubmit(
        pool,
        settings=intake_settings(request),
        cipher=cipher,
        citizen=citizen,
        application_id=application_id,
        language=language,
    )
