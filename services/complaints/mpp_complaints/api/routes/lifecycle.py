"""The complaint lifecycle after filing (SP4N-LAPOR!): verification,
assignment to an OPD (and reassignment), progress, response, closing with a
rating, reopening; and the managed list of categories.

Every answer is `ComplaintState`, which never holds the reporter's contact
(nor does any event): the OPD systems see the same answer as officers.
An illegal transition or a stale `expected_version` is 409 with the current
state and version.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import asyncpg
import jwt
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from mpp_complaints import deadlines as dl
from mpp_complaints.domain.lifecycle import (
    RejectionReason,
    Status,
    Step,
    can_transition,
    may_reopen,
    reopen_until,
)
from mpp_shared import audit, codes
from mpp_shared.auth import PUBLIC, Principal, Role, decode_token, require_roles
from mpp_shared.events import EventData, build_event
from mpp_shared.events.schemas import (
    ComplaintAssignedV1,
    ComplaintClosedV1,
    ComplaintRejectedV1,
    ComplaintReopenedV1,
    ComplaintRespondedV1,
    ComplaintVerifiedV1,
)
from mpp_shared.messaging.outbox import enqueue
from mpp_shared.transitions import refuse_stale_or_illegal
from mpp_shared.web import ApiError, PoolDep

router = APIRouter(prefix="/v1/complaints", tags=["complaint lifecycle"])
categories_router = APIRouter(prefix="/v1/categories", tags=["complaint categories"])
SOURCE = "/mpp/complaints"
NOUN = ("Pengaduan", "The complaint")
REPORTER = "reporter"
OFFICER_ROLES = frozenset({Role.COMPLAINT_OFFICER, Role.SUPERVISOR, Role.ADMIN})
OPD_CODE = r"^[A-Z][A-Z0-9_]{1,39}$"

Officer = Annotated[Principal, Depends(require_roles(Role.COMPLAINT_OFFICER, Role.SUPERVISOR))]
Handler = Annotated[
    Principal,
    Depends(require_roles(Role.COMPLAINT_OFFICER, Role.SUPERVISOR, Role.OPD_SYSTEM)),
]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]


# --- shapes -------------------------------------------------------------------


class ComplaintState(BaseModel):
    """A complaint's lifecycle state; never the reporter's contact."""

    id: uuid.UUID
    complaint_code: str
    category: str
    channel: str
    status: str
    anonymous: bool
    tracking_code: str | None
    opd: str | None
    step: str | None
    step_due_at: datetime | None
    response_text: str | None
    responded_at: datetime | None
    rating: int | None
    closed_at: datetime | None
    reopen_count: int
    rejection_reason: str | None
    duplicate_of: uuid.UUID | None
    version: int
    created_at: datetime
    updated_at: datetime
    # The request the complaint names (by tracking code), as complaints knows it.
    linked_request_progress: str | None = None
    linked_request_due_at: datetime | None = None
    sla_breached_at: datetime | None = None
    picked_up_at: datetime | None = None


class _Change(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    expected_version: int | None = Field(default=None, description="Refused (409) when stale")


class Verification(_Change):
    decision: Literal["verified", "rejected"]
    reason: RejectionReason | None = Field(default=None, description="Required when rejected")
    duplicate_of: uuid.UUID | None = Field(default=None, description="For reason=duplicate")
    note: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _reason(self) -> Verification:
        if self.decision == "rejected" and self.reason is None:
            raise ValueError("a rejection needs a reason: not_a_complaint or duplicate")
        if self.reason is RejectionReason.DUPLICATE and self.duplicate_of is None:
            raise ValueError("a duplicate needs duplicate_of (the other complaint's id)")
        return self


class Assignment(_Change):
    opd: str | None = Field(
        default=None, pattern=OPD_CODE, description="Default: the category's responsible OPD"
    )


class Progress(_Change):
    pass


class Response(_Change):
    text: str = Field(min_length=5, max_length=4000)


class Closure(_Change):
    complaint_code: str | None = Field(
        default=None, description="The reporter's proof (no token needed); officers omit it"
    )
    rating: int | None = Field(default=None, ge=1, le=5, description="Required from the reporter")
    comment: str | None = Field(default=None, max_length=1000)


class Reopening(_Change):
    complaint_code: str | None = Field(
        default=None, description="The reporter's proof (no token needed); officers omit it"
    )
    reason: str = Field(min_length=5, max_length=1000)


class Category(BaseModel):
    code: str
    name_id: str
    name_en: str
    opd: str
    verify_days: int
    followup_days: int
    close_days: int
    active: bool


class CategoryUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name_id: str = Field(min_length=2, max_length=120)
    name_en: str = Field(min_length=2, max_length=120)
    opd: str = Field(pattern=OPD_CODE)
    verify_days: int = Field(default=3, ge=1, le=60)
    followup_days: int = Field(default=5, ge=1, le=60)
    close_days: int = Field(default=10, ge=1, le=60)
    active: bool = True


# --- helpers ------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


async def _state(
    conn: asyncpg.Connection | asyncpg.Pool, complaint_id: uuid.UUID
) -> ComplaintState:
    row = await conn.fetchrow(
        "SELECT c.*, k.progress AS linked_request_progress, k.due_at AS linked_request_due_at, "
        "k.sla_breached_at, k.picked_up_at FROM complaints c "
        "LEFT JOIN known_requests k ON k.tracking_code = c.tracking_code WHERE c.id = $1",
        complaint_id,
    )
    return ComplaintState(**{k: row[k] for k in ComplaintState.model_fields})


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "Pengaduan tidak ditemukan", "Complaint not found")


async def _lock(
    conn: asyncpg.Connection, complaint_id: uuid.UUID, target: Status, expected: int | None
) -> asyncpg.Record:
    row = await conn.fetchrow("SELECT * FROM complaints WHERE id = $1 FOR UPDATE", complaint_id)
    if row is None:
        raise _not_found()
    refuse_stale_or_illegal(
        noun=NOUN,
        current=row["status"],
        target=target.value,
        version=row["version"],
        expected_version=expected,
        allowed=can_transition(row["status"], target.value),
    )
    return row


async def _move(
    conn: asyncpg.Connection, complaint_id: uuid.UUID, target: Status, at: datetime, **columns: Any
) -> None:
    sets = ", ".join(f"{name} = ${n}" for n, name in enumerate(columns, start=4))
    await conn.execute(
        f"UPDATE complaints SET status = $2, updated_at = $3, version = version + 1"
        f"{', ' + sets if sets else ''} WHERE id = $1",
        complaint_id,
        target.value,
        at,
        *columns.values(),
    )


async def _emit(conn: asyncpg.Connection, data: EventData, complaint_id: uuid.UUID) -> None:
    await enqueue(
        conn,
        build_event(data, source=SOURCE, subject=str(complaint_id)),
        topic=data.topic,
        key=str(complaint_id),
    )


def _optional_principal(request: Request) -> Principal | None:
    """The bearer's principal when a token is sent (401 when it is invalid)."""
    header = request.headers.get("authorization", "")
    if not header:
        return None
    scheme, _, credentials = header.partition(" ")
    settings = request.app.state.settings
    try:
        if scheme.lower() != "bearer":
            raise jwt.InvalidTokenError("not a bearer token")
        return decode_token(credentials, settings.jwt_secret, settings.jwt_issuer)
    except jwt.PyJWTError as exc:
        raise ApiError(401, "unauthorized", "Token tidak sah", f"invalid token: {exc}") from exc


def _actor(request: Request, row: asyncpg.Record, complaint_code: str | None) -> Principal | None:
    """An officer (by token), or None for the reporter, who proves it with
    the complaint code; a wrong code is answered as not found."""
    principal = _optional_principal(request)
    if principal is not None and principal.has_any(OFFICER_ROLES):
        return principal
    if complaint_code is None or codes.normalise(complaint_code) != row["complaint_code"]:
        raise _not_found()
    return None


async def _audit(
    conn: asyncpg.Connection,
    principal: Principal | None,
    action: str,
    complaint_id: uuid.UUID,
    **detail: Any,
) -> None:
    if principal is not None:
        await audit.record(
            conn,
            principal,
            action=action,
            target_type="complaint",
            target_id=str(complaint_id),
            detail={k: v for k, v in detail.items() if v is not None},
        )


# --- transitions ----------------------------------------------------------------


@router.post(
    "/{complaint_id}/verification",
    response_model=ComplaintState,
    summary="Verify a complaint, or reject it (not a complaint, a duplicate)",
)
async def verify(
    complaint_id: uuid.UUID, body: Verification, request: Request, pool: PoolDep, officer: Officer
) -> Any:
    now = _now()
    target = Status.VERIFIED if body.decision == "verified" else Status.REJECTED
    async with pool.acquire() as conn, conn.transaction():
        row = await _lock(conn, complaint_id, target, body.expected_version)
        data: EventData
        if target is Status.VERIFIED:
            await _move(conn, complaint_id, target, now)  # the verification step goes on
            data = ComplaintVerifiedV1(
                complaint_id=complaint_id,
                complaint_code=row["complaint_code"],
                category=row["category"],
                verified_by=officer.subject,
                verified_at=now,
            )
        else:
            duplicate_code = None
            if body.reason is RejectionReason.DUPLICATE:
                duplicate_code = await conn.fetchval(
                    "SELECT complaint_code FROM complaints WHERE id = $1 AND id <> $2",
                    body.duplicate_of,
                    complaint_id,
                )
                if duplicate_code is None:
                    raise ApiError.invalid(
                        "duplicate_of",
                        "unknown_complaint",
                        "pengaduan lain dengan ID ini tidak ada",
                        "no other complaint has this id",
                    )
            await dl.end_step(conn, complaint_id, now)
            await _move(
                conn,
                complaint_id,
                target,
                now,
                rejection_reason=body.reason.value if body.reason else None,
                rejection_note=body.note,
                duplicate_of=body.duplicate_of if duplicate_code else None,
                closed_at=now,
                closed_by=officer.subject,
            )
            data = ComplaintRejectedV1(
                complaint_id=complaint_id,
                complaint_code=row["complaint_code"],
                category=row["category"],
                reason=body.reason.value if body.reason else "not_a_complaint",
                note=body.note,
                duplicate_of=body.duplicate_of if duplicate_code else None,
                duplicate_of_code=duplicate_code,
                rejected_by=officer.subject,
                rejected_at=now,
            )
        await _emit(conn, data, complaint_id)
        await _audit(
            conn,
            officer,
            f"complaint.{target.value}",
            complaint_id,
            reason=body.reason.value if body.reason else None,
            duplicate_of=str(body.duplicate_of) if body.duplicate_of else None,
        )
        return await _state(conn, complaint_id)


@router.post(
    "/{complaint_id}/assignment",
    response_model=ComplaintState,
    summary="Assign to an OPD (default: the category's), or reassign to another",
)
async def assign(
    complaint_id: uuid.UUID, body: Assignment, request: Request, pool: PoolDep, officer: Officer
) -> Any:
    now = _now()
    async with pool.acquire() as conn, conn.transaction():
        row = await _lock(conn, complaint_id, Status.ASSIGNED, body.expected_version)
        category = await conn.fetchrow(
            "SELECT opd FROM complaint_categories WHERE code = $1", row["category"]
        )
        opd = body.opd or (category["opd"] if category else None)
        if opd is None:
            raise ApiError.invalid("opd", "missing", "wajib diisi", "is required")
        if row["status"] != Status.VERIFIED.value and opd == row["opd"]:
            raise ApiError(
                409,
                "same_opd",
                f"Pengaduan sudah ditangani {opd}",
                f"The complaint is already with {opd}",
                {"current_state": row["status"], "current_version": row["version"]},
            )
        due = await dl.start_step(
            conn,
            complaint_id=complaint_id,
            step=Step.FOLLOW_UP,
            opd=opd,
            started_at=now,
            calendar=dl.calendar_of(request.app.state.settings),
            deadlines=await dl.category_deadlines(conn, row["category"]),
        )
        await _move(conn, complaint_id, Status.ASSIGNED, now, opd=opd)
        await _emit(
            conn,
            ComplaintAssignedV1(
                complaint_id=complaint_id,
                complaint_code=row["complaint_code"],
                category=row["category"],
                anonymous=row["anonymous"],
                opd=opd,
                previous_opd=row["opd"],
                assigned_by=officer.subject,
                assigned_at=now,
                due_at=due,
            ),
            complaint_id,
        )
        await _audit(
            conn, officer, "complaint.assigned", complaint_id, opd=opd, previous=row["opd"]
        )
        return await _state(conn, complaint_id)


@router.post(
    "/{complaint_id}/progress",
    response_model=ComplaintState,
    summary="The OPD has started on the complaint (in_progress)",
)
async def progress(complaint_id: uuid.UUID, body: Progress, pool: PoolDep, handler: Handler) -> Any:
    now = _now()
    async with pool.acquire() as conn, conn.transaction():
        await _lock(conn, complaint_id, Status.IN_PROGRESS, body.expected_version)
        await _move(conn, complaint_id, Status.IN_PROGRESS, now)  # the follow-up step goes on
        await _audit(conn, handler, "complaint.in_progress", complaint_id)
        return await _state(conn, complaint_id)


@router.post(
    "/{complaint_id}/response",
    response_model=ComplaintState,
    summary="Answer the reporter (the OPD's or the officer's response)",
)
async def respond(
    complaint_id: uuid.UUID, body: Response, request: Request, pool: PoolDep, handler: Handler
) -> Any:
    now = _now()
    settings = request.app.state.settings
    calendar = dl.calendar_of(settings)
    async with pool.acquire() as conn, conn.transaction():
        row = await _lock(conn, complaint_id, Status.RESPONDED, body.expected_version)
        await dl.start_step(
            conn,
            complaint_id=complaint_id,
            step=Step.AUTO_CLOSE,
            opd=row["opd"],
            started_at=now,
            calendar=calendar,
            deadlines=await dl.category_deadlines(conn, row["category"]),
        )
        await _move(
            conn, complaint_id, Status.RESPONDED, now, response_text=body.text, responded_at=now
        )
        await _emit(
            conn,
            ComplaintRespondedV1(
                complaint_id=complaint_id,
                complaint_code=row["complaint_code"],
                category=row["category"],
                opd=row["opd"],
                response=body.text,
                responded_by=handler.subject,
                responded_at=now,
                reopen_until=reopen_until(calendar, now, settings.reopen_window_days),
            ),
            complaint_id,
        )
        await _audit(conn, handler, "complaint.responded", complaint_id)
        return await _state(conn, complaint_id)


@router.post(
    "/{complaint_id}/closure",
    response_model=ComplaintState,
    dependencies=[PUBLIC],
    summary="Close a responded complaint: the reporter with the complaint code and a rating "
    "1-5 (no token), or an officer",
)
async def close(complaint_id: uuid.UUID, body: Closure, request: Request, pool: PoolDep) -> Any:
    now = _now()
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow("SELECT * FROM complaints WHERE id = $1", complaint_id)
        if row is None:
            raise _not_found()
        officer = _actor(request, row, body.complaint_code)
        if officer is None and body.rating is None:
            raise ApiError.invalid("rating", "missing", "wajib diisi", "is required")
        row = await _lock(conn, complaint_id, Status.CLOSED, body.expected_version)
        closed_by = officer.subject if officer else REPORTER
        await dl.end_step(conn, complaint_id, now)
        await _move(
            conn,
            complaint_id,
            Status.CLOSED,
            now,
            closed_at=now,
            closed_by=closed_by,
            rating=body.rating,
            rating_comment=body.comment,
        )
        await _emit(
            conn,
            ComplaintClosedV1(
                complaint_id=complaint_id,
                complaint_code=row["complaint_code"],
                category=row["category"],
                opd=row["opd"],
                closed_by=closed_by,
                rating=body.rating,
                closed_at=now,
            ),
            complaint_id,
        )
        await _audit(conn, officer, "complaint.closed", complaint_id, rating=body.rating)
        return await _state(conn, complaint_id)


@router.post(
    "/{complaint_id}/reopening",
    response_model=ComplaintState,
    dependencies=[PUBLIC],
    summary="Reopen a responded complaint within the reopen window: the reporter with the "
    "complaint code (no token), or an officer",
)
async def reopen(complaint_id: uuid.UUID, body: Reopening, request: Request, pool: PoolDep) -> Any:
    now = _now()
    settings = request.app.state.settings
    calendar = dl.calendar_of(settings)
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow("SELECT * FROM complaints WHERE id = $1", complaint_id)
        if row is None:
            raise _not_found()
        officer = _actor(request, row, body.complaint_code)
        row = await _lock(conn, complaint_id, Status.REOPENED, body.expected_version)
        if not may_reopen(calendar, row["responded_at"], now, settings.reopen_window_days):
            raise ApiError(
                409,
                "reopen_window_passed",
                "Batas waktu membuka kembali pengaduan sudah lewat",
                "The time to reopen the complaint has passed",
                {"current_state": row["status"], "current_version": row["version"]},
            )
        due = await dl.start_step(
            conn,
            complaint_id=complaint_id,
            step=Step.FOLLOW_UP,
            opd=row["opd"],
            started_at=now,
            calendar=calendar,
            deadlines=await dl.category_deadlines(conn, row["category"]),
        )
        await _move(conn, complaint_id, Status.REOPENED, now, reopen_count=row["reopen_count"] + 1)
        await _emit(
            conn,
            ComplaintReopenedV1(
                complaint_id=complaint_id,
                complaint_code=row["complaint_code"],
                category=row["category"],
                opd=row["opd"],
                reason=body.reason,
                reopen_count=row["reopen_count"] + 1,
                reopened_at=now,
                due_at=due,
            ),
            complaint_id,
        )
        await _audit(conn, officer, "complaint.reopened", complaint_id)
        return await _state(conn, complaint_id)


# --- categories -----------------------------------------------------------------

_CATEGORY_COLUMNS = "code, name_id, name_en, opd, verify_days, followup_days, close_days, active"


@categories_router.get(
    "", response_model=list[Category], dependencies=[PUBLIC], summary="Complaint categories"
)
async def list_categories(pool: PoolDep) -> Any:
    rows = await pool.fetch(
        f"SELECT {_CATEGORY_COLUMNS} FROM complaint_categories WHERE active ORDER BY code"
    )
    return [Category(**dict(r)) for r in rows]


@categories_router.put(
    "/{code}", response_model=Category, summary="Create or change a category (admin)"
)
async def put_category(code: str, body: CategoryUpdate, pool: PoolDep, admin: Admin) -> Any:
    if not re.fullmatch(r"[a-z][a-z0-9_]{1,39}", code):
        raise ApiError.invalid(
            "code", "string_pattern_mismatch", "formatnya tidak sesuai", "has the wrong format"
        )
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            f"INSERT INTO complaint_categories ({_CATEGORY_COLUMNS}, updated_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now()) "
            "ON CONFLICT (code) DO UPDATE SET name_id = $2, name_en = $3, opd = $4, "
            "verify_days = $5, followup_days = $6, close_days = $7, active = $8, "
            f"updated_at = now() RETURNING {_CATEGORY_COLUMNS}",
            code,
            body.name_id,
            body.name_en,
            body.opd,
            body.verify_days,
            body.followup_days,
            body.close_days,
            body.active,
        )
        await audit.record(
            conn,
            admin,
            action="complaint_category.put",
            target_type="complaint_category",
            target_id=code,
            detail=body.model_dump(),
        )
    return Category(**dict(row))
