"""Outreach lists ("jemput bola"): Dukcapil uploads a CSV of residents who
lack a document. The good rows become entries of their desa's worklist in one
transaction with the list, its audit entry and the report of every refused
row (line, field, reason; a NIK only masked). A resident already on a list
still being worked for the same service is refused, never listed twice."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from pydantic import BaseModel, Field

from mpp_intake.domain import outreach as rules
from mpp_intake.domain.outreach import OutreachRow, RowProblem
from mpp_intake.store import catalog, outreach
from mpp_shared import audit, clock
from mpp_shared.auth import Principal
from mpp_shared.errors import Language, NotFound
from mpp_shared.idempotency import Idempotency, StoredAnswer
from mpp_shared.pii import FieldCipher, mask_name, mask_nik, mask_phone


class RejectedRow(BaseModel):
    line: int = Field(description="Line in the uploaded file (the header is line 1)")
    field: str
    code: str
    reason: str
    nik_masked: str | None = None


class OutreachListPublic(BaseModel):
    id: uuid.UUID
    name: str
    uploaded_by: str
    uploaded_at: datetime
    rows: int = Field(description="Data rows in the file")
    accepted: int = Field(description="Rows stored as entries")
    rejected: int = Field(description="Rows refused (a row may have several reasons)")
    rejected_rows: list[RejectedRow] = Field(description="One item per reason, by line")


@dataclass(frozen=True)
class PreparedUpload:
    """A checked file: its good rows encrypted, one list per column of
    `outreach.INSERT_ENTRIES` (from $3 on), and the problems found so far."""

    rows_total: int
    rows: list[OutreachRow]
    problems: list[RowProblem]
    columns: list[list[Any]]


def list_answer(row: asyncpg.Record, language: Language) -> OutreachListPublic:
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


async def get_list(
    pool: asyncpg.Pool, list_id: uuid.UUID, language: Language
) -> OutreachListPublic:
    row = await outreach.fetch_list(pool, list_id)
    if row is None:
        raise NotFound("not_found", "Daftar jemput bola tidak ditemukan", "Outreach list not found")
    return list_answer(row, language)


def prepare(data: bytes, known_services: set[str], cipher: FieldCipher) -> PreparedUpload:
    """Parse, check and encrypt (CPU work, run off the event loop). Raises
    `rules.UploadRefused` when the file as a whole cannot be used."""
    parsed = rules.parse_outreach_csv(data, known_services)
    columns: list[list[Any]] = [[] for _ in range(outreach.ENTRY_COLUMNS)]
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
    return PreparedUpload(parsed.rows_total, parsed.rows, parsed.problems, columns)


async def upload_list(
    pool: asyncpg.Pool,
    *,
    cipher: FieldCipher,
    officer: Principal,
    name: str,
    data: bytes,
    language: Language,
    idempotency_key: str | None,
) -> OutreachListPublic | StoredAnswer:
    """Store the list and its good rows; a retry with the same Idempotency-Key
    (same name, same file) gets the first answer back. Raises
    `rules.UploadRefused` for a file that cannot be used at all."""
    known = {s.code for s in await catalog.current_services(pool)}
    upload = await asyncio.to_thread(prepare, data, known, cipher)
    list_id = uuid.uuid4()
    now = clock.now()
    async with pool.acquire() as conn, conn.transaction():
        once = Idempotency(conn, f"outreach-lists:{officer.subject}", idempotency_key)
        fingerprint = {"name": name, "csv_sha256": hashlib.sha256(data).hexdigest()}
        if (stored := await once.replay(fingerprint)) is not None:
            return stored
        await outreach.insert_list(
            conn,
            list_id,
            name=name,
            uploaded_by=officer.subject,
            counter=officer.counter,
            uploaded_at=now,
            rows_total=upload.rows_total,
        )
        stored_lines = await outreach.insert_entries(conn, list_id, now, upload.columns)
        problems = _with_already_listed(upload, stored_lines)
        rejected = len({p.line for p in problems})
        answer_row = await outreach.count_list(
            conn,
            list_id,
            accepted=len(stored_lines),
            rejected=rejected,
            rejected_rows=[p.as_json() for p in problems],
        )
        await audit.record(
            conn,
            officer,
            action="outreach.upload",
            target_type="outreach_list",
            target_id=str(list_id),
            detail={
                "name": name,
                "rows": upload.rows_total,
                "accepted": len(stored_lines),
                "rejected": rejected,
                "bytes": len(data),
            },
        )
        answer = list_answer(answer_row, language)
        await once.remember(answer)
    return answer


def _with_already_listed(upload: PreparedUpload, stored_lines: set[int]) -> list[RowProblem]:
    """The problems found in the file and, for each good row not stored, that
    its resident is already listed; by line."""
    problems = list(upload.problems)
    for row in upload.rows:
        if row.line not in stored_lines:
            id_, en = rules.message("already_listed")
            problems.append(
                RowProblem(row.line, "nik", "already_listed", id_, en, mask_nik(row.nik))
            )
    problems.sort(key=lambda p: p.line)
    return problems
