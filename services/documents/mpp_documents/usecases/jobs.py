"""Production jobs: the job a verified application becomes (in the
consumer's transaction, once per application however often the event is
delivered), and reading jobs back. Moving a job is
`mpp_documents.usecases.job_transitions`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from mpp_documents.domain.handover import CollectedBy
from mpp_documents.domain.jobs import HoldReason, JobState
from mpp_documents.settings import DocumentsSettings
from mpp_documents.store import jobs as jobs_store
from mpp_documents.store.jobs import JOBS
from mpp_documents.usecases import SOURCE
from mpp_documents.usecases.sla_clock import start_clock
from mpp_shared import clock
from mpp_shared.events import build_event
from mpp_shared.events.schemas import ApplicationVerifiedV1, DocumentQueuedV1
from mpp_shared.messaging.outbox import enqueue
from mpp_shared.workcal import calendar_of


@dataclass(frozen=True)
class Job:
    """A production job as staff see it: no clear personal data, the holder's
    handover check left out."""

    id: uuid.UUID
    application_id: uuid.UUID
    tracking_code: str
    service_code: str
    state: JobState
    pickup_point: str | None
    due_at: datetime | None
    hold_reason_code: HoldReason | None
    held_from: JobState | None
    document_number: str | None
    verification_code: str | None
    document_id: uuid.UUID | None  # the register's entry, once produced
    ready_at: datetime | None
    picked_up_at: datetime | None
    collected_by: CollectedBy | None
    representative_masked: str | None
    authority_letter_ref: str | None
    version: int
    created_at: datetime
    updated_at: datetime


def job_of(row: Any) -> Job:
    """A job from its row (`SELECT *`)."""
    held_from, reason, collected_by = row["held_from"], row["hold_reason_code"], row["collected_by"]
    return Job(
        id=row["id"],
        application_id=row["application_id"],
        tracking_code=row["tracking_code"],
        service_code=row["service_code"],
        state=JobState(row["state"]),
        pickup_point=row["pickup_point"],
        due_at=row["due_at"],
        hold_reason_code=HoldReason(reason) if reason is not None else None,
        held_from=JobState(held_from) if held_from is not None else None,
        document_number=row["document_number"],
        verification_code=row["verification_code"],
        document_id=row["document_id"],
        ready_at=row["ready_at"],
        picked_up_at=row["picked_up_at"],
        collected_by=CollectedBy(collected_by) if collected_by is not None else None,
        representative_masked=row["representative_masked"],
        authority_letter_ref=row["authority_letter_ref"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _holder_masked(application: ApplicationVerifiedV1) -> str | None:
    """The masked name and NIK the pickup board shows."""
    masked = (application.applicant_name_masked, application.nik_masked)
    return " ".join(p for p in masked if p) or None


async def find_jobs(
    pool: asyncpg.Pool,
    *,
    application_id: uuid.UUID | None = None,
    state: JobState | None = None,
    limit: int = 50,
) -> list[Job]:
    """Newest first, by application and / or state when given."""
    async with pool.acquire() as conn:
        rows = await jobs_store.list_jobs(
            conn,
            application_id=application_id,
            state=state.value if state else None,
            limit=limit,
        )
    return [job_of(r) for r in rows]


async def get_job(pool: asyncpg.Pool, job_id: uuid.UUID) -> Job:
    async with pool.acquire() as conn:
        row = await jobs_store.get(conn, job_id)
    if row is None:
        raise JOBS.not_found()
    return job_of(row)


async def queue_job(
    conn: asyncpg.Connection, application: ApplicationVerifiedV1, settings: DocumentsSettings
) -> None:
    """A verified application becomes a queued job, its SLA clock started and
    `document.queued` written to the outbox, in the consumer's transaction;
    nothing happens when the application already has a job."""
    now = clock.now()
    job_id = uuid.uuid4()
    # The job keeps the promise intake made to the citizen.
    created = await jobs_store.insert_queued(
        conn,
        job_id=job_id,
        application_id=application.application_id,
        tracking_code=application.tracking_code,
        service_code=application.service_code,
        state=JobState.QUEUED.value,
        pickup_point=application.pickup_point,
        due_at=application.expected_ready_at,
        holder_masked=_holder_masked(application),
        holder_nik_check=application.holder_nik_check,
        at=now,
    )
    if not created:
        return
    if application.expected_ready_at is not None:
        # The SLA clock runs from verification to the promised moment; its
        # warning falls at a share of the office time in between.
        await start_clock(
            conn,
            job_id=job_id,
            application_id=application.application_id,
            tracking_code=application.tracking_code,
            service_code=application.service_code,
            pickup_point=application.pickup_point,
            started_at=application.verified_at,
            due_at=application.expected_ready_at,
            share=settings.sla_warning_share,
            calendar=calendar_of(settings),
        )
    await jobs_store.add_history(
        conn, job_id, from_state=None, to_state=JobState.QUEUED.value, actor="system", at=now
    )
    queued = DocumentQueuedV1(
        job_id=job_id,
        application_id=application.application_id,
        tracking_code=application.tracking_code,
        service_code=application.service_code,
        state=JobState.QUEUED.value,
        version=1,
        pickup_point=application.pickup_point,
        occurred_at=now,
        due_at=application.expected_ready_at,
    )
    await enqueue(
        conn,
        build_event(queued, source=SOURCE, subject=str(job_id)),
        topic=queued.topic,
        key=str(application.application_id),
    )
