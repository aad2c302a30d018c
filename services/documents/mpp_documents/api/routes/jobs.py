"""Production jobs: list, read, move through production to pickup."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from mpp_documents import pickup_window, register, sla
from mpp_documents.api.schemas import JobList, JobPublic, JobTransition
from mpp_documents.domain import handover as handover_rules
from mpp_documents.domain.handover import Handover, HandoverError, RepresentativeInfo
from mpp_documents.domain.jobs import HOLD_REASON_NAMES, JobState, can_move
from mpp_shared import audit
from mpp_shared.auth import Principal, Role, require_roles
from mpp_shared.events import build_event
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
from mpp_shared.messaging.outbox import enqueue
from mpp_shared.pii import FieldCipher
from mpp_shared.transitions import refuse_stale_or_illegal
from mpp_shared.web import ApiError, PoolDep, request_language

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])
SOURCE = "/mpp/documents"

Staff = Annotated[Principal, Depends(require_roles(Role.PRODUCTION, Role.PICKUP, Role.SUPERVISOR))]
# Who may move a job into each state.
_ROLE_FOR = {
    JobState.QUEUED: {Role.PRODUCTION},  # resuming a job held while queued
    JobState.IN_PRODUCTION: {Role.PRODUCTION},
    JobState.PRODUCED: {Role.PRODUCTION},
    JobState.IN_TRANSIT: {Role.PRODUCTION, Role.PICKUP},
    JobState.READY_FOR_PICKUP: {Role.PRODUCTION, Role.PICKUP},
    JobState.PICKED_UP: {Role.PICKUP},
    JobState.ON_HOLD: {Role.PRODUCTION, Role.SUPERVISOR},
    JobState.CANCELLED: {Role.SUPERVISOR},
}
_EVENT_FOR: dict[JobState, type[DocumentJobEvent]] = {
    JobState.QUEUED: DocumentQueuedV1,
    JobState.IN_PRODUCTION: DocumentInProductionV1,
    JobState.PRODUCED: DocumentProducedV1,
    JobState.IN_TRANSIT: DocumentInTransitV1,
    JobState.READY_FOR_PICKUP: DocumentReadyForPickupV1,
    JobState.PICKED_UP: DocumentPickedUpV1,
    JobState.ON_HOLD: DocumentOnHoldV1,
    JobState.CANCELLED: DocumentCancelledV1,
}


def _public(row: Any) -> JobPublic:
    return JobPublic(**{k: row[k] for k in JobPublic.model_fields})


def _invalid(error: HandoverError) -> ApiError:
    return ApiError.invalid(error.field_name, error.type, error.message_id, error.message_en)


def _decide_handover(row: Any, body: JobTransition, request: Request, staff: Principal) -> Handover:
    """Holder by NIK, representative with a letter, or a supervisor's override (old jobs)."""
    settings = request.app.state.settings
    cipher = FieldCipher(settings.pii_encryption_key, settings.pii_index_key)
    rep = body.representative
    return handover_rules.decide(
        holder_nik_check=row["holder_nik_check"],
        collector_nik=body.collector_nik,
        representative=RepresentativeInfo(
            full_name=rep.full_name,
            nik=rep.nik,
            relationship=rep.relationship,
            authority_letter_ref=rep.authority_letter_ref,
        )
        if rep
        else None,
        supervisor=staff.has_any(frozenset({Role.SUPERVISOR, Role.ADMIN})),
        nik_check=lambda nik: cipher.blind_index(
            nik, context=handover_rules.HANDOVER_CONTEXT
        ).hex(),
    )


@router.get("", response_model=JobList, summary="Jobs by application or state")
async def list_jobs(
    pool: PoolDep,
    _staff: Staff,
    application_id: uuid.UUID | None = None,
    state: JobState | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    rows = await pool.fetch(
        "SELECT * FROM jobs WHERE ($1::uuid IS NULL OR application_id = $1) "
        "AND ($2::text IS NULL OR state = $2) ORDER BY created_at DESC LIMIT $3",
        application_id,
        state.value if state else None,
        limit,
    )
    return JobList(items=[_public(r) for r in rows], count=len(rows))


@router.get("/{job_id}", response_model=JobPublic, summary="One job")
async def get_job(job_id: uuid.UUID, pool: PoolDep, _staff: Staff) -> Any:
    row = await pool.fetchrow("SELECT * FROM jobs WHERE id = $1", job_id)
    if row is None:
        raise ApiError(404, "not_found", "Pekerjaan tidak ditemukan", "Job not found")
    return _public(row)


@router.post(
    "/{job_id}/transitions", response_model=JobPublic, summary="Move a job to its next state"
)
async def transition(
    job_id: uuid.UUID, body: JobTransition, request: Request, pool: PoolDep, staff: Staff
) -> Any:
    target = JobState(body.to)
    if not staff.has_any(frozenset(_ROLE_FOR[target] | {Role.ADMIN})):
        raise ApiError(
            403,
            "forbidden",
            f"Peran Anda tidak boleh mengubah status menjadi {target.value}",
            f"Your role may not move a job to {target.value}",
        )
    if target is JobState.READY_FOR_PICKUP and not body.pickup_point:
        raise ApiError.invalid(
            "pickup_point",
            "missing",
            "wajib diisi untuk status siap diambil",
            "is required for ready_for_pickup",
        )
    if target is JobState.PICKED_UP:
        try:
            handover_rules.check_request(
                collector_nik=body.collector_nik, representative=body.representative
            )
        except HandoverError as error:
            raise _invalid(error) from None
    handover: Handover | None = None
    now = datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow("SELECT * FROM jobs WHERE id = $1 FOR UPDATE", job_id)
        if row is None:
            raise ApiError(404, "not_found", "Pekerjaan tidak ditemukan", "Job not found")
        current = JobState(row["state"])
        held_from = JobState(row["held_from"]) if row["held_from"] else None
        refuse_stale_or_illegal(
            noun=("Pekerjaan", "The job"),
            current=current.value,
            target=target.value,
            version=row["version"],
            expected_version=body.expected_version,
            allowed=can_move(current, target, held_from),
        )
        if target is JobState.PICKED_UP:
            try:
                handover = _decide_handover(row, body, request, staff)
            except HandoverError as error:
                if not error.refused:
                    raise _invalid(error) from None
                # Refused before anything changed: this transaction commits the
                # refusal's audit entry alone, and the job stays as it was.
                await audit.record(
                    conn,
                    staff,
                    action="job.handover_refused",
                    target_type="job",
                    target_id=str(job_id),
                    detail={
                        **error.detail,
                        "state": current.value,
                        "pickup_point": row["pickup_point"],
                        "counter": staff.counter,
                    },
                )
                refusal = _invalid(error)
                return JSONResponse(
                    status_code=refusal.status_code, content=refusal.body(request_language(request))
                )
        holding = target is JobState.ON_HOLD
        row = await conn.fetchrow(
            """
            UPDATE jobs SET state = $2, pickup_point = coalesce($3, pickup_point),
                held_from = $4, hold_reason_code = $5, hold_note = $6,
                cancel_reason = coalesce($7, cancel_reason),
                ready_at = CASE WHEN $2 = 'ready_for_pickup' THEN $8 ELSE ready_at END,
                picked_up_at = CASE WHEN $2 = 'picked_up' THEN $8 ELSE picked_up_at END,
                collected_by = coalesce($9, collected_by),
                representative_masked = coalesce($10, representative_masked),
                authority_letter_ref = coalesce($11, authority_letter_ref),
                version = version + 1, updated_at = $8
            WHERE id = $1 RETURNING *
            """,
            job_id,
            target.value,
            body.pickup_point,
            current.value if holding else None,
            body.reason_code.value if holding and body.reason_code else None,
            body.note if holding else None,
            body.reason if target is JobState.CANCELLED else None,
            now,
            handover.collected_by.value if handover else None,
            handover.representative_masked if handover else None,
            handover.authority_letter_ref if handover else None,
        )
        if target is JobState.PRODUCED:
            # Numbered in the same transaction: a rolled-back step gives its number back.
            issued = await register.issue(
                conn,
                job_id=job_id,
                application_id=row["application_id"],
                doc_type=row["service_code"],
                office=request.app.state.settings.register_office,
                holder_masked=row["holder_masked"] or "***",
                issued_at=now,
            )
            row = await conn.fetchrow(
                "UPDATE jobs SET document_number = $2, verification_code = $3 WHERE id = $1 RETURNING *",
                job_id,
                issued.number,
                issued.verification_code,
            )
        await conn.execute(
            "INSERT INTO job_history (job_id, from_state, to_state, actor, at, note) "
            "VALUES ($1, $2, $3, $4, $5, $6)",
            job_id,
            current.value,
            target.value,
            staff.subject,
            now,
            body.note or body.reason,
        )
        fields: dict[str, Any] = {
            "job_id": job_id,
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
                "handed_over_by": staff.subject,
                "collected_by": handover.collected_by.value,
                "representative_masked": handover.representative_masked,
            }
        if target is JobState.PRODUCED:
            fields |= {
                "document_number": row["document_number"],
                "verification_code": row["verification_code"],
            }
        if holding and body.reason_code:
            names = HOLD_REASON_NAMES[body.reason_code]
            fields |= {
                "reason_code": body.reason_code.value,
                "reason_id": names[0],
                "reason_en": names[1],
            }
        if target is JobState.CANCELLED:
            fields["reason"] = body.reason or ""
        data = _EVENT_FOR[target](**fields)
        event = build_event(data, source=SOURCE, subject=str(job_id))
        await audit.record(
            conn,
            staff,
            action=f"job.{target.value}",
            target_type="job",
            target_id=str(job_id),
            detail={"from": current.value, "pickup_point": row["pickup_point"], "note": body.note}
            # Who handed over is the entry's actor; where, its counter (also kept here).
            | (handover.audit_detail() | {"counter": staff.counter} if handover else {}),
        )
        await enqueue(conn, event, topic=data.topic, key=str(row["application_id"]))
        if target is JobState.READY_FOR_PICKUP:
            await pickup_window.start_pickup_window(
                conn, job_id=job_id, ready_at=now, settings=request.app.state.settings
            )
        if target in (JobState.PICKED_UP, JobState.CANCELLED):
            await sla.stop_clock(conn, job_id, reason=target.value, at=now)
            await pickup_window.close_pickup_window(conn, job_id, at=now, reason=target.value)
    return _public(row)
