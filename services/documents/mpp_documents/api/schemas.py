from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from mpp_documents.domain.jobs import HoldReason


class JobTransition(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    to: Literal[
        "in_production",
        "produced",
        "in_transit",
        "ready_for_pickup",
        "picked_up",
        "on_hold",
        "cancelled",
        "queued",
    ] = Field(description="The next state; from on_hold, the state it was held from (resume)")
    pickup_point: str | None = Field(
        default=None, description="Where the document waits; needed for ready_for_pickup"
    )
    reason_code: HoldReason | None = Field(default=None, description="Why it is held (on_hold)")
    note: str | None = Field(default=None, max_length=500)
    reason: str | None = Field(default=None, max_length=500, description="Why it is cancelled")
    expected_version: int | None = Field(
        default=None, description="Refuse if the job changed since read"
    )

    @model_validator(mode="after")
    def _reasons(self) -> JobTransition:
        if self.to == "on_hold" and self.reason_code is None:
            raise PydanticCustomError("hold_reason_required", "alasan penundaan wajib dipilih")
        if self.to == "cancelled" and not self.reason:
            raise PydanticCustomError("cancel_reason_required", "alasan pembatalan wajib diisi")
        return self


VALIDATION_MESSAGES = {
    "hold_reason_required": ("alasan penundaan wajib dipilih", "a hold needs a reason code"),
    "cancel_reason_required": ("alasan pembatalan wajib diisi", "a cancellation needs a reason"),
}


class JobPublic(BaseModel):
    id: uuid.UUID
    application_id: uuid.UUID
    tracking_code: str
    service_code: str
    state: str
    pickup_point: str | None
    due_at: datetime | None
    hold_reason_code: str | None
    held_from: str | None
    document_number: str | None
    verification_code: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class JobList(BaseModel):
    items: list[JobPublic]
    count: int
