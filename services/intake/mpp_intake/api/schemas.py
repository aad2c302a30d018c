"""Request models of the intake API, and the answers it gives (the models
the use cases answer with, listed here with the requests)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from mpp_intake.domain import identity
from mpp_intake.domain.applications import (
    PREFERRED_CHANNEL_WITHOUT_CONTACT,
    PreferredChannel,
    RejectReason,
    unreachable_on,
)
from mpp_intake.domain.catalog import Channel
from mpp_intake.usecases.application_views import (
    ApplicationList,
    ApplicationPublic,
    MissingRequirement,
)
from mpp_intake.usecases.outreach_entries import FollowUp, OutreachEntryList, OutreachEntryPublic
from mpp_intake.usecases.outreach_lists import OutreachListPublic, RejectedRow
from mpp_intake.usecases.tracking import TimelineStep, TrackingPublic
from mpp_shared.contacts import checked

__all__ = [
    "VALIDATION_MESSAGES",
    "ApplicationCreate",
    "ApplicationList",
    "ApplicationPublic",
    "ApplicationSearch",
    "DocumentsHandedIn",
    "FollowUp",
    "FollowUpCreate",
    "MissingRequirement",
    "OutreachApplicationCreate",
    "OutreachEntryList",
    "OutreachEntryPublic",
    "OutreachListPublic",
    "RejectedRow",
    "RequirementCheck",
    "TimelineStep",
    "TrackingPublic",
    "VerificationDecision",
]


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
    preferred_channel: PreferredChannel | None = None

    @field_validator("nik")
    @classmethod
    def _nik(cls, value: str) -> str:
        return str(checked(identity.validate_nik, value))

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value in (None, "") else str(checked(identity.normalise_phone, value))

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value in (None, "") else str(checked(identity.validate_email, value))

    @model_validator(mode="after")
    def _reachable_on_preferred_channel(self) -> ApplicationCreate:
        if unreachable_on(self.preferred_channel, self.phone, self.email):
            raise PydanticCustomError(
                "preferred_channel_without_contact",
                PREFERRED_CHANNEL_WITHOUT_CONTACT[0],
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


class ApplicationSearch(BaseModel):
    """Search by NIK in a body, so the NIK never appears in a URL, a log or a trace."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    nik: str

    @field_validator("nik")
    @classmethod
    def _nik(cls, value: str) -> str:
        return str(checked(identity.validate_nik, value))


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
    "preferred_channel_without_contact": PREFERRED_CHANNEL_WITHOUT_CONTACT,
    "reason_required": ("alasan penolakan wajib dipilih", "a rejection needs a reason code"),
}


# --- outreach lists ("jemput bola") ---------------------------------------------


class FollowUpCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    outcome: Literal["visited", "not_home", "refused", "moved"]
    note: str | None = Field(default=None, max_length=500)
    expected_version: int | None = Field(
        default=None, description="Refuse the follow-up if the entry changed since read"
    )


class OutreachApplicationCreate(BaseModel):
    """What the desa officer adds to an outreach entry to make it an application;
    NIK, name and service come from the entry."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    documents: list[str] = Field(default_factory=list, description="Codes of the papers handed in")
    phone: str | None = Field(default=None, description="Default: the phone on the list")
    email: str | None = None
    preferred_channel: PreferredChannel | None = None
    language: Literal["id", "en"] = "id"
    pickup_point: str | None = None
    expected_version: int | None = Field(
        default=None, description="Refuse if the entry changed since read"
    )

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value in (None, "") else str(checked(identity.normalise_phone, value))

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value in (None, "") else str(checked(identity.validate_email, value))
