"""Documents' reactions to application events: a verified application becomes a job."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg

from mpp_documents import sla
from mpp_documents.domain.jobs import JobState
from mpp_documents.settings import DocumentsSettings
from mpp_shared.events import CloudEvent, build_event
from mpp_shared.events.schemas import ApplicationVerifiedV1, DocumentQueuedV1
from mpp_shared.messaging.consumer import Handler
from mpp_shared.messaging.outbox import enqueue

SOURCE = "/mpp/documents"


async def on_application_verified(
    conn: asyncpg.Connection, event: CloudEvent, settings: DocumentsSettings
) -> None:
    data = ApplicationVerifiedV1.model_validate(event.data)
    now = datetime.now(UTC)
    job_id = uuid.uuid4()
    # The job keeps the promise intake made to the citizen.
    created = await conn.fetchval(
        "INSERT INTO jobs (id, application_id, tracking_code, service_code, state, pickup_point, "
        "due_at, holder_masked, holder_nik_check, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) "
        "ON CONFLICT (application_id) DO NOTHING RETURNING true",
        job_id,
        data.application_id,
        data.tracking_code,
        data.service_code,
        JobState.QUEUED.value,
        data.pickup_point,
        data.expected_ready_at,
        " ".join(p for p in (data.applicant_name_masked, data.nik_masked) if p) or None,
        data.holder_nik_check,
        now,
    )
    if not created:
        return
    if data.expected_ready_at is not None:
        # The SLA clock runs from verification to the promised moment; its
        # warning falls at a share of the office time in between.
        await sla.start_clock(
            conn,
            job_id=job_id,
            application_id=data.application_id,
            tracking_code=data.tracking_code,
            service_code=data.service_code,
            pickup_point=data.pickup_point,
            started_at=data.verified_at,
            due_at=data.expected_ready_at,
            share=settings.sla_warning_share,
            calendar=sla.working_calendar(
                settings.calendar_days_off, settings.calendar_cuti_bersama
            ),
        )
    await conn.execute(
        "INSERT INTO job_history (job_id, from_state, to_state, actor, at) VALUES ($1, NULL, $2, $3, $4)",
        job_id,
        JobState.QUEUED.value,
        "system",
        now,
    )
    queued = DocumentQueuedV1(
        job_id=job_id,
        application_id=data.application_id,
        tracking_code=data.tracking_code,
        service_code=data.service_code,
        state=JobState.QUEUED.value,
        version=1,
        pickup_point=data.pickup_point,
        occurred_at=now,
        due_at=data.expected_ready_at,
    )
    await enqueue(
        conn,
        build_event(queued, source=SOURCE, subject=str(job_id)),
        topic=queued.topic,
        key=str(data.application_id),
    )


def make_handlers(settings: DocumentsSettings) -> dict[str, Handler]:
    async def verified(conn: asyncpg.Connection, event: CloudEvent) -> None:
        await on_application_verified(conn, event, settings)

    return {ApplicationVerifiedV1.event_type: verified}
