"""Complaints' knowledge of requests, from application and document events."""

from __future__ import annotations

import asyncpg

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


async def on_application_submitted(conn: asyncpg.Connection, event: CloudEvent) -> None:
    data = event.typed_data()
    if not isinstance(data, ApplicationSubmittedV1 | ApplicationIncompleteV1):
        raise TypeError(f"unexpected {event.type}")
    progress = "submitted" if isinstance(data, ApplicationSubmittedV1) else "incomplete"
    await conn.execute(
        "INSERT INTO known_requests (tracking_code, application_id, service_code, progress) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT (tracking_code) DO NOTHING",
        data.tracking_code,
        data.application_id,
        data.service_code,
        progress,
    )
    # A complaint may have named the code before the request's event arrived.
    await conn.execute(
        "UPDATE complaints SET application_id = $2 WHERE tracking_code = $1 AND application_id IS NULL",
        data.tracking_code,
        data.application_id,
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
    await conn.execute(
        "UPDATE known_requests SET progress = $2, updated_at = now(), "
        "due_at = COALESCE($3, due_at) WHERE application_id = $1",
        data.application_id,
        progress,
        data.due_at if isinstance(data, DocumentJobEvent) else None,
    )
    if isinstance(data, DocumentPickedUpV1):
        # The first pickup is kept; a redelivered event changes nothing.
        await conn.execute(
            "UPDATE known_requests SET picked_up_at = COALESCE(picked_up_at, $2) "
            "WHERE application_id = $1",
            data.application_id,
            data.occurred_at,
        )


async def on_sla_breached(conn: asyncpg.Connection, event: CloudEvent) -> None:
    """A request's promise was broken: recorded once (the first breach kept),
    so every complaint naming its tracking code shows it. A complaint's own
    clock (subject_type "complaint") or an unknown request changes nothing."""
    data = event.typed_data()
    if not isinstance(data, SlaBreachedV1):
        raise TypeError(f"unexpected {event.type}")
    if data.application_id is None:
        return
    await conn.execute(
        "UPDATE known_requests SET sla_breached_at = COALESCE(sla_breached_at, $2), "
        "due_at = COALESCE(due_at, $3), updated_at = now() WHERE application_id = $1",
        data.application_id,
        data.fired_at,
        data.due_at,
    )


HANDLERS = {
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
