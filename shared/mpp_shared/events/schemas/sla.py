"""Events of `mpp.sla`, published by documents: a warning when most of the
time is used, a breach when the due moment passed with the work still open."""

from __future__ import annotations

import uuid
from datetime import datetime

from mpp_shared.events.envelope import EventData
from mpp_shared.events.topics import Topic


class SlaEvent(EventData):
    """Fields every SLA clock event carries (the base itself is not published)."""

    topic = Topic.SLA

    clock_id: uuid.UUID
    # "job" (documents) or "complaint". A plain string in v1 of the contract:
    # an enum would change the published schema.
    subject_type: str
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

    share: float


class SlaBreachedV1(SlaEvent):
    """The due moment passed with the work still open."""

    event_type = "mpp.sla.breached.v1"
    citizen_facing = True
