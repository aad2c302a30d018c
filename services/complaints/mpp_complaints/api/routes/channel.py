"""Reports (of any kind) relayed by a citizen channel (notify's WhatsApp
assistant) on a resident's behalf; never a publication consent (the channel
does not ask for one): a `channel` token, no per-address limit (the channel
limits each sender itself), Idempotency-Key (the inbound message id)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mpp_complaints.api.deps import Settings
from mpp_complaints.api.schemas import ComplaintCreate, ComplaintPublic
from mpp_complaints.domain.complaints import ReportKind
from mpp_complaints.usecases import filing
from mpp_shared import contacts
from mpp_shared.auth import Principal, Role
from mpp_shared.contacts import checked
from mpp_shared.idempotency import StoredAnswer
from mpp_shared.web import IdempotencyKey, PoolDep, replayed
from mpp_shared.web.auth import require_roles

router = APIRouter(prefix="/v1/channel/complaints", tags=["complaints"])
ChannelCaller = Annotated[Principal, Depends(require_roles(Role.CHANNEL))]


class RelayedComplaint(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    description: str = Field(min_length=10, max_length=4000)
    tracking_code: str | None = None
    phone: str = Field(description="The sender's number: the complaint's contact")
    language: Literal["id", "en"] = "id"
    channel: Literal["whatsapp"] = "whatsapp"
    category: str = Field(default="pelayanan", max_length=40)
    kind: ReportKind = "pengaduan"

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return str(checked(contacts.normalise_phone, value))


@router.post(
    "",
    status_code=201,
    response_model=ComplaintPublic,
    summary="File a report (aspirasi, pengaduan, permintaan_informasi) relayed by a citizen "
    "channel (the WhatsApp assistant)",
)
async def file_relayed_complaint(
    body: RelayedComplaint,
    request: Request,
    pool: PoolDep,
    settings: Settings,
    _channel: ChannelCaller,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    try:
        complaint = ComplaintCreate(
            kind=body.kind,
            category=body.category,
            description=body.description,
            channel=body.channel,
            tracking_code=body.tracking_code,
            phone=body.phone,
            language=body.language,
        )
    except ValidationError as exc:  # the same rules as the body's; answered as its 422
        raise RequestValidationError(exc.errors()) from exc
    filed = await filing.file_complaint(
        pool,
        complaint,
        idempotency_key=idempotency_key,
        settings=settings,
        cipher=request.app.state.cipher,
    )
    return replayed(filed) if isinstance(filed, StoredAnswer) else filed
