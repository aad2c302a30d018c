"""Versioned schemas of every event's `data`.

Privacy rule: no clear NIK, phone number or e-mail on a shared topic. Events
carry ids and masked values; contacts travel only as `contact_sealed`, which
notify alone can open (see mpp_shared.pii.seal_for_notify).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from mpp_shared.events.envelope import EventData
from mpp_shared.events.topics import Topic

Language = Literal["id", "en"]
ContactChannel = Literal["sms", "whatsapp", "email"]


# --- intake: mpp.applications -------------------------------------------------


class ApplicationSubmittedV1(EventData):
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


class DocumentQueuedV1(DocumentJobEvent):
    event_type = "mpp.document.queued.v1"
    topic = Topic.DOCUMENTS
    citizen_facing = False


class DocumentProducedV1(DocumentJobEvent):
    event_type = "mpp.document.produced.v1"
    topic = Topic.DOCUMENTS
    citizen_facing = False


class DocumentReadyForPickupV1(DocumentJobEvent):
    event_type = "mpp.document.ready_for_pickup.v1"
    topic = Topic.DOCUMENTS
    citizen_facing = True


class DocumentPickedUpV1(DocumentJobEvent):
    event_type = "mpp.document.picked_up.v1"
    topic = Topic.DOCUMENTS
    citizen_facing = True

    handed_over_by: str


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
