"""Complaints' knowledge of requests, from application and document events.
Each handler runs in the consumer's transaction, which also records the
event in the inbox: a redelivered event changes nothing. The events come on
three topics, in no order across them: what is heard of a request before
its submission waits for it (`store.known_requests`), and progress keeps the
latest by the time the event happened."""

from __future__ import annotations

import asyncpg

from mpp_complaints.store import known_requests
from mpp_shared.events import CloudEvent
from mpp_shared.events.schemas import (
    ApplicationCompletedV1,
    ApplicationIncompleteV1,
    ApplicationRejectedV1,
    ApplicationResubmittedV1,
    ApplicationReturnedV1,
    ApplicationSubmittedV1,
    ApplicationVerifiedV1,
    DocumentCancelledV1,
    DocumentInProductionV1,
    DocumentInTransitV1,
    DocumentJobEvent,
    DocumentOnHoldV1,
    DocumentPickedUpV1,
    DocumentProducedV1,
    DocumentQueuedV1,
    DocumentReadyForPickupV1,
    SlaBreachedV1,
)
from mpp_shared.messaging.consumer import EventHandler


async def on_application_submitted(conn: asyncpg.Connection, event: CloudEvent) -> None:
    data = event.typed_data()
    if not isinstance(data, ApplicationSubmittedV1 | ApplicationIncompleteV1):
        raise TypeError(f"unexpected {event.type}")
    progress = "submitted" if isinstance(data, ApplicationSubmittedV1) else "incomplete"
    await known_requests.learn(
        conn,
        tracking_code=data.tracking_code,
        application_id=data.application_id,
        service_code=data.service_code,
        progress=progress,
        at=event.time,
    )


async def on_request_progress(conn: asyncpg.Connection, event: CloudEvent) -> None:
    data = event.typed_data()
    if isinstance(data, DocumentJobEvent):
        progress = data.state
    elif isinstance(data, ApplicationVerifiedV1):
        progress = "verified"
    elif isinstance(data, ApplicationRejectedV1):
        progress = "rejected"
    elif isinstance(data, ApplicationReturnedV1):
        progress = "returned"
    elif isinstance(data, ApplicationCompletedV1 | ApplicationResubmittedV1):
        progress = "submitted"
    else:
        raise TypeError(f"unexpected {event.type}")
    due_at = data.due_at if isinstance(data, DocumentJobEvent) else None
    await known_requests.set_progress(conn, data.application_id, progress, due_at, event.time)
    if isinstance(data, DocumentPickedUpV1):
        await known_requests.set_picked_up(conn, data.application_id, data.occurred_at)


async def on_sla_breached(conn: asyncpg.Connection, event: CloudEvent) -> None:
    """A request's promise was broken: recorded once (the first breach kept),
    so every complaint naming its tracking code shows it. A complaint's own
    clock (subject_type "complaint") changes nothing; a breach of a request
    not known yet waits for its submission."""
    data = event.typed_data()
    if not isinstance(data, SlaBreachedV1):
        raise TypeError(f"unexpected {event.type}")
    if data.application_id is None:
        return
    await known_requests.set_sla_breached(conn, data.application_id, data.fired_at, data.due_at)


HANDLERS: dict[str, EventHandler] = {
    ApplicationSubmittedV1.event_type: on_application_submitted,
    ApplicationIncompleteV1.event_type: on_application_submitted,
    SlaBreachedV1.event_type: on_sla_breached,
    **{
        t.event_type: on_request_progress
        for t in (
            ApplicationVerifiedV1,
            ApplicationRejectedV1,
            ApplicationReturnedV1,
            ApplicationCompletedV1,
            ApplicationResubmittedV1,
            DocumentQueuedV1,
            DocumentInProductionV1,
            DocumentProducedV1,
            DocumentInTransitV1,
            DocumentReadyForPickupV1,
            DocumentPickedUpV1,
            DocumentOnHoldV1,
            DocumentCancelledV1,
        )
    },
}
