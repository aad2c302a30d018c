"""Moving a production job to its next state, in one transaction: the job is
locked and a stale or illegal move refused (`mpp_shared.transitions`), a
handover at the pickup desk decided, the job updated, the document numbered
in the register when it is produced, and the history, the officer's audit
entry and the event written; a job made ready opens its pickup window, a job
picked up or cancelled stops its SLA clock and closes its window. All of it
commits together or not at all.

A handover refused at the desk (a NIK that is not the holder's, an old job
without a check and no supervisor) is a refusal on record: the transaction
commits the refusal's audit entry alone, the job stays as it was, and the
refusal is raised once that has committed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
from opentelemetry import metrics

from mpp_documents.domain import handover as handover_rules
from mpp_documents.domain.handover import Handover, HandoverError, RepresentativeInfo
from mpp_documents.domain.jobs import HOLD_REASON_NAMES, HoldReason, JobState, can_move
from mpp_documents.settings import DocumentsSettings
from mpp_documents.store import jobs as jobs_store
from mpp_documents.store.jobs import JOBS
from mpp_documents.usecases import SOURCE, register
from mpp_documents.usecases.jobs import Job, job_of
from mpp_documents.usecases.pickup_window import close_pickup_window, start_pickup_window
from mpp_documents.usecases.sla_clock import stop_clock
from mpp_shared import audit, clock
from mpp_shared.auth import Principal, Role
from mpp_shared.errors import Invalid
from mpp_shared.events.schemas import (
    DocumentCancelledV1,
    DocumentInProductionV1,
    DocumentInTransitV1,
    DocumentJobEvent,
    DocumentOnHoldV1,
    DocumentPickedUpV1,
    DocumentProducedV1,
    DocumentQueuedV1,
    DocumentReadyForPickupV1,
)
from mpp_shared.pii import cipher_from_settings
from mpp_shared.transitions import begin_transition, finish_transition

EVENT_FOR: dict[JobState, type[DocumentJobEvent]] = {
    JobState.QUEUED: DocumentQueuedV1,
    JobState.IN_PRODUCTION: DocumentInProductionV1,
    JobState.PRODUCED: DocumentProducedV1,
    JobState.IN_TRANSIT: DocumentInTransitV1,
    JobState.READY_FOR_PICKUP: DocumentReadyForPickupV1,
    JobState.PICKED_UP: DocumentPickedUpV1,
    JobState.ON_HOLD: DocumentOnHoldV1,
    JobState.CANCELLED: DocumentCancelledV1,
}
_meter = metrics.get_meter("mpp.documents")
_ready = _meter.create_counter(
    "mpp.documents.ready",
    unit="{document}",
    description="Documents made ready for pickup, per point, on time (by the promise) or late",
)
_picked_up = _meter.create_counter(
    "mpp.documents.picked_up", unit="{document}", description="Documents handed over, per point"
)

# Who may hand over an old job without a NIK check on their own word.
OVERRIDING_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})


@dataclass(frozen=True)
class MoveJob:
    """An officer's request to move a job to `to` (from on_hold: the state it
    was held from)."""

    job_id: uuid.UUID
    to: JobState
    expected_version: int | None = None
    pickup_point: str | None = None  # where it waits: ready_for_pickup
    reason_code: HoldReason | None = None  # on_hold
    note: str | None = None
    reason: str | None = None  # why it is cancelled
    # picked_up: the collector's NIK (the clear value stays out of reprs), or a representative
    collector_nik: str | None = field(default=None, repr=False)
    representative: RepresentativeInfo | None = None


def handover_invalid(error: HandoverError) -> Invalid:
    return Invalid.field(error.field_name, error.type, error.message_id, error.message_en)


def check_move(command: MoveJob) -> None:
    """Refuse an incomplete request before any job is read."""
    if command.to is JobState.READY_FOR_PICKUP and not command.pickup_point:
        raise Invalid.field(
            "pickup_point",
            "missing",
            "wajib diisi untuk status siap diambil",
            "is required for ready_for_pickup",
        )
    if command.to is JobState.PICKED_UP:
        try:
            handover_rules.check_request(
                collector_nik=command.collector_nik, representative=command.representative
            )
        except HandoverError as error:
            raise handover_invalid(error) from None


async def move_job(
    pool: asyncpg.Pool, settings: DocumentsSettings, officer: Principal, command: MoveJob
) -> Job:
    """The job in its new state; refusals: not found, stale, illegal (409 with
    the state in force), invalid, a handover refused at the desk."""
    check_move(command)
    now = clock.now()
    refusal: Invalid | None = None
    async with pool.acquire() as conn, conn.transaction():
        row = await begin_transition(
            conn,
            JOBS,
            command.job_id,
            target=command.to.value,
            expected_version=command.expected_version,
            allowed=lambda locked: can_move(JobState(locked["state"]), command.to, _held(locked)),
        )
        try:
            handover = _decide_handover(settings, officer, command, row)
        except HandoverError as error:
            if not error.refused:
                raise handover_invalid(error) from None
            # Refused before anything changed: this transaction commits the
            # refusal's audit entry alone, and the job stays as it was.
            await _record_refusal(conn, officer, row, error)
            refusal = handover_invalid(error)
        else:
            row = await _move(conn, settings, officer, command, row, handover, now)
    if refusal is not None:
        raise refusal
    job = job_of(row)
    count_move(job)
    return job


def count_move(job: Job) -> None:
    """Count a document made ready (on time or not) or picked up, once its
    transaction committed (mpp.documents.ready, mpp.documents.picked_up)."""
    point = job.pickup_point or "none"
    if job.state is JobState.READY_FOR_PICKUP and job.ready_at is not None:
        on_time = job.due_at is None or job.ready_at <= job.due_at
        _ready.add(1, {"point": point, "on_time": str(on_time).lower()})
    elif job.state is JobState.PICKED_UP:
        _picked_up.add(1, {"point": point})


def _held(row: asyncpg.Record) -> JobState | None:
    return JobState(row["held_from"]) if row["held_from"] else None


def _decide_handover(
    settings: DocumentsSettings, officer: Principal, command: MoveJob, row: asyncpg.Record
) -> Handover | None:
    """Holder by NIK, representative with a letter, or a supervisor's override
    (old jobs); None unless the job is being picked up."""
    if command.to is not JobState.PICKED_UP:
        return None
    cipher = cipher_from_settings(settings)
    # The check is made under the index key it names (intake's key then), so a
    # job whose check predates an index key rotation still compares.
    try:
        stored = bytes.fromhex(row["holder_nik_check"] or "")
    except ValueError:
        stored = b""
    return handover_rules.decide(
        holder_nik_check=row["holder_nik_check"],
        collector_nik=command.collector_nik,
        representative=command.representative,
        supervisor=officer.has_any(OVERRIDING_ROLES),
        nik_check=lambda nik: cipher.blind_index_like(
            stored, nik, context=handover_rules.HANDOVER_CONTEXT
        ).hex(),
    )


async def _record_refusal(
    conn: asyncpg.Connection, officer: Principal, row: asyncpg.Record, error: HandoverError
) -> None:
    await audit.record(
        conn,
        officer,
        action="job.handover_refused",
        target_type="job",
        target_id=str(row["id"]),
        detail={
            **error.detail,
            "state": row["state"],
            "pickup_point": row["pickup_point"],
            "counter": officer.counter,
        },
    )


async def _move(
    conn: asyncpg.Connection,
    settings: DocumentsSettings,
    officer: Principal,
    command: MoveJob,
    row: asyncpg.Record,
    handover: Handover | None,
    now: datetime,
) -> asyncpg.Record:
    """Update the locked job and write everything its move brings; the job's new row."""
    target, current, job_id = command.to, JobState(row["state"]), command.job_id
    holding = target is JobState.ON_HOLD
    row = await jobs_store.move(
        conn,
        job_id,
        state=target.value,
        at=now,
        pickup_point=command.pickup_point,
        held_from=current.value if holding else None,
        hold_reason_code=command.reason_code.value if holding and command.reason_code else None,
        hold_note=command.note if holding else None,
        cancel_reason=command.reason if target is JobState.CANCELLED else None,
        collected_by=handover.collected_by.value if handover else None,
        representative_masked=handover.representative_masked if handover else None,
        authority_letter_ref=handover.authority_letter_ref if handover else None,
    )
    if target is JobState.PRODUCED:
        row = await _register_document(conn, settings, row, now)
    await jobs_store.add_history(
        conn,
        job_id,
        from_state=current.value,
        to_state=target.value,
        actor=officer.subject,
        at=now,
        note=command.note or command.reason,
    )
    await finish_transition(
        conn,
        officer,
        action=f"job.{target.value}",
        target_type="job",
        target_id=str(job_id),
        # Who handed over is the entry's actor; where, its counter (also kept here).
        detail={"from": current.value, "pickup_point": row["pickup_point"], "note": command.note}
        | (handover.audit_detail() | {"counter": officer.counter} if handover else {}),
        event=_event(command, row, now, handover, officer),
        source=SOURCE,
        key=str(row["application_id"]),
    )
    if target is JobState.READY_FOR_PICKUP:
        await start_pickup_window(conn, job_id=job_id, ready_at=now, settings=settings)
    if target in (JobState.PICKED_UP, JobState.CANCELLED):
        await stop_clock(conn, job_id, reason=target.value, at=now)
        await close_pickup_window(conn, job_id, at=now, reason=target.value)
    return row


async def _register_document(
    conn: asyncpg.Connection, settings: DocumentsSettings, row: asyncpg.Record, now: datetime
) -> asyncpg.Record:
    """Number the produced document; in the same transaction, so a rolled-back
    step gives its number back."""
    issued = await register.issue(
        conn,
        job_id=row["id"],
        application_id=row["application_id"],
        doc_type=row["service_code"],
        office=settings.register_office,
        holder_masked=row["holder_masked"] or "***",
        issued_at=now,
    )
    return await jobs_store.set_document(
        conn,
        row["id"],
        number=issued.number,
        verification_code=issued.verification_code,
        document_id=issued.id,
    )


def _event(
    command: MoveJob,
    row: asyncpg.Record,
    now: datetime,
    handover: Handover | None,
    officer: Principal,
) -> DocumentJobEvent:
    """The event of the move, from the job's new row."""
    target = command.to
    fields: dict[str, Any] = {
        "job_id": command.job_id,
        "application_id": row["application_id"],
        "tracking_code": row["tracking_code"],
        "service_code": row["service_code"],
        "state": target.value,
        "version": row["version"],
        "pickup_point": row["pickup_point"],
        "occurred_at": now,
        "due_at": row["due_at"],
    }
    if handover is not None:
        fields |= {
            "handed_over_by": officer.subject,
            "collected_by": handover.collected_by.value,
            "representative_masked": handover.representative_masked,
        }
    if target is JobState.PRODUCED:
        fields |= {
            "document_number": row["document_number"],
            "verification_code": row["verification_code"],
        }
    if target is JobState.ON_HOLD and command.reason_code:
        names = HOLD_REASON_NAMES[command.reason_code]
        fields |= {
            "reason_code": command.reason_code.value,
            "reason_id": names[0],
            "reason_en": names[1],
        }
    if target is JobState.CANCELLED:
        fields["reason"] = command.reason or ""
    return EVENT_FOR[target](**fields)
