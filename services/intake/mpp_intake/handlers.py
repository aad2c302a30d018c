"""Intake's reactions to document events: the progress that tracking shows.

Each runs in the consumer's transaction, with the inbox record of the event:
a redelivered event changes nothing (progress never moves backwards, and the
timeline keeps one step per source event)."""

from __future__ import annotations

import asyncpg

from mpp_intake.domain.applications import PROGRESS_FROM_DOCUMENT_EVENT, later_progress
from mpp_intake.store import application_files, applications
from mpp_shared.events import CloudEvent
from mpp_shared.events.schemas import DocumentJobEvent, DocumentOnHoldV1
from mpp_shared.messaging.consumer import EventHandler


async def on_document_progress(conn: asyncpg.Connection, event: CloudEvent) -> None:
    data = event.typed_data()
    if not isinstance(data, DocumentJobEvent):
        raise TypeError(f"{event.type} is not a document job event")
    step = PROGRESS_FROM_DOCUMENT_EVENT[event.type]
    current = await applications.lock_progress(conn, data.application_id)
    if current is None:
        raise LookupError(f"document event for unknown application {data.application_id}")
    progress = later_progress(current, step)
    hold = None
    if isinstance(data, DocumentOnHoldV1) and progress == "on_hold":
        hold = {"code": data.reason_code, "name_id": data.reason_id, "name_en": data.reason_en}
    await applications.record_progress(
        conn,
        data.application_id,
        progress=progress,
        pickup_point=data.pickup_point,
        hold_reason=hold,
        due_at=data.due_at,
    )
    await applications.add_step(
        conn, data.application_id, step, data.occurred_at, data.pickup_point, event.id
    )
    if step == "picked_up":
        # Uploaded papers are kept UPLOAD_RETENTION_DAYS from the handover.
        await application_files.start_retention(conn, data.application_id, data.occurred_at)


HANDLERS: dict[str, EventHandler] = {
    event_type: on_document_progress for event_type in PROGRESS_FROM_DOCUMENT_EVENT
}
