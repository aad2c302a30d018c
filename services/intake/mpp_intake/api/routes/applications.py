"""Applications: submission at a counter, papers handed in later, the
verifier's decision, and the officers' views."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from mpp_intake import catalog_store, submission
from mpp_intake.api.deps import CipherDep, FrontDesk, Officer, Verifier
from mpp_intake.api.schemas import (
    ApplicationCreate,
    ApplicationList,
    ApplicationPublic,
    ApplicationSearch,
    DocumentsHandedIn,
    VerificationDecision,
)
from mpp_intake.domain.applications import (
    ACCEPTS_DOCUMENTS,
    REJECT_REASON_NAMES,
    Decision,
    RejectReason,
    Status,
    can_decide,
)
from mpp_intake.domain.catalog import ServiceVersion, missing_as_json
from mpp_intake.promise import expected_ready_at
from mpp_intake.submission import SELECT as _SELECT
from mpp_intake.submission import SOURCE as SOURCE
from mpp_intake.submission import fetch as _fetch
from mpp_intake.submission import public_answer as _public
from mpp_intake.submission import unknown_documents as _unknown_documents
from mpp_shared import audit
from mpp_shared.events import EventData, build_event
from mpp_shared.events.schemas import (
    ApplicationCompletedV1,
    ApplicationRejectedV1,
    ApplicationResubmittedV1,
    ApplicationReturnedV1,
    ApplicationVerifiedV1,
    MissingItem,
)
from mpp_shared.idempotency import Idempotency
from mpp_shared.messaging.outbox import enqueue
from mpp_shared.transitions import refuse_stale_or_illegal
from mpp_shared.web import (
    MAX_PAGE,
    ApiError,
    IdempotencyKey,
    LanguageDep,
    PoolDep,
    replayed,
)

router = APIRouter(prefix="/v1/applications", tags=["applications"])

_TIMELINE = """
INSERT INTO application_timeline (application_id, step, at, pickup_point, source_event_id)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT (source_event_id) DO NOTHING
"""


# --- submission ---------------------------------------------------------------


@router.post(
    "",
    status_code=201,
    response_model=ApplicationPublic,
    summary="Submit an application at a counter (honours Idempotency-Key)",
    description="Answers at once with the tracking code, what is missing, and the promised date.",
)
async def submit_application(
    body: ApplicationCreate,
    request: Request,
    pool: PoolDep,
    cipher: CipherDep,
    officer: FrontDesk,
    language: LanguageDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    scope = f"applications:{officer.subject}"
    async with pool.acquire() as conn, conn.transaction():
        once = Idempotency(conn, scope, idempotency_key)
        if (stored := await once.replay(body.model_dump())) is not None:
            return replayed(stored)
        answer = await submission.submit(
            conn,
            settings=request.app.state.settings,
            cipher=cipher,
            officer=officer,
            body=body,
            language=language,
        )
        await once.remember(answer)
    return answer


# --- papers handed in later ---------------------------------------------------


@router.post(
    "/{application_id}/documents",
    response_model=ApplicationPublic,
    summary="Hand in missing or corrected papers; a complete application moves on",
)
async def hand_in_documents(
    application_id: uuid.UUID,
    body: DocumentsHandedIn,
    request: Request,
    pool: PoolDep,
    officer: FrontDesk,
    language: LanguageDep,
) -> Any:
    settings = request.app.state.settings
    now = datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        row = await _fetch(conn, application_id, lock=True)
        current = Status(row["status"])
        refuse_stale_or_illegal(
            noun=("Permohonan", "The application"),
            current=current.value,
            target="submitted",
            version=row["version"],
            expected_version=body.expected_version,
            allowed=current in ACCEPTS_DOCUMENTS,
        )
        service = await catalog_store.service_version(
            conn, row["service_code"], row["catalog_version"]
        )
        assert service is not None
        _unknown_documents(service, body.documents)
        handed_in = set(body.documents)
        documents = sorted(set(row["documents"]) | handed_in)
        data: EventData | None = None
        status, progress = current, row["progress"]
        missing = service.missing(set(documents))
        returned = row["returned_items"]
        promised = row["expected_ready_at"]
        if current is Status.INCOMPLETE and not missing:
            status, progress = Status.SUBMITTED, "submitted"
            promised = await expected_ready_at(conn, settings, service, row["pickup_point"], now)
            data = ApplicationCompletedV1(
                application_id=application_id,
                tracking_code=row["tracking_code"],
                service_code=service.code,
                expected_ready_at=promised,
                completed_at=now,
            )
        elif current is Status.RETURNED:
            returned = [
                item for item in returned if not (_accepted(service, item["code"]) & handed_in)
            ]
            if not returned and not missing:
                status, progress = Status.SUBMITTED, "resubmitted"
                promised = await expected_ready_at(
                    conn, settings, service, row["pickup_point"], now
                )
                data = ApplicationResubmittedV1(
                    application_id=application_id,
                    tracking_code=row["tracking_code"],
                    service_code=service.code,
                    expected_ready_at=promised,
                    resubmitted_at=now,
                )
        await conn.execute(
            "UPDATE applications SET status = $2, progress = $3, documents = $4, missing = $5, "
            "returned_items = $6, expected_ready_at = $7, version = version + 1, updated_at = $8 "
            "WHERE id = $1",
            application_id,
            status.value,
            progress,
            documents,
            missing_as_json(missing),
            returned,
            promised,
            now,
        )
        await audit.record(
            conn,
            officer,
            action="application.documents",
            target_type="application",
            target_id=str(application_id),
            detail={"documents": sorted(handed_in), "status": status.value},
        )
        if data is not None:
            event = build_event(data, source=SOURCE, subject=str(application_id))
            step = "completed" if isinstance(data, ApplicationCompletedV1) else "resubmitted"
            await conn.execute(_TIMELINE, application_id, step, now, row["pickup_point"], event.id)
            await enqueue(conn, event, topic=data.topic, key=str(application_id))
        return _public(await _fetch(conn, application_id), language)


def _accepted(service: ServiceVersion, code: str) -> set[str]:
    requirement = service.requirement(code)
    return requirement.accepted_codes if requirement else {code}


# --- verification -------------------------------------------------------------


@router.post(
    "/{application_id}/verification",
    response_model=ApplicationPublic,
    summary="The verifier's decision: verified, rejected, or returned for correction",
)
async def decide(
    application_id: uuid.UUID,
    body: VerificationDecision,
    pool: PoolDep,
    officer: Verifier,
    language: LanguageDep,
    cipher: CipherDep,
) -> Any:
    decision = Decision(body.decision)
    now = datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        row = await _fetch(conn, application_id, lock=True)
        current = Status(row["status"])
        refuse_stale_or_illegal(
            noun=("Permohonan", "The application"),
            current=current.value,
            target=decision.value,
            version=row["version"],
            expected_version=body.expected_version,
            allowed=can_decide(current, decision),
        )
        service = await catalog_store.service_version(
            conn, row["service_code"], row["catalog_version"]
        )
        assert service is not None
        named = [c.requirement for c in body.checks] + body.items
        unknown = sorted({code for code in named if service.requirement(code) is None})
        if unknown:
            raise ApiError.invalid(
                "checks",
                "unknown_requirement",
                f"persyaratan tidak dikenal untuk {service.name_id}: {', '.join(unknown)}",
                f"requirements unknown for {service.name_en}: {', '.join(unknown)}",
            )
        checks = [
            {**c.model_dump(), "checked_by": officer.subject, "at": now.isoformat()}
            for c in body.checks
        ]
        status = Status(decision.value)
        returned_items: list[dict[str, Any]] = []
        data: EventData
        common = {
            "application_id": application_id,
            "tracking_code": row["tracking_code"],
            "service_code": service.code,
        }
        if decision is Decision.VERIFIED:
            data = ApplicationVerifiedV1(
                **common,
                pickup_point=row["pickup_point"],
                verified_by=officer.subject,
                verified_at=now,
                expected_ready_at=row["expected_ready_at"],
                applicant_name_masked=row["name_masked"],
                nik_masked=row["nik_masked"],
                holder_nik_check=cipher.blind_index(
                    cipher.decrypt(row["nik_enc"], context="nik"), context="handover"
                ).hex(),
            )
        elif decision is Decision.REJECTED:
            names = "; ".join(REJECT_REASON_NAMES[RejectReason(r)][0] for r in body.reason_codes)
            data = ApplicationRejectedV1(
                **common,
                reason=f"{names}. {body.reason}" if body.reason else names,
                reason_codes=[r.value for r in body.reason_codes],
                rejected_by=officer.subject,
                rejected_at=now,
            )
        else:
            notes = {c.requirement: c.note for c in body.checks}
            codes = body.items or [c.requirement for c in body.checks if c.result == "invalid"]
            for code in dict.fromkeys(codes):
                requirement = service.requirement(code)
                assert requirement is not None
                returned_items.append(
                    {
                        "code": requirement.code,
                        "name_id": requirement.name("id"),
                        "name_en": requirement.name("en"),
                        "note": notes.get(code),
                    }
                )
            data = ApplicationReturnedV1(
                **common,
                items=[MissingItem(**i) for i in returned_items],
                returned_by=officer.subject,
                returned_at=now,
            )
        await conn.execute(
            """
            UPDATE applications
            SET status = $2, progress = $2, decision_reason = $3, checks = checks || $4::jsonb,
                returned_items = $5, reason_codes = $6, active = $7,
                version = version + 1, updated_at = $8
            WHERE id = $1
            """,
            application_id,
            status.value,
            body.reason,
            checks,
            returned_items,
            [r.value for r in body.reason_codes],
            status is not Status.REJECTED,
            now,
        )
        event = build_event(data, source=SOURCE, subject=str(application_id))
        await conn.execute(
            _TIMELINE, application_id, status.value, now, row["pickup_point"], event.id
        )
        await audit.record(
            conn,
            officer,
            action=f"application.{decision.value}",
            target_type="application",
            target_id=str(application_id),
            detail={
                "checks": [c.model_dump() for c in body.checks],
                "reason_codes": [r.value for r in body.reason_codes],
                "items": [i["code"] for i in returned_items],
            },
        )
        await enqueue(conn, event, topic=data.topic, key=str(application_id))
        return _public(await _fetch(conn, application_id), language)


# --- officer views ------------------------------------------------------------


@router.get(
    "", response_model=ApplicationList, summary="List and filter applications, newest first"
)
async def list_applications(
    pool: PoolDep,
    _officer: Officer,
    language: LanguageDep,
    status: Status | None = None,
    channel: str | None = None,
    pickup_point: str | None = None,
    service_code: str | None = None,
    submitted_from: date | None = Query(default=None, description="From this day (inclusive)"),
    submitted_to: date | None = Query(default=None, description="Up to this day (inclusive)"),
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> Any:
    start = datetime.combine(submitted_from, time.min, UTC) if submitted_from else None
    end = (
        datetime.combine(submitted_to + timedelta(days=1), time.min, UTC) if submitted_to else None
    )
    rows = await pool.fetch(
        _SELECT.replace("SELECT a.*", "SELECT count(*) OVER () AS total, a.*")
        + """
        WHERE ($1::text IS NULL OR a.status = $1) AND ($2::text IS NULL OR a.channel = $2)
          AND ($3::text IS NULL OR a.pickup_point = $3) AND ($4::text IS NULL OR a.service_code = $4)
          AND ($5::timestamptz IS NULL OR a.created_at >= $5)
          AND ($6::timestamptz IS NULL OR a.created_at < $6)
        ORDER BY a.created_at DESC, a.id LIMIT $7 OFFSET $8
        """,
        status.value if status else None,
        channel,
        pickup_point,
        service_code,
        start,
        end,
        page_size,
        (page - 1) * page_size,
    )
    return ApplicationList(
        items=[_public(r, language) for r in rows],
        total=rows[0]["total"] if rows else 0,
        page=page,
        page_size=page_size,
    )


@router.post(
    "/search", response_model=ApplicationList, summary="Find a resident's applications by NIK"
)
async def search_applications(
    body: ApplicationSearch,
    pool: PoolDep,
    cipher: CipherDep,
    _officer: Officer,
    language: LanguageDep,
) -> Any:
    rows = await pool.fetch(
        _SELECT + " WHERE a.nik_index = $1 ORDER BY a.created_at DESC LIMIT 200",
        cipher.blind_index(body.nik, context="nik"),
    )
    return ApplicationList(
        items=[_public(r, language) for r in rows], total=len(rows), page=1, page_size=200
    )


# `:uuid` keeps GET /v1/applications/search off this route (a 405 naming
# POST, not a 422 about an id).
@router.get(
    "/{application_id:uuid}", response_model=ApplicationPublic, summary="One application (masked)"
)
async def get_application(
    application_id: uuid.UUID, pool: PoolDep, _officer: Officer, language: LanguageDep
) -> Any:
    return _public(await _fetch(pool, application_id), language)
