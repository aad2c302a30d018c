"""Request and answer models of the intake API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from mpp_intake.domain import identity
from mpp_intake.domain.applications import RejectReason
from mpp_shared.contacts import checked as _checked

Channel = Literal["mpp_desk", "kecamatan_desk", "desa", "online"]


class ApplicationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    service_code: str = Field(description="Catalog code, e.g. ktp_el, kk, akta_kelahiran")
    documents: list[str] = Field(
        default_factory=list,
        description="Codes of the papers handed in (requirement codes or their alternatives)",
    )
    nik: str = Field(description="Applicant's 16-digit NIK", examples=["3506042602660001"])
    full_name: str = Field(min_length=2, max_length=120)
    phone: str | None = Field(default=None, description="Mobile number; stored as E.164")
    email: str | None = None
    channel: Channel = "mpp_desk"
    pickup_point: str | None = Field(
        default=None,
        description="Where the document is collected; default: nearest to the domicile",
    )
    language: Literal["id", "en"] = "id"
    preferred_channel: Literal["sms", "whatsapp", "email"] | None = None

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


class RequirementCheck(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    requirement: str
    result: Literal["ok", "invalid"]
    note: str | None = Field(default=None, max_length=500)


class VerificationDecision(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    decision: Literal["verified", "rejected", "returned"]
    checks: list[RequirementCheck] = Field(
        default_factory=list, description="One per paper checked"
    )
    reason_codes: list[RejectReason] = Field(default_factory=list, description="Why rejected")
    reason: str | None = Field(default=None, max_length=500, description="A note for the citizen")
    items: list[str] = Field(
        default_factory=list,
        description="Requirements to correct when returned (default: those checked invalid)",
    )
    expected_version: int | None = Field(
        default=None, description="Refuse the decision if the application changed since read"
    )

    @model_validator(mode="after")
    def _coherent(self) -> VerificationDecision:
        invalid = [c.requirement for c in self.checks if c.result == "invalid"]
        if self.decision == "rejected" and not self.reason_codes:
            raise PydanticCustomError("reason_required", "alasan penolakan wajib dipilih")
        if self.decision == "verified" and invalid:
            raise PydanticCustomError(
                "invalid_items_on_verify",
                "tidak dapat diverifikasi: ada persyaratan tidak sah ({items})",
                {"items": ", ".join(invalid)},
            )
        if self.decision == "returned" and not (self.items or invalid):
            raise PydanticCustomError(
                "items_required", "sebutkan persyaratan yang harus diperbaiki"
            )
        return self


class DocumentsHandedIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    documents: list[str] = Field(min_length=1, description="Codes of the papers handed in now")
    expected_version: int | None = None


class MissingRequirement(BaseModel):
    code: str
    name: str
    note: str | None = None


class ApplicationPublic(BaseModel):
    id: uuid.UUID
    tracking_code: str
    service_code: str
    service_name: str
    catalog_version: int
    fee_idr: int
    channel: str
    status: str
    progress: str
    nik_masked: str
    applicant_name_masked: str
    pickup_point: str | None
    documents: list[str]
    missing_requirements: list[MissingRequirement]
    returned_items: list[MissingRequirement]
    reason_codes: list[str]
    decision_reason: str | None
    expected_ready_at: datetime | None
    next_step: str
    version: int
    submitted_at: datetime


class ApplicationList(BaseModel):
    items: list[ApplicationPublic]
    total: int
    page: int
    page_size: int


class ApplicationSearch(BaseModel):
    """Search by NIK in a body, so the NIK never appears in a URL, a log or a trace."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    nik: str

    @field_validator("nik")
    @classmethod
    def _nik(cls, value: str) -> str:
        return str(_checked(identity.validate_nik, value))


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
    expected_ready_at: datetime | None
    hold_reason: str | None = None
    missing_requirements: list[MissingRequirement]
    what_to_bring: list[str]
    next_step: str
    timeline: list[TimelineStep]


VALIDATION_MESSAGES: dict[str, tuple[str, str]] = {
    **identity.MESSAGES,
    "invalid_items_on_verify": (
        "tidak dapat diverifikasi: ada persyaratan tidak sah ({items})",
        "cannot be verified: some requirements are invalid ({items})",
    ),
    "items_required": (
        "sebutkan persyaratan yang harus diperbaiki",
        "name the requirements to correct",
    ),
    "preferred_channel_without_contact": (
        "saluran pilihan {channel} memerlukan kontaknya",
        "the preferred channel {channel} needs its contact",
    ),
    "reason_required": ("alasan penolakan wajib dipilih", "a rejection needs a reason code"),
}


# --- outreach lists ("jemput bola") ---------------------------------------------


class RejectedRow(BaseModel):
    line: int = Field(description="Line in the uploaded file (the header is line 1)")
    field: str
    code: str
    reason: str
    nik_masked: str | None = None


class OutreachListPublic(BaseModel):
    id: uuid.UUID
    name: str
    uploaded_by: str
    uploaded_at: datetime
    rows: int = Field(description="Data rows in the file")
    accepted: int = Field(description="Rows stored as entries")
    rejected: int = Field(description="Rows refused (a row may have several reasons)")
    rejected_rows: list[RejectedRow] = Field(description="One item per reason, by line")


class FollowUpCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    outcome: Literal["visited", "not_home", "refused", "moved"]
    note: str | None = Field(default=None, max_length=500)
    expected_version: int | None = Field(
        default=None, description="Refuse the follow-up if the entry changed since read"
    )


class FollowUp(BaseModel):
    outcome: str
    note: str | None = None
    by: str
    counter: str | None = None
    at: datetime


class OutreachApplicationCreate(BaseModel):
    """What the desa officer adds to an outreach entry to make it an application;
    NIK, name and service come from the entry."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    documents: list[str] = Field(default_factory=list, description="Codes of the papers handed in")
    phone: str | None = Field(default=None, description="Default: the phone on the list")
    email: str | None = None
    preferred_channel: Literal["sms", "whatsapp", "email"] | None = None
    language: Literal["id", "en"] = "id"
    pickup_point: str | None = None
    expected_version: int | None = Field(
        default=None, description="Refuse if the entry changed since read"
    )

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value in (None, "") else str(_checked(identity.normalise_phone, value))

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value in (None, "") else str(_checked(identity.validate_email, value))


class OutreachEntryPublic(BaseModel):
    id: uuid.UUID
    list_id: uuid.UUID
    list_name: str
    line: int
    desa_code: str
    kecamatan_code: str
    nik_masked: str
    name_masked: str
    phone_masked: str | None
    address: str | None
    service_code: str
    service_name: str | None
    status: str
    follow_ups: list[FollowUp]
    application_id: uuid.UUID | None
    tracking_code: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class OutreachEntryList(BaseModel):
    items: list[OutreachEntryPublic]
    total: int
    page: int
    page_size: int
