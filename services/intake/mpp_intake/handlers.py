"""Intake's reactions to document events: the progress that tracking shows."""

from __future__ import annotations

import asyncpg

from mpp_intake.domain.applications import PROGRESS_FROM_DOCUMENT_EVENT, later_progress
from mpp_shared.events import CloudEvent
from mpp_shared.events.schemas import DocumentJobEvent, DocumentOnHoldV1


async def on_document_progress(conn: asyncpg.Connection, event: CloudEvent) -> None:
    data = event.typed_data()
    if not isinstance(data, DocumentJobEvent):
        raise TypeError(f"{event.type} is not a document job event")
    step = PROGRESS_FROM_DOCUMENT_EVENT[event.type]
    row = await conn.fetchrow(
        "SELECT progress FROM applications WHERE id = $1 FOR UPDATE", data.application_id
    )
    if row is None:
        raise LookupError(f"document event for unknown application {data.application_id}")
    progress = later_progress(row["progress"], step)
    hold = None
    if isinstance(data, DocumentOnHoldV1):
        hold = {"code": data.reason_code, "name_id": data.reason_id, "name_en": data.reason_en}
    # A handed-over or cancelled document ends the application: the NIK may apply again.
    await conn.execute(
        "UPDATE applications SET progress = $2, pickup_point = coalesce($3, pickup_point), "
        "hold_reason = $4, active = active AND $2 NOT IN ('picked_up', 'cancelled'), "
        "expected_ready_at = coalesce(expected_ready_at, $5), updated_at = now() WHERE id = $1",
        data.application_id,
        progress,
        data.pickup_point,
        hold if progress == "on_hold" else None,
        data.due_at,
    )
    await conn.execute(
        "INSERT INTO application_timeline (application_id, step, at, pickup_point, source_event_id) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (source_event_id) DO NOTHING",
        data.application_id,
        step,
        data.occurred_at,
        data.pickup_point,
        event.id,
    )


HANDLERS = {event_type: on_document_progress for event_type in PROGRESS_FROM_DOCUMENT_EVENT}
