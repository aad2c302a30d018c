"""Documents' reactions to application events: a verified application becomes a job."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg

from mpp_documents.domain.jobs import JobState
from mpp_shared.events import CloudEvent, build_event
from mpp_shared.events.schemas import ApplicationVerifiedV1, DocumentQueuedV1
from mpp_shared.messaging.outbox import enqueue

SOURCE = "/mpp/documents"


async def on_application_verified(conn: asyncpg.Connection, event: CloudEvent) -> None:
    data = ApplicationVerifiedV1.model_validate(event.data)
    now = datetime.now(UTC)
    job_id = uuid.uuid4()
    created = await conn.fetchval(
        "INSERT INTO jobs (id, application_id, tracking_code, service_code, state, pickup_point, "
        "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) "
        "ON CONFLICT (application_id) DO NOTHING RETURNING true",
        job_id,
        data.application_id,
        data.tracking_code,
        data.service_code,
        JobState.QUEUED.value,
        data.pickup_point,
        now,
    )
    if not created:
        return
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
    )
    await enqueue(
        conn,
        build_event(queued, source=SOURCE, subject=str(job_id)),
        topic=queued.topic,
        key=str(data.application_id),
    )


HANDLERS = {ApplicationVerifiedV1.event_type: on_application_verified}
