"""Applications: submission at a counter and the verifier's decision."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from mpp_intake.api.deps import CipherDep, FrontDesk, Officer, Verifier
from mpp_intake.api.schemas import ApplicationCreate, ApplicationPublic, VerificationDecision
from mpp_intake.domain.applications import Status, can_decide
from mpp_intake.domain.tracking_code import new_tracking_code
from mpp_shared import audit
from mpp_shared.events import build_event
from mpp_shared.events.schemas import (
    ApplicationRejectedV1,
    ApplicationSubmittedV1,
    ApplicationVerifiedV1,
)
from mpp_shared.messaging.outbox import enqueue
from mpp_shared.pii import mask_name, mask_nik, seal_for_notify
from mpp_shared.web import (
    ApiError,
    IdempotencyKey,
    PoolDep,
    claim_idempotency_key,
    refuse_stale_or_illegal,
    request_fingerprint,
    store_answer,
)

router = APIRouter(prefix="/v1/applications", tags=["applications"])
SOURCE = "/mpp/intake"

# The application and the first step of its timeline, in one round trip.
_INSERT = """
WITH application AS (
    INSERT INTO applications (
        id, tracking_code, service_code, channel, status, progress,
        nik_enc, nik_index, nik_masked, name_enc, name_masked, phone_enc, email_enc,
        language, preferred_channel, pickup_point, submitted_by, counter, created_at, updated_at
    ) VALUES ($1, $2, $3, $4, 'submitted', 'submitted', $5, $6, $7, $8, $9, $10, $11,
              $12, $13, $14, $15, $16, $17, $17)
    RETURNING id
)
INSERT INTO application_timeline (application_id, step, at, pickup_point, source_event_id)
SELECT id, 'submitted', $17, $14, $18 FROM application
"""
_TIMELINE = """
INSERT INTO application_timeline (application_id, step, at, pickup_point, source_event_id)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT (source_event_id) DO NOTHING
"""


def _public(row: Any) -> ApplicationPublic:
    return ApplicationPublic(
        id=row["id"],
        tracking_code=row["tracking_code"],
        service_code=row["service_code"],
        channel=row["channel"],
        status=row["status"],
        progress=row["progress"],
        nik_masked=row["nik_masked"],
        applicant_name_masked=row["name_masked"],
        pickup_point=row["pickup_point"],
        decision_reason=row["decision_reason"],
        version=row["version"],
        submitted_at=row["created_at"],
    )


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "Permohonan tidak ditemukan", "Application not found")


@router.post(
    "",
    status_code=201,
    response_model=ApplicationPublic,
    summary="Submit an application at a counter (honours Idempotency-Key)",
)
async def submit_application(
    body: ApplicationCreate,
    request: Request,
    pool: PoolDep,
    cipher: CipherDep,
    officer: FrontDesk,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    settings = request.app.state.settings
    now = datetime.now(UTC)
    application_id = uuid.uuid4()
    tracking_code = new_tracking_code()
    contact = {
        k: v
        for k, v in {
            "name": body.full_name,
            "phone": body.phone,
            "email": body.email,
            "preferred_channel": body.preferred_channel,
            "language": body.language,
        }.items()
        if v
    }
    scope = f"applications:{officer.subject}"
    async with pool.acquire() as conn, conn.transaction():
        if idempotency_key:
            stored = await claim_idempotency_key(
                conn,
                scope=scope,
                key=idempotency_key,
                fingerprint=request_fingerprint(body.model_dump()),
            )
            if stored is not None:
                return JSONResponse(stored.body, status_code=stored.status_code)
        event = build_event(
            ApplicationSubmittedV1(
                application_id=application_id,
                tracking_code=tracking_code,
                service_code=body.service_code,
                channel=body.channel,
                status=Status.SUBMITTED,
                nik_masked=mask_nik(body.nik),
                applicant_name_masked=mask_name(body.full_name),
                pickup_point=body.pickup_point,
                language=body.language,
                preferred_channel=body.preferred_channel,
                contact_sealed=seal_for_notify(contact, settings.notify_seal_public_key),
                submitted_at=now,
            ),
            source=SOURCE,
            subject=str(application_id),
        )
        await conn.execute(
            _INSERT,
            application_id,
            tracking_code,
            body.service_code,
            body.channel,
            cipher.encrypt(body.nik, context="nik"),
            cipher.blind_index(body.nik, context="nik"),
            mask_nik(body.nik),
            cipher.encrypt(body.full_name, context="name"),
            mask_name(body.full_name),
            cipher.encrypt(body.phone, context="phone") if body.phone else None,
            cipher.encrypt(body.email, context="email") if body.email else None,
            body.language,
            body.preferred_channel,
            body.pickup_point,
            officer.subject,
            officer.counter,
            now,
            event.id,
        )
        await audit.record(
            conn,
            officer,
            action="application.submit",
            target_type="application",
            target_id=str(application_id),
            detail={"service_code": body.service_code, "channel": body.channel},
        )
        await enqueue(conn, event, topic=ApplicationSubmittedV1.topic, key=str(application_id))
        answer = ApplicationPublic(
            id=application_id,
            tracking_code=tracking_code,
            service_code=body.service_code,
            channel=body.channel,
            status=Status.SUBMITTED,
            progress="submitted",
            nik_masked=mask_nik(body.nik),
            applicant_name_masked=mask_name(body.full_name),
            pickup_point=body.pickup_point,
            decision_reason=None,
            version=1,
            submitted_at=now,
        )
        if idempotency_key:
            await store_answer(
                conn,
                scope=scope,
                key=idempotency_key,
                status_code=201,
                body=answer.model_dump(mode="json"),
            )
    return answer


@router.get(
    "/{application_id}", response_model=ApplicationPublic, summary="One application (masked)"
)
async def get_application(application_id: uuid.UUID, pool: PoolDep, _officer: Officer) -> Any:
    row = await pool.fetchrow("SELECT * FROM applications WHERE id = $1", application_id)
    if row is None:
        raise _not_found()
    return _public(row)


@router.post(
    "/{application_id}/verification",
    response_model=ApplicationPublic,
    summary="Record the verifier's decision: verified or rejected",
)
async def decide(
    application_id: uuid.UUID, body: VerificationDecision, pool: PoolDep, officer: Verifier
) -> Any:
    target = Status(body.decision)
    now = datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            "SELECT * FROM applications WHERE id = $1 FOR UPDATE", application_id
        )
        if row is None:
            raise _not_found()
        current = Status(row["status"])
        refuse_stale_or_illegal(
            noun=("Permohonan", "The application"),
            current=current.value,
            target=target.value,
            version=row["version"],
            expected_version=body.expected_version,
            allowed=can_decide(current, target),
        )
        row = await conn.fetchrow(
            """
            UPDATE applications
            SET status = $2, progress = $2, decision_reason = $3, version = version + 1, updated_at = $4
            WHERE id = $1 RETURNING *
            """,
            application_id,
            target.value,
            body.reason,
            now,
        )
        data: ApplicationVerifiedV1 | ApplicationRejectedV1
        if target is Status.VERIFIED:
            data = ApplicationVerifiedV1(
                application_id=application_id,
                tracking_code=row["tracking_code"],
                service_code=row["service_code"],
                pickup_point=row["pickup_point"],
                verified_by=officer.subject,
                verified_at=now,
            )
        else:
            data = ApplicationRejectedV1(
                application_id=application_id,
                tracking_code=row["tracking_code"],
                service_code=row["service_code"],
                reason=body.reason or "",
                rejected_by=officer.subject,
                rejected_at=now,
            )
        event = build_event(data, source=SOURCE, subject=str(application_id))
        await conn.execute(
            _TIMELINE, application_id, target.value, now, row["pickup_point"], event.id
        )
        await audit.record(
            conn,
            officer,
            action=f"application.{target.value}",
            target_type="application",
            target_id=str(application_id),
            detail={"reason": body.reason} if body.reason else {},
        )
        await enqueue(conn, event, topic=data.topic, key=str(application_id))
    return _public(row)
