"""Versioned schemas of every event's `data`.

Privacy rule: no clear NIK, phone number or e-mail on a shared topic. Events
carry ids and masked values; contacts travel only as `contact_sealed`, which
notify alone can open (see mpp_shared.pii.seal_for_notify).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from mpp_shared.events.envelope import EventData
from mpp_shared.events.topics import Topic

Language = Literal["id", "en"]
ContactChannel = Literal["sms", "whatsapp", "email"]


# --- intake: mpp.applications -------------------------------------------------


class MissingItem(BaseModel):
    """A requirement named for the citizen, in both languages."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    code: str
    name_id: str
    name_en: str
    note: str | None = None


class ApplicationSubmittedV1(EventData):
    """A complete application was accepted at a counter."""

    event_type = "mpp.application.submitted.v1"
    topic = Topic.APPLICATIONS
    citizen_facing = True

    application_id: uuid.UUID
    tracking_code: str
    service_code: str
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


class ApplicationIncompleteV1(EventData):
    """Accepted, but mandatory papers are missing: the citizen is told which."""

    event_type = "mpp.application.incomplete.v1"
    topic = Topic.APPLICATIONS
    citizen_facing = True

    application_id: uuid.UUID
    tracking_code: str
    service_code: str
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


class ApplicationCompletedV1(EventData):
    """The missing papers were handed in; the SLA clock starts now."""

    event_type = "mpp.application.completed.v1"
    topic = Topic.APPLICATIONS
    citizen_facing = True

    application_id: uuid.UUID
    tracking_code: str
    service_code: str
    expected_ready_at: datetime | None = None
    completed_at: datetime


class ApplicationReturnedV1(EventData):
    """The verifier asks for corrections of the named items."""

    event_type = "mpp.application.returned.v1"
    topic = Topic.APPLICATIONS
    citizen_facing = True

    application_id: uuid.UUID
    tracking_code: str
    service_code: str
    items: list[MissingItem]
    returned_by: str
    returned_at: datetime


class ApplicationResubmittedV1(EventData):
    """Corrections were handed in after a return; the SLA clock restarts."""

    event_type = "mpp.application.resubmitted.v1"
    topic = Topic.APPLICATIONS
    citizen_facing = True

    application_id: uuid.UUID
    tracking_code: str
    service_code: str
    expected_ready_at: datetime | None = None
    resubmitted_at: datetime


class ApplicationVerifiedV1(EventData):
    event_type = "mpp.application.verified.v1"
    topic = Topic.APPLICATIONS
    citizen_facing = True

    application_id: uuid.UUID
    tracking_code: str
    service_code: str
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


class ApplicationRejectedV1(EventData):
    event_type = "mpp.application.rejected.v1"
    topic = Topic.APPLICATIONS
    citizen_facing = True

    application_id: uuid.UUID
    tracking_code: str
    service_code: str
    reason: str
    rejected_by: str
    rejected_at: datetime
    reason_codes: list[str] = Field(default_factory=list)


# --- documents: mpp.documents -------------------------------------------------


class DocumentJobEvent(EventData):
    """Fields every production-job event carries (the base itself is not published)."""

    job_id: uuid.UUID
    application_id: uuid.UUID
    tracking_code: str
    service_code: str
    state: str
    version: int
    pickup_point: str | None = None
    occurred_at: datetime
    due_at: datetime | None = None


class DocumentQueuedV1(DocumentJobEvent):
    event_type = "mpp.document.queued.v1"
    topic = Topic.DOCUMENTS
    citizen_facing = False


class DocumentInProductionV1(DocumentJobEvent):
    event_type = "mpp.document.in_production.v1"
    topic = Topic.DOCUMENTS
    citizen_facing = False


class DocumentProducedV1(DocumentJobEvent):
    event_type = "mpp.document.produced.v1"
    topic = Topic.DOCUMENTS
    citizen_facing = False

    document_number: str | None = None
    verification_code: str | None = None


class DocumentInTransitV1(DocumentJobEvent):
    """On its way from where it was printed to the citizen's pickup point."""

    event_type = "mpp.document.in_transit.v1"
    topic = Topic.DOCUMENTS
    citizen_facing = False


class DocumentOnHoldV1(DocumentJobEvent):
    """Production stopped for a reason the citizen is shown; the clock keeps running."""

    event_type = "mpp.document.on_hold.v1"
    topic = Topic.DOCUMENTS
    citizen_facing = True

    reason_code: str
    reason_id: str
    reason_en: str


class DocumentCancelledV1(DocumentJobEvent):
    event_type = "mpp.document.cancelled.v1"
    topic = Topic.DOCUMENTS
    citizen_facing = True

    reason: str


class DocumentReadyForPickupV1(DocumentJobEvent):
    event_type = "mpp.document.ready_for_pickup.v1"
    topic = Topic.DOCUMENTS
    citizen_facing = True


class DocumentPickedUpV1(DocumentJobEvent):
    event_type = "mpp.document.picked_up.v1"
    topic = Topic.DOCUMENTS
    citizen_facing = True

    handed_over_by: str
    collected_by: str = "holder"  # holder | representative
    representative_masked: str | None = None


class DocumentPickupReminderV1(DocumentJobEvent):
    """The document still waits at the pickup point; the window closes at `window_ends_at`."""

    event_type = "mpp.document.pickup_reminder.v1"
    topic = Topic.DOCUMENTS
    citizen_facing = True

    reminder: int  # 1st, 2nd, ... reminder
    window_ends_at: datetime


class DocumentUncollectedV1(DocumentJobEvent):
    """The pickup window ended and nobody collected the document."""

    event_type = "mpp.document.uncollected.v1"
    topic = Topic.DOCUMENTS
    citizen_facing = True

    window_ends_at: datetime


# --- SLA clocks: mpp.sla ------------------------------------------------------


class SlaEvent(EventData):
    """Fields every SLA clock event carries (the base itself is not published)."""

    clock_id: uuid.UUID
    subject_type: str  # "job" (documents) or "complaint"
    subject_id: uuid.UUID
    application_id: uuid.UUID | None = None
    tracking_code: str | None = None
    service_code: str | None = None
    pickup_point: str | None = None
    started_at: datetime
    due_at: datetime
    fired_at: datetime


class SlaWarningV1(SlaEvent):
    """A share of the time (default 75 %) is used and the work is still open."""

    event_type = "mpp.sla.warning.v1"
    topic = Topic.SLA
    citizen_facing = False

    share: float


class SlaBreachedV1(SlaEvent):
    """The due moment passed with the work still open."""

    event_type = "mpp.sla.breached.v1"
    topic = Topic.SLA
    citizen_facing = True


# --- complaints: mpp.complaints -----------------------------------------------


class ComplaintFiledV1(EventData):
    event_type = "mpp.complaint.filed.v1"
    topic = Topic.COMPLAINTS
    citizen_facing = True

    complaint_id: uuid.UUID
    complaint_code: str
    category: str
    channel: str
    anonymous: bool
    tracking_code: str | None = None
    application_id: uuid.UUID | None = None
    language: Language = "id"
    contact_sealed: str | None = None
    filed_at: datetime


class ComplaintVerifiedV1(EventData):
    event_type = "mpp.complaint.verified.v1"
    topic = Topic.COMPLAINTS
    citizen_facing = False

    complaint_id: uuid.UUID
    complaint_code: str
    category: str
    verified_by: str
    verified_at: datetime


class ComplaintRejectedV1(EventData):
    """Not a complaint, or a duplicate of another (`duplicate_of`)."""

    event_type = "mpp.complaint.rejected.v1"
    topic = Topic.COMPLAINTS
    citizen_facing = True

    complaint_id: uuid.UUID
    complaint_code: str
    category: str
    reason: Literal["not_a_complaint", "duplicate"]
    note: str | None = None
    duplicate_of: uuid.UUID | None = None
    duplicate_of_code: str | None = None
    rejected_by: str
    rejected_at: datetime


class ComplaintAssignedV1(EventData):
    """Assigned to an OPD; `previous_opd` set on a reassignment."""

    event_type = "mpp.complaint.assigned.v1"
    topic = Topic.COMPLAINTS
    citizen_facing = False

    complaint_id: uuid.UUID
    complaint_code: str
    category: str
    anonymous: bool
    opd: str
    previous_opd: str | None = None
    assigned_by: str
    assigned_at: datetime
    due_at: datetime


class ComplaintRespondedV1(EventData):
    event_type = "mpp.complaint.responded.v1"
    topic = Topic.COMPLAINTS
    citizen_facing = True

    complaint_id: uuid.UUID
    complaint_code: str
    category: str
    opd: str | None = None
    response: str
    responded_by: str
    responded_at: datetime
    reopen_until: datetime


class ComplaintClosedV1(EventData):
    """Closed by the reporter (with a rating), an officer, or automatically
    (`automatic`) when the response had no reply in time."""

    event_type = "mpp.complaint.closed.v1"
    topic = Topic.COMPLAINTS
    citizen_facing = True

    complaint_id: uuid.UUID
    complaint_code: str
    category: str
    opd: str | None = None
    closed_by: str
    automatic: bool = False
    rating: int | None = Field(default=None, ge=1, le=5)
    closed_at: datetime


class ComplaintReopenedV1(EventData):
    event_type = "mpp.complaint.reopened.v1"
    topic = Topic.COMPLAINTS
    citizen_facing = False

    complaint_id: uuid.UUID
    complaint_code: str
    category: str
    opd: str | None = None
    reason: str
    reopen_count: int
    reopened_at: datetime
    due_at: datetime


class ComplaintEscalatedV1(EventData):
    """A step's deadline passed: for the supervisor, once per step."""

    event_type = "mpp.complaint.escalated.v1"
    topic = Topic.COMPLAINTS
    citizen_facing = False

    complaint_id: uuid.UUID
    complaint_code: str
    category: str
    status: str
    step: Literal["verification", "follow_up"]
    opd: str | None = None
    due_at: datetime
    escalated_at: datetime


# --- notify: mpp.notifications ------------------------------------------------


class NotificationRecordedV1(EventData):
    event_type = "mpp.notification.recorded.v1"
    topic = Topic.NOTIFICATIONS

    notification_id: uuid.UUID
    source_event_id: uuid.UUID
    source_event_type: str
    channel: str
    recipient_masked: str
    status: str
    application_id: uuid.UUID | None = None
    complaint_id: uuid.UUID | None = None


class NotificationDeliveredV1(EventData):
    """The provider accepted the message (SMS gateway, WhatsApp, SMTP)."""

    event_type = "mpp.notification.delivered.v1"
    topic = Topic.NOTIFICATIONS

    notification_id: uuid.UUID
    source_event_id: uuid.UUID
    source_event_type: str
    channel: str
    provider: str
    provider_message_id: str | None = None
    recipient_masked: str
    attempts: int
    delivered_at: datetime
    application_id: uuid.UUID | None = None
    complaint_id: uuid.UUID | None = None


class NotificationDeadV1(EventData):
    """A message that could not be delivered: refused by the provider, or still
    failing after the last retry. It stays in the delivery log for a resend."""

    event_type = "mpp.notification.dead.v1"
    topic = Topic.NOTIFICATIONS

    notification_id: uuid.UUID
    source_event_id: uuid.UUID
    source_event_type: str
    channel: str
    provider: str
    recipient_masked: str
    attempts: int
    error: str
    dead_at: datetime
    application_id: uuid.UUID | None = None
    complaint_id: uuid.UUID | None = None
