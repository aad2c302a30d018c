"""Requests and answers of the jobs, and the service's own validation messages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from mpp_documents.domain.handover import NIK_PATTERN
from mpp_documents.domain.jobs import HoldReason


class Representative(BaseModel):
    """Someone collecting a document for its holder, with a letter of authority (surat kuasa).

    Only the masked name and NIK are kept; the clear values serve the check at the desk."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    full_name: str = Field(
        min_length=2, max_length=120, repr=False, description="The representative's name"
    )
    nik: str = Field(
        pattern=NIK_PATTERN, repr=False, description="The representative's NIK (16 digits)"
    )
    relationship: str = Field(
        min_length=2, max_length=60, description="To the holder, e.g. suami, istri, anak, orang tua"
    )
    authority_letter_ref: str = Field(
        min_length=3, max_length=100, description="Reference number of the surat kuasa"
    )


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
    collector_nik: str | None = Field(
        default=None,
        pattern=NIK_PATTERN,
        repr=False,  # the clear NIK stays out of reprs, logs and tracebacks
        description="picked_up: the NIK shown by the collector; it must be the holder's",
    )
    representative: Representative | None = Field(
        default=None,
        description="picked_up: instead of collector_nik, who collects for the holder",
    )

    @model_validator(mode="after")
    def _reasons(self) -> JobTransition:
        if self.to == "on_hold" and self.reason_code is None:
            raise PydanticCustomError("hold_reason_required", "alasan penundaan wajib dipilih")
        if self.to == "cancelled" and not self.reason:
            raise PydanticCustomError("cancel_reason_required", "alasan pembatalan wajib diisi")
        if self.to != "picked_up" and (self.collector_nik or self.representative):
            raise PydanticCustomError(
                "handover_fields_unexpected", "NIK pengambil dan wakil hanya untuk picked_up"
            )
        return self


_DATE = ("harus berupa tanggal TTTT-BB-HH", "must be a date YYYY-MM-DD")
_MOMENT = (
    "harus berupa waktu ISO 8601, mis. 2026-07-01T09:00:00+07:00",
    "must be an ISO 8601 moment, e.g. 2026-07-01T09:00:00+07:00",
)

# The service's own error types, and pydantic's for the reports' dates and
# moments in query parameters, in an officer's words.
VALIDATION_MESSAGES = {
    "hold_reason_required": ("alasan penundaan wajib dipilih", "a hold needs a reason code"),
    "cancel_reason_required": ("alasan pembatalan wajib diisi", "a cancellation needs a reason"),
    "handover_fields_unexpected": (
        "NIK pengambil dan data wakil hanya diisi saat penyerahan (picked_up)",
        "collector_nik and representative belong to a handover (picked_up) only",
    ),
    "date_parsing": _DATE,
    "date_type": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": (
        "harus berupa tanggal tanpa jam (TTTT-BB-HH)",
        "must be a date without a time (YYYY-MM-DD)",
    ),
    "datetime_parsing": _MOMENT,
    "datetime_type": _MOMENT,
    "datetime_from_date_parsing": _MOMENT,
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
    document_id: uuid.UUID | None = Field(
        default=None,
        description="The register's entry once produced: GET /v1/documents/{document_id}/qr",
    )
    verification_url: str | None = Field(
        default=None,
        description="Once produced: the public page its QR code opens, to print with it",
    )
    ready_at: datetime | None = None
    picked_up_at: datetime | None = None
    collected_by: str | None = Field(default=None, description="holder | representative")
    representative_masked: str | None = None
    authority_letter_ref: str | None = None
    version: int
    created_at: datetime
    updated_at: datetime


class JobList(BaseModel):
    items: list[JobPublic]
    count: int
