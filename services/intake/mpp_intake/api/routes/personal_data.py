"""A resident's requests about their data, run by a supervisor at intake
(see mpp_intake.usecases.personal_data_requests): export, correction of the
phone and e-mail, erasure. The NIK is sent in the body, never in the URL;
the answer to an export holds the resident's data in clear, for the
resident, and is never cached. The list shows no personal data."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from mpp_intake.api.deps import CipherDep, Supervisor
from mpp_intake.domain import identity
from mpp_intake.settings import IntakeSettings
from mpp_intake.usecases import personal_data_requests
from mpp_intake.usecases.personal_data_requests import (
    DataRequest,
    RequestAnswer,
    RequestList,
    ServiceCalls,
)
from mpp_shared.contacts import checked
from mpp_shared.personal_data import RequestKind
from mpp_shared.web import MAX_PAGE, LanguageDep, PoolDep

router = APIRouter(prefix="/v1/personal-data", tags=["personal data"])

MESSAGES: dict[str, tuple[str, str]] = {
    "contact_required": (
        "koreksi membutuhkan new_phone dan/atau new_email",
        "a correction needs new_phone and/or new_email",
    ),
}


class DataRequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: RequestKind
    nik: str = Field(description="The resident's 16-digit NIK (in the body, never the URL)")
    reason: str = Field(min_length=3, max_length=500, description="Why, for the audit trail")
    new_phone: str | None = Field(default=None, description="Correction: the new mobile number")
    new_email: str | None = Field(
        default=None, validate_default=True, description="Correction: the new e-mail address"
    )

    @field_validator("nik")
    @classmethod
    def _nik(cls, value: str) -> str:
        return str(checked(identity.validate_nik, value))

    @field_validator("new_phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value in (None, "") else str(checked(identity.normalise_phone, value))

    @field_validator("new_email")
    @classmethod
    def _email(cls, value: str | None, info: ValidationInfo) -> str | None:
        email = None if value in (None, "") else str(checked(identity.validate_email, value))
        if info.data.get("kind") == "correction" and not email and not info.data.get("new_phone"):
            if "new_phone" in info.data:  # not when new_phone itself was refused
                raise PydanticCustomError("contact_required", MESSAGES["contact_required"][0])
        return email


def service_calls(request: Request) -> ServiceCalls:
    state = request.app.state
    calls: ServiceCalls | None = getattr(state, "personal_data_calls", None)
    if calls is None:
        calls = ServiceCalls.from_settings(state.settings)
        state.personal_data_calls = calls
    return calls


@router.post(
    "/requests",
    response_model=RequestAnswer,
    summary="A resident's request to see, correct or erase their data, across the services",
    description=(
        "`kind`: `export` (every service's records of the resident, in clear: the answer "
        "is for the resident; `Cache-Control: no-store`), `correction` (`new_phone` and/or "
        "`new_email` replace the resident's contact in intake's unfinished applications and "
        "outreach entries, as a complaint's reporter, and in notify's messages not sent yet "
        "and the contacts it keeps), `erasure` (what each service erased, and what it keeps "
        "and until when). Intake asks documents, complaints and notify with the caller's "
        "own token; a service that does not answer is named in `outcomes` (`unavailable`, "
        "try again in a moment) and `complete` is false. Intake changes its own records "
        "in a correction or erasure only once every service has done its part. Recorded "
        "and audited; the NIK is never in a URL."
    ),
)
async def run_request(
    body: DataRequestCreate,
    request: Request,
    response: Response,
    pool: PoolDep,
    cipher: CipherDep,
    officer: Supervisor,
    language: LanguageDep,
) -> Any:
    response.headers["Cache-Control"] = "no-store"
    settings: IntakeSettings = request.app.state.settings
    return await personal_data_requests.run_request(
        pool,
        settings=settings,
        cipher=cipher,
        calls=service_calls(request),
        officer=officer,
        authorization=request.headers.get("authorization", ""),
        command=DataRequest(
            kind=body.kind,
            nik=body.nik,
            reason=body.reason,
            new_phone=body.new_phone if body.kind == "correction" else None,
            new_email=body.new_email if body.kind == "correction" else None,
        ),
        language=language,
    )


@router.get(
    "/requests",
    response_model=RequestList,
    summary="The residents' requests about their data, newest first (no personal data)",
)
async def list_requests(
    pool: PoolDep,
    officer: Supervisor,
    kind: RequestKind | None = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    return await personal_data_requests.list_requests(
        pool, kind=kind, page=page, page_size=page_size
    )
