from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from mpp_complaints.domain.complaints import CATEGORIES
from mpp_shared import contacts
from mpp_shared.contacts import checked


class ComplaintCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    category: str = "pelayanan"
    description: str = Field(min_length=10, max_length=4000)
    channel: Literal["web", "mpp_desk", "sms", "whatsapp", "lapor_import"] = "web"
    tracking_code: str | None = Field(default=None, description="Links the complaint to a request")
    anonymous: bool = False
    reporter_name: str | None = Field(default=None, max_length=120)
    phone: str | None = Field(default=None, description="Mobile number; stored as E.164")
    email: str | None = None
    language: Literal["id", "en"] = "id"

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str) -> str:
        if value not in CATEGORIES:
            raise PydanticCustomError(
                "unknown_category", "kategori tidak dikenal: {value}", {"value": value}
            )
        return value

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
    tracking_code: str | None
    linked_request_progress: str | None = None
    created_at: datetime


VALIDATION_MESSAGES = {
    **contacts.MESSAGES,
    "unknown_category": ("kategori tidak dikenal: {value}", "unknown category: {value}"),
}
