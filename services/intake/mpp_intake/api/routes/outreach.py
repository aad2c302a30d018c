"""Outreach lists ("jemput bola"): Dukcapil uploads residents who lack a
document, the desa officer works the list of their desa, records visits and
turns an entry into an application in one step.

A desa officer is a `frontdesk` principal whose counter is `DESA-<desa code>`;
they see and change the entries of that desa only. Supervisors and admins see
every desa.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from mpp_intake import catalog_store, submission
from mpp_intake.api.deps import CipherDep, FrontDesk
from mpp_intake.api.schemas import (
    ApplicationCreate,
    ApplicationPublic,
    FollowUp,
    FollowUpCreate,
    OutreachApplicationCreate,
    OutreachEntryList,
    OutreachEntryPublic,
    OutreachListPublic,
    RejectedRow,
)
from mpp_intake.domain import outreach as rules
from mpp_intake.domain.outreach import EntryStatus, OutreachRow, RowProblem
from mpp_shared import audit
from mpp_shared.auth import Principal, Role, require_roles
from mpp_shared.idempotency import Idempotency
from mpp_shared.pii import FieldCipher, mask_name, mask_nik, mask_phone
from mpp_shared.transitions import refuse_stale_or_illegal
from mpp_shared.web import (
    MAX_PAGE,
    ApiError,
    IdempotencyKey,
    Language,
    LanguageDep,
    PoolDep,
    replayed,
)

router = APIRouter(prefix="/v1/outreach", tags=["outreach"])
Supervisor = Annotated[Principal, Depends(require_roles(Role.SUPERVISOR))]
DesaOrSupervisor = Annotated[Principal, Depends(require_roles(Role.FRONTDESK, Role.SUPERVISOR))]
_ALL_DESA = frozenset({Role.SUPERVISOR, Role.ADMIN})
_CSV_TYPES = {
    "text/csv",
    "application/csv",
    "text/plain",
    "application/vnd.ms-excel",  # what some browsers send for a .csv file
    "application/octet-stream",
}
_CSV_EXAMPLE = (
    "nik,full_name,desa_code,service_code,phone,address\n"
    "3506172602660001,Siti Rahayu,3506172001,akta_kelahiran,085712345678,RT 02 RW 01\n"
)

_ENTRY_SELECT = """
SELECT e.*, l.name AS list_name, v.name_id AS service_name_id, v.name_en AS service_name_en
FROM outreach_entries e
JOIN outreach_lists l ON l.id = e.list_id
LEFT JOIN catalog_services s ON s.code = e.service_code
LEFT JOIN catalog_service_versions v ON v.code = s.code AND v.version = s.current_version
"""
# Every good row in one statement; a resident already on a workable entry for
# the same service is skipped (and reported), never listed twice.
_INSERT_ENTRIES = """
INSERT INTO outreach_entries (
    id, list_id, line, desa_code, nik_enc, nik_index, nik_masked, name_enc, name_masked,
    phone_enc, phone_masked, address, service_code, created_at, updated_at
)
SELECT u.id, $1, u.line, u.desa_code, u.nik_enc, u.nik_index, u.nik_masked, u.name_enc,
       u.name_masked, u.phone_enc, u.phone_masked, u.address, u.service_code, $2, $2
FROM unnest($3::uuid[], $4::int[], $5::text[], $6::bytea[], $7::bytea[], $8::text[],
            $9::bytea[], $10::text[], $11::bytea[], $12::text[], $13::text[], $14::text[])
    AS u(id, line, desa_code, nik_enc, nik_index, nik_masked, name_enc, name_masked,
         phone_enc, phone_masked, address, service_code)
ON CONFLICT (nik_index, service_code) WHERE status IN ('open', 'visited', 'not_home')
DO NOTHING
RETURNING line
"""


# --- who sees which desa --------------------------------------------------------


def _desa_scope(officer: Principal) -> str | None:
    """The one desa a desa officer works for; None for those who see every desa."""
    if officer.has_any(_ALL_DESA):
        return None
    desa = rules.desa_of_counter(officer.counter)
    if desa is None:
        raise ApiError(
            403,
            "not_a_desa_counter",
            "Daftar jemput bola hanya untuk petugas desa: token Anda harus untuk loket "
            f"DESA-<kode desa 10 angka>, misalnya DESA-3506172001 (loket Anda: "
            f"{officer.counter or 'tidak ada'})",
            "Outreach lists are for desa officers: your token must be for a counter "
            f"DESA-<10-digit desa code>, e.g. DESA-3506172001 (your counter: "
            f"{officer.counter or 'none'})",
        )
    return desa


def _check_desa(officer: Principal, row: asyncpg.Record) -> None:
    scope = _desa_scope(officer)
    if scope is not None and scope != row["desa_code"]:
        raise ApiError(
            403,
            "other_desa",
            f"Entri ini milik desa {row['desa_code']}; Anda petugas desa {scope}",
            f"This entry belongs to desa {row['desa_code']}; you are the officer of desa {scope}",
        )


# --- answers --------------------------------------------------------------------


def _entry(row: asyncpg.Record, language: Language) -> OutreachEntryPublic:
    service_name = row["service_name_en"] if language == "en" else row["service_name_id"]
    return OutreachEntryPublic(
        id=row["id"],
        list_id=row["list_id"],
        list_name=row["list_name"],
        line=row["line"],
        desa_code=row["desa_code"],
        kecamatan_code=row["kecamatan_code"],
        nik_masked=row["nik_masked"],
        name_masked=row["name_masked"],
        phone_masked=row["phone_masked"],
        address=row["address"],
        service_code=row["service_code"],
        service_name=service_name,
        status=row["status"],
        follow_ups=[FollowUp(**f) for f in row["follow_ups"]],
        application_id=row["application_id"],
        tracking_code=row["tracking_code"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _list(row: asyncpg.Record, language: Language) -> OutreachListPublic:
    return OutreachListPublic(
        id=row["id"],
        name=row["name"],
        uploaded_by=row["uploaded_by"],
        uploaded_at=row["uploaded_at"],
        rows=row["rows_total"],
        accepted=row["rows_accepted"],
        rejected=row["rows_rejected"],
        rejected_rows=[
            RejectedRow(
                line=p["line"],
                field=p["field"],
                code=p["code"],
                reason=p["message_en"] if language == "en" else p["message_id"],
                nik_masked=p.get("nik_masked"),
            )
            for p in row["rejected_rows"]
        ],
    )


async def _fetch_entry(
    conn: asyncpg.Connection | asyncpg.Pool, entry_id: uuid.UUID, lock: bool = False
) -> asyncpg.Record:
    row = await conn.fetchrow(
        _ENTRY_SELECT + " WHERE e.id = $1" + (" FOR UPDATE OF e" if lock else ""), entry_id
    )
    if row is None:
        raise ApiError(
            404, "not_found", "Entri jemput bola tidak ditemukan", "Outreach entry not found"
        )
    return row


# --- upload ---------------------------------------------------------------------


async def _read_csv(request: Request) -> bytes:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type and media_type not in _CSV_TYPES:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"Kirim berkas CSV (Content-Type: text/csv), bukan {media_type}",
            f"Send a CSV file (Content-Type: text/csv), not {media_type}",
        )
    too_large = ApiError(
        413,
        "too_large",
        f"Berkas terlalu besar: paling besar {rules.MAX_BYTES // (1024 * 1024)} MB; "
        "bagi menjadi beberapa berkas",
        f"The file is too large: at most {rules.MAX_BYTES // (1024 * 1024)} MB; "
        "split it into several files",
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > rules.MAX_BYTES:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > rules.MAX_BYTES:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _prepare(
    data: bytes, known_services: set[str], cipher: FieldCipher
) -> tuple[int, list[OutreachRow], list[RowProblem], list[list[Any]]]:
    """Parse, check and encrypt (CPU work, run off the event loop). The columns
    of `_INSERT_ENTRIES` from $3 on, one list per column."""
    try:
        parsed = rules.parse_outreach_csv(data, known_services)
    except rules.UploadRefused as exc:
        raise ApiError(
            exc.status_code,
            exc.code,
            f"Berkas ditolak: {exc.message_id}",
            f"The file was refused: {exc.message_en}",
        ) from exc
    columns: list[list[Any]] = [[] for _ in range(12)]
    for row in parsed.rows:
        values = (
            uuid.uuid4(),
            row.line,
            row.desa_code,
            cipher.encrypt(row.nik, context="nik"),
            cipher.blind_index(row.nik, context="nik"),
            mask_nik(row.nik),
            cipher.encrypt(row.full_name, context="name"),
            mask_name(row.full_name),
            cipher.encrypt(row.phone, context="phone") if row.phone else None,
            mask_phone(row.phone) if row.phone else None,
            row.address,
            row.service_code,
        )
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    return parsed.rows_total, parsed.rows, parsed.problems, columns


@router.post(
    "/lists",
    status_code=201,
    response_model=OutreachListPublic,
    summary="Upload an outreach list (CSV) of residents who lack a document (Dukcapil)",
    description=(
        "Body: a UTF-8 CSV (`,` or `;`), header row "
        "`nik,full_name,desa_code,service_code,phone,address` (phone and address optional). "
        f"At most {rules.MAX_BYTES // (1024 * 1024)} MB and {rules.MAX_ROWS} rows. Good rows "
        "are stored; every refused row is reported with its line number and the reason. "
        "Honours Idempotency-Key."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}, "example": _CSV_EXAMPLE}},
        }
    },
)
async def upload_list(
    request: Request,
    pool: PoolDep,
    cipher: CipherDep,
    officer: Supervisor,
    language: LanguageDep,
    name: Annotated[
        str, Query(min_length=1, max_length=200, description="e.g. 'Belum akta - Pare 2026-11'")
    ],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    name = " ".join(name.split())
    if not name:
        raise ApiError.invalid("name", "missing", "wajib diisi", "is required")
    data = await _read_csv(request)
    known = {s.code for s in await catalog_store.current_services(pool)}
    total, rows, problems, columns = await run_in_threadpool(_prepare, data, known, cipher)
    list_id = uuid.uuid4()
    now = datetime.now(UTC)
    scope = f"outreach-lists:{officer.subject}"
    async with pool.acquire() as conn, conn.transaction():
        once = Idempotency(conn, scope, idempotency_key)
        if (
            stored := await once.replay(
                {"name": name, "csv_sha256": hashlib.sha256(data).hexdigest()}
            )
        ) is not None:
            return replayed(stored)
        await conn.execute(
            "INSERT INTO outreach_lists (id, name, uploaded_by, counter, uploaded_at, "
            "rows_total, rows_accepted, rows_rejected) VALUES ($1, $2, $3, $4, $5, $6, 0, 0)",
            list_id,
            name,
            officer.subject,
            officer.counter,
            now,
            total,
        )
        stored_lines = {
            r["line"] for r in await conn.fetch(_INSERT_ENTRIES, list_id, now, *columns)
        }
        for row in rows:
            if row.line not in stored_lines:
                id_, en = rules.message("already_listed")
                problems.append(
                    RowProblem(row.line, "nik", "already_listed", id_, en, mask_nik(row.nik))
                )
        problems.sort(key=lambda p: p.line)
        rejected = len({p.line for p in problems})
        answer_row = await conn.fetchrow(
            "UPDATE outreach_lists SET rows_accepted = $2, rows_rejected = $3, "
            "rejected_rows = $4 WHERE id = $1 RETURNING *",
            list_id,
            len(stored_lines),
            rejected,
            [p.as_json() for p in problems],
        )
        await audit.record(
            conn,
            officer,
            action="outreach.upload",
            target_type="outreach_list",
            target_id=str(list_id),
            detail={
                "name": name,
                "rows": total,
                "accepted": len(stored_lines),
                "rejected": rejected,
                "bytes": len(data),
            },
        )
        answer = _list(answer_row, language)
        await once.remember(answer)
    return answer


@router.get(
    "/lists/{list_id}",
    response_model=OutreachListPublic,
    summary="An uploaded list: counts and the refused rows (masked)",
)
async def get_list(
    list_id: uuid.UUID, pool: PoolDep, _officer: Supervisor, language: LanguageDep
) -> Any:
    row = await pool.fetchrow("SELECT * FROM outreach_lists WHERE id = $1", list_id)
    if row is None:
        raise ApiError(
            404, "not_found", "Daftar jemput bola tidak ditemukan", "Outreach list not found"
        )
    return _list(row, language)


# --- the desa officer's worklist ------------------------------------------------


@router.get(
    "/entries",
    response_model=OutreachEntryList,
    summary="Outreach entries: a desa officer sees their desa, a supervisor every desa",
)
async def list_entries(
    pool: PoolDep,
    officer: DesaOrSupervisor,
    language: LanguageDep,
    status: EntryStatus | None = None,
    service_code: str | None = None,
    desa_code: Annotated[str | None, Query(description="Supervisors: one desa (10 digits)")] = None,
    kecamatan_code: Annotated[
        str | None, Query(description="Supervisors: one kecamatan (6 digits)")
    ] = None,
    list_id: uuid.UUID | None = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    scope = _desa_scope(officer)
    if scope is not None:
        if desa_code and rules.normalise_desa_code(desa_code) != scope:
            raise ApiError(
                403,
                "other_desa",
                f"Anda petugas desa {scope} dan hanya melihat entri desa itu",
                f"You are the officer of desa {scope} and see that desa's entries only",
            )
        desa_code = scope
    elif desa_code:
        desa_code = rules.normalise_desa_code(desa_code)
    rows = await pool.fetch(
        _ENTRY_SELECT.replace("SELECT e.*", "SELECT count(*) OVER () AS total, e.*")
        + """
        WHERE ($1::text IS NULL OR e.desa_code = $1)
          AND ($2::text IS NULL OR e.kecamatan_code = $2)
          AND ($3::text IS NULL OR e.status = $3)
          AND ($4::text IS NULL OR e.service_code = $4)
          AND ($5::uuid IS NULL OR e.list_id = $5)
        ORDER BY e.created_at, e.list_id, e.line
        LIMIT $6 OFFSET $7
        """,
        desa_code,
        kecamatan_code,
        status.value if status else None,
        service_code,
        list_id,
        page_size,
        (page - 1) * page_size,
    )
    return OutreachEntryList(
        items=[_entry(r, language) for r in rows],
        total=rows[0]["total"] if rows else 0,
        page=page,
        page_size=page_size,
    )


@router.get("/entries/{entry_id}", response_model=OutreachEntryPublic, summary="One entry")
async def get_entry(
    entry_id: uuid.UUID, pool: PoolDep, officer: DesaOrSupervisor, language: LanguageDep
) -> Any:
    row = await _fetch_entry(pool, entry_id)
    _check_desa(officer, row)
    return _entry(row, language)


@router.post(
    "/entries/{entry_id}/follow-ups",
    status_code=201,
    response_model=OutreachEntryPublic,
    summary="Record a visit's outcome (visited, not_home, refused, moved)",
)
async def add_follow_up(
    entry_id: uuid.UUID,
    body: FollowUpCreate,
    pool: PoolDep,
    officer: DesaOrSupervisor,
    language: LanguageDep,
) -> Any:
    now = datetime.now(UTC)
    follow_up = {
        "outcome": body.outcome,
        "note": body.note or None,
        "by": officer.subject,
        "counter": officer.counter,
        "at": now.isoformat(),
    }
    try:
        async with pool.acquire() as conn, conn.transaction():
            row = await _fetch_entry(conn, entry_id, lock=True)
            _check_desa(officer, row)
            refuse_stale_or_illegal(
                noun=("Entri jemput bola", "The outreach entry"),
                current=row["status"],
                target=body.outcome,
                version=row["version"],
                expected_version=body.expected_version,
                allowed=rules.can_follow_up(row["status"]),
            )
            await conn.execute(
                "UPDATE outreach_entries SET status = $2, follow_ups = follow_ups || $3::jsonb, "
                "version = version + 1, updated_at = $4 WHERE id = $1",
                entry_id,
                body.outcome,
                [follow_up],
                now,
            )
            await audit.record(
                conn,
                officer,
                action="outreach.follow_up",
                target_type="outreach_entry",
                target_id=str(entry_id),
                detail={"outcome": body.outcome, "from": row["status"]},
            )
            return _entry(await _fetch_entry(conn, entry_id), language)
    except asyncpg.UniqueViolationError:
        # Back to a workable status while a newer list holds the same resident.
        raise ApiError(
            409,
            "already_listed",
            "Penduduk ini sudah ada di daftar jemput bola yang lebih baru untuk layanan ini; "
            "lanjutkan di entri itu",
            "A newer outreach list holds this resident for this service; carry on with that entry",
        ) from None


@router.post(
    "/entries/{entry_id}/application",
    status_code=201,
    response_model=ApplicationPublic,
    summary="Turn an entry into an application at the desa (honours Idempotency-Key)",
    description=(
        "NIK, name, service and (unless given) phone come from the entry; the channel is "
        "`desa`. The entry becomes `applied` with the application's tracking code in the "
        "same transaction. Refusals are those of POST /v1/applications."
    ),
)
async def apply_from_entry(
    entry_id: uuid.UUID,
    body: OutreachApplicationCreate,
    request: Request,
    pool: PoolDep,
    cipher: CipherDep,
    officer: FrontDesk,
    language: LanguageDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    scope = f"outreach-applications:{officer.subject}"
    now = datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        once = Idempotency(conn, scope, idempotency_key)
        if (stored := await once.replay({"entry": str(entry_id), **body.model_dump()})) is not None:
            return replayed(stored)
        row = await _fetch_entry(conn, entry_id, lock=True)
        _check_desa(officer, row)
        refuse_stale_or_illegal(
            noun=("Entri jemput bola", "The outreach entry"),
            current=row["status"],
            target=EntryStatus.APPLIED.value,
            version=row["version"],
            expected_version=body.expected_version,
            allowed=rules.can_apply(row["status"]),
        )
        phone = body.phone
        if phone is None and row["phone_enc"] is not None:
            phone = cipher.decrypt(row["phone_enc"], context="phone")
        try:
            application = ApplicationCreate(
                service_code=row["service_code"],
                documents=body.documents,
                nik=cipher.decrypt(row["nik_enc"], context="nik"),
                full_name=cipher.decrypt(row["name_enc"], context="name"),
                phone=phone,
                email=body.email,
                channel="desa",
                pickup_point=body.pickup_point,
                language=body.language,
                preferred_channel=body.preferred_channel,
            )
        except ValidationError as exc:
            # Only what the officer sent can be wrong here (the entry was checked
            # on upload); never echo the decrypted input.
            raise RequestValidationError(
                [{k: v for k, v in e.items() if k != "input"} for e in exc.errors()]
            ) from None
        answer = await submission.submit(
            conn,
            settings=request.app.state.settings,
            cipher=cipher,
            officer=officer,
            body=application,
            language=language,
        )
        await conn.execute(
            "UPDATE outreach_entries SET status = 'applied', application_id = $2, "
            "tracking_code = $3, version = version + 1, updated_at = $4 WHERE id = $1",
            entry_id,
            answer.id,
            answer.tracking_code,
            now,
        )
        await audit.record(
            conn,
            officer,
            action="outreach.apply",
            target_type="outreach_entry",
            target_id=str(entry_id),
            detail={
                "application_id": str(answer.id),
                "tracking_code": answer.tracking_code,
                "service_code": answer.service_code,
                "from": row["status"],
            },
        )
        await once.remember(answer)
    return answer
