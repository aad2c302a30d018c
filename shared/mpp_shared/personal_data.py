"""The residents' rights under the personal-data law (UU 27/2022 on
Pelindungan Data Pribadi): to know what is held about them, to have it
corrected, and to have it erased when its purpose is over.

A supervisor runs a data-subject request at intake, where the NIK is known;
intake answers for its own data and asks each other service for its part by
a documented internal call (never an event: the identifiers are personal
data). This module holds what travels between them:

- `Subject`: how the other services find a resident's records. Documents
  knows the holder only by intake's NIK check, complaints by the reporter's
  contacts and the applications a complaint names, notify by the recipient's
  contacts. The body of a POST, never a URL, log line or span attribute.
- `ServiceExport`, `ServiceCorrection`, `ServiceErasure`: each service's
  answer, gathered by intake into one answer for the supervisor.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# The internal routes every service other than intake serves (role
# supervisor; the supervisor's own token is forwarded, so each service
# audits the same officer). Bodies: `SubjectRequest`, `CorrectionRequest`.
EXPORT_PATH = "/v1/personal-data/export"
CORRECTION_PATH = "/v1/personal-data/correction"
ERASURE_PATH = "/v1/personal-data/erasure"

RequestKind = Literal["export", "correction", "erasure"]


class Subject(BaseModel):
    """One resident, as the other services know them."""

    model_config = ConfigDict(extra="forbid")
    phones: list[str] = Field(default_factory=list, description="E.164 numbers")
    emails: list[str] = Field(default_factory=list)
    application_ids: list[uuid.UUID] = Field(default_factory=list)
    tracking_codes: list[str] = Field(default_factory=list)
    # Intake's blind index of the NIK as documents keeps it (hex), one per
    # configured index key, so rows under an old key are found too.
    nik_checks: list[str] = Field(default_factory=list)


class SubjectRequest(BaseModel):
    """What intake sends for an export or an erasure."""

    model_config = ConfigDict(extra="forbid")
    request_id: uuid.UUID = Field(description="The data-subject request at intake")
    reason: str = Field(min_length=3, max_length=500, description="Why, for the audit trail")
    subject: Subject


class CorrectionRequest(SubjectRequest):
    """Contact data to correct: the new phone and/or e-mail replace the ones
    of `subject` wherever the service keeps them for this resident."""

    new_phone: str | None = None
    new_email: str | None = None


class Record(BaseModel):
    """One thing a service holds about the resident, in clear (the export is
    for the resident)."""

    kind: str = Field(description="e.g. application, complaint, message, document_job")
    id: str
    at: datetime | None = None
    data: dict[str, Any]


class ServiceExport(BaseModel):
    service: str
    records: list[Record]


class ServiceCorrection(BaseModel):
    service: str
    corrected: dict[str, int] = Field(description="Rows changed per kind")


class Kept(BaseModel):
    """A record kept for now, and why: its purpose is not over yet."""

    kind: str
    id: str
    until: datetime | None = Field(description="When it may be erased; None: while open")
    reason: str


class ServiceErasure(BaseModel):
    service: str
    erased: dict[str, int] = Field(description="Records whose personal data was erased, per kind")
    kept: list[Kept]
