from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mpp_shared import contacts
from mpp_shared.contacts import checked


class ComplaintCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    category: str = Field(
        default="pelayanan",
        max_length=40,
        description="An active code of GET /v1/categories (checked when filing)",
    )
    description: str = Field(min_length=10, max_length=4000)
    channel: Literal["web", "mpp_desk", "sms", "whatsapp", "lapor_import"] = "web"
    tracking_code: str | None = Field(default=None, description="Links the complaint to a request")
    anonymous: bool = False
    confidential: bool = Field(default=False, description="Never listed publicly")
    reporter_name: str | None = Field(default=None, max_length=120)
    phone: str | None = Field(default=None, description="Mobile number; stored as E.164")
    email: str | None = None
    language: Literal["id", "en"] = "id"

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value in (None, "") else str(checked(contacts.normalise_phone, value))

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value in (None, "") else str(checked(contacts.validate_email, value))


class ComplaintPublic(BaseModel):
    id: uuid.UUID
    complaint_code: str
    category: str
    channel: str
    status: str
    anonymous: bool
    confidential: bool = False
    tracking_code: str | None
    linked_request_progress: str | None = None
    linked_request_due_at: datetime | None = None
    sla_breached_at: datetime | None = None
    picked_up_at: datetime | None = None
    created_at: datetime


VALIDATION_MESSAGES = {
    **contacts.MESSAGES,
    "unknown_category": ("kategori tidak dikenal: {value}", "unknown category: {value}"),
}
