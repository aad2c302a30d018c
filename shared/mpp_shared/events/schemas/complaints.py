"""Events of `mpp.complaints`, published by complaints: a complaint filed,
verified or rejected, assigned to an OPD, responded to, closed, reopened,
escalated when a step's deadline passed, and the answer deadline of a
request for information extended. Each names the report's `kind`
(aspirasi, pengaduan, permintaan_informasi)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from mpp_shared.events.envelope import EventData
from mpp_shared.events.schemas.citizen import Language
from mpp_shared.events.topics import Topic

ReportKind = Literal["aspirasi", "pengaduan", "permintaan_informasi"]


class ComplaintEvent(EventData):
    """Fields every complaint event starts with (the base itself is not published)."""

    topic = Topic.COMPLAINTS

    complaint_id: uuid.UUID
    complaint_code: str
    category: str
    # What the citizen sent (SP4N-LAPOR!); events written before kinds existed
    # were all complaints.
    kind: ReportKind = "pengaduan"


# Models without a docstring: a model's docstring is its description in the
# published contract, and adding one would change the contract.


class ComplaintFiledV1(ComplaintEvent):
    event_type = "mpp.complaint.filed.v1"
    citizen_facing = True

    channel: str
    anonymous: bool
    tracking_code: str | None = None
    application_id: uuid.UUID | None = None
    language: Language = "id"
    contact_sealed: str | None = None
    filed_at: datetime


class ComplaintVerifiedV1(ComplaintEvent):
    event_type = "mpp.complaint.verified.v1"

    verified_by: str
    verified_at: datetime


class ComplaintRejectedV1(ComplaintEvent):
    """Not a complaint, or a duplicate of another (`duplicate_of`)."""

    event_type = "mpp.complaint.rejected.v1"
    citizen_facing = True

    reason: Literal["not_a_complaint", "duplicate"]
    note: str | None = None
    duplicate_of: uuid.UUID | None = None
    duplicate_of_code: str | None = None
    rejected_by: str
    rejected_at: datetime


class ComplaintAssignedV1(ComplaintEvent):
    """Assigned to an OPD; `previous_opd` set on a reassignment."""

    event_type = "mpp.complaint.assigned.v1"

    anonymous: bool
    opd: str
    previous_opd: str | None = None
    assigned_by: str
    assigned_at: datetime
    due_at: datetime


class ComplaintRespondedV1(ComplaintEvent):
    event_type = "mpp.complaint.responded.v1"
    citizen_facing = True

    opd: str | None = None
    response: str
    responded_by: str
    responded_at: datetime
    reopen_until: datetime


class ComplaintClosedV1(ComplaintEvent):
    """Closed by the reporter (with a rating), an officer, or automatically
    (`automatic`) when the response had no reply in time."""

    event_type = "mpp.complaint.closed.v1"
    citizen_facing = True

    opd: str | None = None
    closed_by: str
    automatic: bool = False
    rating: int | None = Field(default=None, ge=1, le=5)
    closed_at: datetime


class ComplaintReopenedV1(ComplaintEvent):
    event_type = "mpp.complaint.reopened.v1"

    opd: str | None = None
    reason: str
    reopen_count: int
    reopened_at: datetime
    due_at: datetime


class ComplaintEscalatedV1(ComplaintEvent):
    """A step's deadline passed: for the supervisor, once per step."""

    event_type = "mpp.complaint.escalated.v1"

    status: str
    step: Literal["verification", "follow_up", "information"]
    opd: str | None = None
    due_at: datetime
    escalated_at: datetime


class ComplaintDeadlineExtendedV1(ComplaintEvent):
    """A request for information's answer deadline extended, once, with the
    reason the requester is told."""

    event_type = "mpp.complaint.deadline_extended.v1"
    citizen_facing = True

    reason: str
    previous_due_at: datetime
    due_at: datetime
    extended_by: str
    extended_at: datetime
