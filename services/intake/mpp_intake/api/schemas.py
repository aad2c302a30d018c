"""Request and answer models of the intake API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from mpp_intake.domain import identity
from mpp_intake.domain.catalog import PICKUP_POINTS, SERVICES
from mpp_shared.contacts import checked as _checked

Channel = Literal["mpp_desk", "kecamatan_desk", "desa", "online"]


class ApplicationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    service_code: str = Field(description="Catalog code, e.g. ktp_el, kk, akta_kelahiran")
    nik: str = Field(description="Applicant's 16-digit NIK", examples=["3506042602660001"])
    full_name: str = Field(min_length=2, max_length=120)
    phone: str | None = Field(default=None, description="Mobile number; stored as E.164")
    email: str | None = None
    channel: Channel = "mpp_desk"
    pickup_point: str | None = Field(default=None, description="Where the document is collected")
    language: Literal["id", "en"] = "id"
    preferred_channel: Literal["sms", "whatsapp", "email"] | None = None

    @field_validator("service_code")
    @classmethod
    def _known_service(cls, value: str) -> str:
        if value not in SERVICES:
            raise PydanticCustomError(
                "unknown_service", "layanan tidak dikenal: {value}", {"value": value}
            )
        return value

    @field_validator("pickup_point")
    @classmethod
    def _known_point(cls, value: str | None) -> str | None:
        if value is not None and value not in PICKUP_POINTS:
            raise PydanticCustomError(
                "unknown_pickup_point",
                "tempat pengambilan tidak dikenal: {value}",
                {"value": value},
            )
        return value

    @field_validator("nik")
    @classmethod
    def _nik(cls, value: str) -> str:
        return str(_checked(identity.validate_nik, value))

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value in (None, "") else str(_checked(identity.normalise_phone, value))

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value in (None, "") else str(_checked(identity.validate_email, value))

    @model_validator(mode="after")
    def _reachable_on_preferred_channel(self) -> ApplicationCreate:
        needs = {"sms": self.phone, "whatsapp": self.phone, "email": self.email}
        if self.preferred_channel and not needs[self.preferred_channel]:
            raise PydanticCustomError(
                "preferred_channel_without_contact",
                "saluran pilihan {channel} memerlukan kontaknya",
                {"channel": self.preferred_channel},
            )
        return self


class VerificationDecision(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    decision: Literal["verified", "rejected"]
    reason: str | None = Field(default=None, max_length=500)
    expected_version: int | None = Field(
        default=None, description="Refuse the decision if the application changed since read"
    )

    @model_validator(mode="after")
    def _reason_for_rejection(self) -> VerificationDecision:
        if self.decision == "rejected" and not self.reason:
            raise PydanticCustomError("reason_required", "alasan penolakan wajib diisi")
        return self


class ApplicationPublic(BaseModel):
    id: uuid.UUID
    tracking_code: str
    service_code: str
    channel: str
    status: str
    progress: str
    nik_masked: str
    applicant_name_masked: str
    pickup_point: str | None
    decision_reason: str | None
    version: int
    submitted_at: datetime


class TimelineStep(BaseModel):
    step: str
    at: datetime
    pickup_point: str | None = None


class TrackingPublic(BaseModel):
    tracking_code: str
    service_code: str
    service_name: str
    status: str
    pickup_point: str | None
    timeline: list[TimelineStep]


VALIDATION_MESSAGES: dict[str, tuple[str, str]] = {
    **identity.MESSAGES,
    "unknown_service": ("layanan tidak dikenal: {value}", "unknown service: {value}"),
    "unknown_pickup_point": (
        "tempat pengambilan tidak dikenal: {value}",
        "unknown pickup point: {value}",
    ),
    "preferred_channel_without_contact": (
        "saluran pilihan {channel} memerlukan kontaknya",
        "the preferred channel {channel} needs its contact",
    ),
    "reason_required": ("alasan penolakan wajib diisi", "a rejection needs a reason"),
}
