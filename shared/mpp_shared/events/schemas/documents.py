"""Events of `mpp.documents`, published by documents: a production job from
the queue to the handover at the pickup point, or its end uncollected."""

from __future__ import annotations

import uuid
from datetime import datetime

from mpp_shared.events.envelope import EventData
from mpp_shared.events.topics import Topic


class DocumentJobEvent(EventData):
    """Fields every production-job event carries (the base itself is not published)."""

    topic = Topic.DOCUMENTS

    job_id: uuid.UUID
    application_id: uuid.UUID
    tracking_code: str
    service_code: str
    state: str
    version: int
    pickup_point: str | None = None
    occurred_at: datetime
    due_at: datetime | None = None


# Models without a docstring: a model's docstring is its description in the
# published contract, and adding one would change the contract.


class DocumentQueuedV1(DocumentJobEvent):
    event_type = "mpp.document.queued.v1"


class DocumentInProductionV1(DocumentJobEvent):
    event_type = "mpp.document.in_production.v1"


class DocumentProducedV1(DocumentJobEvent):
    event_type = "mpp.document.produced.v1"

    document_number: str | None = None
    verification_code: str | None = None


class DocumentInTransitV1(DocumentJobEvent):
    """On its way from where it was printed to the citizen's pickup point."""

    event_type = "mpp.document.in_transit.v1"


class DocumentOnHoldV1(DocumentJobEvent):
    """Production stopped for a reason the citizen is shown; the clock keeps running."""

    event_type = "mpp.document.on_hold.v1"
    citizen_facing = True

    reason_code: str
    reason_id: str
    reason_en: str


class DocumentCancelledV1(DocumentJobEvent):
    event_type = "mpp.document.cancelled.v1"
    citizen_facing = True

    reason: str


class DocumentReadyForPickupV1(DocumentJobEvent):
    event_type = "mpp.document.ready_for_pickup.v1"
    citizen_facing = True


class DocumentPickedUpV1(DocumentJobEvent):
    event_type = "mpp.document.picked_up.v1"
    citizen_facing = True

    handed_over_by: str
    # "holder" or "representative". A plain string in v1 of the contract: an
    # enum would change the published schema.
    collected_by: str = "holder"
    representative_masked: str | None = None


class DocumentPickupReminderV1(DocumentJobEvent):
    """The document still waits at the pickup point; the window closes at `window_ends_at`."""

    event_type = "mpp.document.pickup_reminder.v1"
    citizen_facing = True

    reminder: int  # 1 for the first reminder, 2 for the second, ...
    window_ends_at: datetime


class DocumentUncollectedV1(DocumentJobEvent):
    """The pickup window ended and nobody collected the document."""

    event_type = "mpp.document.uncollected.v1"
    citizen_facing = True

    window_ends_at: datetime
