"""Events of `mpp.applications`, published by intake: an application taken at a
counter, completed, returned and resubmitted, then verified or rejected."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from mpp_shared.events.envelope import EventData
from mpp_shared.events.schemas.citizen import ContactChannel, Language
from mpp_shared.events.topics import Topic


class MissingItem(BaseModel):
    """A requirement named for the citizen, in both languages."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    code: str
    name_id: str
    name_en: str
    note: str | None = None


class UploadRef(BaseModel):
    """A paper uploaded online: a reference and a content hash, never its content."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    requirement: str
    file_id: uuid.UUID
    sha256: str
    size: int


class ApplicationEvent(EventData):
    """Fields every application event starts with (the base itself is not published)."""

    topic = Topic.APPLICATIONS
    citizen_facing = True

    application_id: uuid.UUID
    tracking_code: str
    service_code: str


class ApplicationSubmittedV1(ApplicationEvent):
    """A complete application was accepted at a counter."""

    event_type = "mpp.application.submitted.v1"

    channel: str
    status: str
    nik_masked: str
    applicant_name_masked: str
    pickup_point: str | None = None
    language: Language = "id"
    preferred_channel: ContactChannel | None = None
    contact_sealed: str | None = None
    submitted_at: datetime
    catalog_version: int = 1
    expected_ready_at: datetime | None = None
    service_name_id: str | None = None
    service_name_en: str | None = None
    # Online applications: the papers uploaded (references and hashes only).
    uploads: list[UploadRef] | None = None


class ApplicationIncompleteV1(ApplicationEvent):
    """Accepted, but mandatory papers are missing: the citizen is told which."""

    event_type = "mpp.application.incomplete.v1"

    # The same counter fields as ApplicationSubmittedV1 except `status`; they
    # are repeated because a shared base would move them ahead of `status`
    # there, changing the published field order.
    channel: str
    nik_masked: str
    applicant_name_masked: str
    pickup_point: str | None = None
    language: Language = "id"
    preferred_channel: ContactChannel | None = None
    contact_sealed: str | None = None
    catalog_version: int
    missing: list[MissingItem]
    submitted_at: datetime
    service_name_id: str | None = None
    service_name_en: str | None = None
    uploads: list[UploadRef] | None = None


class ApplicationCompletedV1(ApplicationEvent):
    """The missing papers were handed in; the SLA clock starts now."""

    event_type = "mpp.application.completed.v1"

    expected_ready_at: datetime | None = None
    completed_at: datetime
    uploads: list[UploadRef] | None = None


class ApplicationReturnedV1(ApplicationEvent):
    """The verifier asks for corrections of the named items."""

    event_type = "mpp.application.returned.v1"

    items: list[MissingItem]
    returned_by: str
    returned_at: datetime


class ApplicationResubmittedV1(ApplicationEvent):
    """Corrections were handed in after a return; the SLA clock restarts."""

    event_type = "mpp.application.resubmitted.v1"

    expected_ready_at: datetime | None = None
    resubmitted_at: datetime
    # The corrected papers uploaded online (references and hashes only).
    uploads: list[UploadRef] | None = None


# No docstring: a model's docstring is its description in the published
# contract, and adding one would change the contract.
class ApplicationVerifiedV1(ApplicationEvent):
    event_type = "mpp.application.verified.v1"

    pickup_point: str | None = None
    verified_by: str
    verified_at: datetime
    expected_ready_at: datetime | None = None
    # Masked, for the document register and the pickup board.
    applicant_name_masked: str | None = None
    nik_masked: str | None = None
    # Keyed hash (HMAC-SHA256, PII_INDEX_KEY, context "handover") of the
    # holder's NIK: lets documents check the collector's NIK at handover
    # without the NIK travelling; not comparable with any other index.
    holder_nik_check: str | None = None


class ApplicationRejectedV1(ApplicationEvent):
    event_type = "mpp.application.rejected.v1"

    reason: str
    rejected_by: str
    rejected_at: datetime
    reason_codes: list[str] = Field(default_factory=list)
