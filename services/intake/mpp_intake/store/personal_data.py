"""SQL of a resident's requests about their data at intake: their records
found by the blind index of the NIK (under every configured index key), the
correction of the contact of their unfinished applications and outreach
entries, and the requests' own record (no personal data: who asked, when,
why, what each service did)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

APPLICATIONS = (
    "SELECT * FROM applications WHERE nik_index = ANY($1::bytea[]) ORDER BY created_at, id"
)
TIMELINE = """
SELECT * FROM application_timeline WHERE application_id = ANY($1::uuid[])
ORDER BY application_id, at, id
"""
OUTREACH = """
SELECT * FROM outreach_entries WHERE nik_index = ANY($1::bytea[]) ORDER BY created_at, id
"""
POPULATION = """
SELECT * FROM population_reports
WHERE nik_index = ANY($1::bytea[]) OR subject_nik_index = ANY($1::bytea[])
ORDER BY reported_at, id
"""
SIGNIN_CODES = """
SELECT * FROM citizen_signin_codes WHERE nik_index = ANY($1::bytea[]) ORDER BY created_at, id
"""
SESSIONS = """
SELECT * FROM citizen_sessions WHERE nik_index = ANY($1::bytea[]) ORDER BY created_at, id
"""
DRAFTS = "SELECT * FROM online_drafts WHERE nik_index = ANY($1::bytea[]) ORDER BY created_at, id"
FILES = """
SELECT * FROM application_files
WHERE application_id = ANY($1::uuid[]) OR draft_id = ANY($2::uuid[])
ORDER BY uploaded_at, id
"""
# Unfinished: an application still active (not rejected, not picked up); an
# outreach entry still being worked; a village's report not followed up.
CORRECT_APPLICATIONS = """
UPDATE applications SET phone_enc = coalesce($2, phone_enc), email_enc = coalesce($3, email_enc),
    version = version + 1, updated_at = $4
WHERE nik_index = ANY($1::bytea[]) AND active
RETURNING id
"""
CORRECT_OUTREACH = """
UPDATE outreach_entries SET phone_enc = $2, phone_masked = $3, version = version + 1,
    updated_at = $4
WHERE nik_index = ANY($1::bytea[]) AND status IN ('open', 'visited', 'not_home')
RETURNING id
"""
# A village's report not followed up yet: the applicant's phone.
CORRECT_POPULATION = """
UPDATE population_reports SET phone_enc = $2, phone_masked = $3
WHERE nik_index = ANY($1::bytea[]) AND followed_up_at IS NULL
RETURNING id
"""
INSERT_REQUEST = """
INSERT INTO personal_data_requests (id, kind, requested_by, counter, requested_at, reason,
    complete, outcome)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)
"""
LIST_REQUESTS = """
SELECT count(*) OVER () AS total, * FROM personal_data_requests
WHERE ($1::text IS NULL OR kind = $1)
ORDER BY requested_at DESC, id DESC LIMIT $2 OFFSET $3
"""


async def found_by_nik(
    conn: asyncpg.Connection, nik_indexes: Sequence[bytes]
) -> dict[str, list[asyncpg.Record]]:
    """Every record of the resident at intake, by kind (uploaded papers: their
    metadata, not their bytes)."""
    indexes = list(nik_indexes)
    applications = list(await conn.fetch(APPLICATIONS, indexes))
    drafts = list(await conn.fetch(DRAFTS, indexes))
    application_ids = [a["id"] for a in applications]
    return {
        "application": applications,
        "application_step": list(await conn.fetch(TIMELINE, application_ids)),
        "outreach_entry": list(await conn.fetch(OUTREACH, indexes)),
        # Reports naming the resident as the applicant or as the person concerned.
        "population_report": list(await conn.fetch(POPULATION, indexes)),
        "signin_code": list(await conn.fetch(SIGNIN_CODES, indexes)),
        "citizen_session": list(await conn.fetch(SESSIONS, indexes)),
        "online_draft": drafts,
        "uploaded_paper": list(await conn.fetch(FILES, application_ids, [d["id"] for d in drafts])),
    }


async def correct_applications(
    conn: asyncpg.Connection,
    nik_indexes: Sequence[bytes],
    *,
    phone_enc: bytes | None,
    email_enc: bytes | None,
    at: datetime,
) -> list[uuid.UUID]:
    rows = await conn.fetch(CORRECT_APPLICATIONS, list(nik_indexes), phone_enc, email_enc, at)
    return [r["id"] for r in rows]


async def correct_outreach(
    conn: asyncpg.Connection,
    nik_indexes: Sequence[bytes],
    *,
    phone_enc: bytes,
    phone_masked: str,
    at: datetime,
) -> list[uuid.UUID]:
    rows = await conn.fetch(CORRECT_OUTREACH, list(nik_indexes), phone_enc, phone_masked, at)
    return [r["id"] for r in rows]


async def correct_population(
    conn: asyncpg.Connection,
    nik_indexes: Sequence[bytes],
    *,
    phone_enc: bytes,
    phone_masked: str,
) -> list[uuid.UUID]:
    rows = await conn.fetch(CORRECT_POPULATION, list(nik_indexes), phone_enc, phone_masked)
    return [r["id"] for r in rows]


async def insert_request(
    conn: asyncpg.Connection,
    *,
    request_id: uuid.UUID,
    kind: str,
    requested_by: str,
    counter: str | None,
    requested_at: datetime,
    reason: str,
    complete: bool,
    outcome: dict[str, Any],
) -> None:
    await conn.execute(
        INSERT_REQUEST,
        request_id,
        kind,
        requested_by,
        counter,
        requested_at,
        reason,
        complete,
        outcome,
    )


async def list_requests(
    conn: asyncpg.Connection | asyncpg.Pool, kind: str | None, limit: int, offset: int
) -> list[asyncpg.Record]:
    return list(await conn.fetch(LIST_REQUESTS, kind, limit, offset))
