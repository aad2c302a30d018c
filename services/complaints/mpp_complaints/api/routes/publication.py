"""Publishing answered aspirations and requests for information as public
questions and answers (complaint officers and supervisors), and the public
search of them, which citizens read before asking again (no token, never a
report's code, reporter or what the asker wrote)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from mpp_complaints.api.deps import ComplaintOfficer
from mpp_complaints.domain.kinds import PUBLISHABLE
from mpp_complaints.usecases import publication
from mpp_complaints.usecases.publication import (
    Consent,
    ConsentWay,
    Publication,
    PublishAnswer,
    PublishedAnswers,
)
from mpp_shared.errors import Invalid
from mpp_shared.web import MAX_PAGE, PoolDep
from mpp_shared.web.auth import PUBLIC

router = APIRouter(tags=["questions and answers"])
PUBLISHABLE_KINDS = sorted(k.value for k in PUBLISHABLE)


class ConsentGiven(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    given_by: ConsentWay = Field(description="How the asker agreed")
    note: str | None = Field(default=None, max_length=500)


class PublicationBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    question: str = Field(min_length=10, max_length=2000, description="Without personal data")
    answer: str = Field(min_length=10, max_length=4000, description="Without personal data")
    consent: ConsentGiven | None = Field(
        default=None, description="The asker's consent, when the filing did not carry it"
    )


@router.post(
    "/v1/complaints/{complaint_id}/publication",
    response_model=Publication,
    summary="Publish an answered aspiration or request for information as a public question "
    "and answer",
    description="The texts are refused (422 on the field, saying what to remove) while they "
    "hold a 16-digit NIK/KK number, a phone number, an e-mail address or the asker's name. "
    "409 unless the report is an answered (responded or closed) aspirasi or "
    "permintaan_informasi whose asker agreed (on filing, or `consent` given here). "
    "Publishing again replaces the texts.",
)
async def publish(
    complaint_id: uuid.UUID,
    body: PublicationBody,
    request: Request,
    pool: PoolDep,
    officer: ComplaintOfficer,
) -> Any:
    consent = Consent(body.consent.given_by, body.consent.note) if body.consent else None
    command = PublishAnswer(
        complaint_id=complaint_id, question=body.question, answer=body.answer, consent=consent
    )
    return await publication.publish(
        pool, command, officer=officer, cipher=request.app.state.cipher
    )


@router.delete(
    "/v1/complaints/{complaint_id}/publication",
    response_model=Publication,
    summary="Withdraw a published question and answer from the public list",
)
async def withdraw(complaint_id: uuid.UUID, pool: PoolDep, officer: ComplaintOfficer) -> Any:
    return await publication.withdraw(pool, complaint_id, officer=officer)


def parse_kind(value: str | None) -> str | None:
    """The kind asked for; Invalid unless one that is published."""
    if not value:
        return None
    if value not in PUBLISHABLE_KINDS:
        choices = ", ".join(PUBLISHABLE_KINDS)
        raise Invalid.field(
            "kind", "enum", f"harus salah satu dari: {choices}", f"must be one of: {choices}"
        )
    return value


@router.get(
    "/v1/public/questions",
    response_model=PublishedAnswers,
    dependencies=[PUBLIC],
    summary="Search the published questions and answers (public)",
    description='Full-text search (`q`: every word; "a phrase"; -word to leave out), best '
    "match first; without `q` the newest first. No personal data.",
)
async def search_questions(
    pool: PoolDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    kind: Annotated[
        str | None, Query(json_schema_extra={"enum": PUBLISHABLE_KINDS}, max_length=40)
    ] = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=50)] = 10,
) -> Any:
    return await publication.search(
        pool, q=(q or "").strip() or None, kind=parse_kind(kind), page=page, page_size=page_size
    )
