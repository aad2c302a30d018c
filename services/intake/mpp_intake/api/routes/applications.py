"""Applications: submission at a counter, papers handed in later, the
verifier's decision, and the officers' views."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from mpp_intake.api.deps import CipherDep, FrontDesk, Officer, SettingsDep, Verifier
from mpp_intake.api.schemas import (
    ApplicationCreate,
    ApplicationList,
    ApplicationPublic,
    ApplicationSearch,
    DocumentsHandedIn,
    VerificationDecision,
)
from mpp_intake.domain.applications import Decision, Status
from mpp_intake.domain.papers import PaperCheck
from mpp_intake.usecases import application_views, papers_handed_in, submission, verification
from mpp_shared.idempotency import StoredAnswer
from mpp_shared.web import MAX_PAGE, IdempotencyKey, LanguageDep, PoolDep, replayed
from mpp_shared.web.paging import CursorQuery

router = APIRouter(prefix="/v1/applications", tags=["applications"])


@router.post(
    "",
    status_code=201,
    response_model=ApplicationPublic,
    summary="Submit an application at a counter (honours Idempotency-Key)",
    description="Answers at once with the tracking code, what is missing, and the promised date.",
)
async def submit_application(
    body: ApplicationCreate,
    pool: PoolDep,
    settings: SettingsDep,
    cipher: CipherDep,
    officer: FrontDesk,
    language: LanguageDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    answer = await submission.submit_application(
        pool,
        settings=settings,
        cipher=cipher,
        officer=officer,
        command=submission.SubmitApplication(
            service_code=body.service_code,
            documents=tuple(body.documents),
            nik=body.nik,
            full_name=body.full_name,
            phone=body.phone,
            email=body.email,
            channel=body.channel,
            pickup_point=body.pickup_point,
            language=body.language,
            preferred_channel=body.preferred_channel,
        ),
        language=language,
        idempotency_key=idempotency_key,
    )
    return replayed(answer) if isinstance(answer, StoredAnswer) else answer


@router.post(
    "/{application_id}/documents",
    response_model=ApplicationPublic,
    summary="Hand in missing or corrected papers; a complete application moves on",
)
async def hand_in_documents(
    application_id: uuid.UUID,
    body: DocumentsHandedIn,
    pool: PoolDep,
    settings: SettingsDep,
    officer: FrontDesk,
    language: LanguageDep,
) -> Any:
    return await papers_handed_in.hand_in_papers(
        pool,
        settings=settings,
        officer=officer,
        application_id=application_id,
        command=papers_handed_in.HandInPapers(
            documents=tuple(body.documents), expected_version=body.expected_version
        ),
        language=language,
    )


@router.post(
    "/{application_id}/verification",
    response_model=ApplicationPublic,
    summary="The verifier's decision: verified, rejected, or returned for correction",
)
async def decide(
    application_id: uuid.UUID,
    body: VerificationDecision,
    pool: PoolDep,
    officer: Verifier,
    language: LanguageDep,
    cipher: CipherDep,
) -> Any:
    return await verification.decide(
        pool,
        cipher=cipher,
        officer=officer,
        application_id=application_id,
        command=verification.DecideApplication(
            decision=Decision(body.decision),
            checks=tuple(PaperCheck(c.requirement, c.result, c.note) for c in body.checks),
            reason_codes=tuple(body.reason_codes),
            reason=body.reason,
            items=tuple(body.items),
            expected_version=body.expected_version,
        ),
        language=language,
    )


@router.get(
    "", response_model=ApplicationList, summary="List and filter applications, newest first"
)
async def list_applications(
    pool: PoolDep,
    _officer: Officer,
    language: LanguageDep,
    status: Status | None = None,
    channel: str | None = None,
    pickup_point: str | None = None,
    service_code: str | None = None,
    submitted_from: date | None = Query(default=None, description="From this day (inclusive)"),
    submitted_to: date | None = Query(default=None, description="Up to this day (inclusive)"),
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
    cursor: CursorQuery = None,
) -> Any:
    filters = application_views.ApplicationFilters(
        status=status,
        channel=channel,
        pickup_point=pickup_point,
        service_code=service_code,
        submitted_from=submitted_from,
        submitted_to=submitted_to,
    )
    return await application_views.list_applications(
        pool, filters, page=page, page_size=page_size, language=language, cursor=cursor
    )


@router.post(
    "/search", response_model=ApplicationList, summary="Find a resident's applications by NIK"
)
async def search_applications(
    body: ApplicationSearch,
    pool: PoolDep,
    cipher: CipherDep,
    _officer: Officer,
    language: LanguageDep,
) -> Any:
    return await application_views.search_applications(pool, cipher, body.nik, language)


# `:uuid` keeps GET /v1/applications/search off this route (a 405 naming
# POST, not a 422 about an id).
@router.get(
    "/{application_id:uuid}", response_model=ApplicationPublic, summary="One application (masked)"
)
async def get_application(
    application_id: uuid.UUID, pool: PoolDep, _officer: Officer, language: LanguageDep
) -> Any:
    return await application_views.get_application(pool, application_id, language)
