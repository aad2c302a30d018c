"""SQL of the managed list of complaint categories: each with its
responsible OPD and the deadlines of its steps in working days."""

from __future__ import annotations

import asyncpg

from mpp_complaints.domain.lifecycle import Deadlines

COLUMNS = "code, name_id, name_en, opd, verify_days, followup_days, close_days, active"
LIST_ACTIVE = f"SELECT {COLUMNS} FROM complaint_categories WHERE active ORDER BY code"
UPSERT = (
    f"INSERT INTO complaint_categories ({COLUMNS}, updated_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now()) "
    "ON CONFLICT (code) DO UPDATE SET name_id = $2, name_en = $3, opd = $4, "
    "verify_days = $5, followup_days = $6, close_days = $7, active = $8, "
    f"updated_at = now() RETURNING {COLUMNS}"
)


async def list_active(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(LIST_ACTIVE)
    return rows


async def upsert(
    conn: asyncpg.Connection,
    *,
    code: str,
    name_id: str,
    name_en: str,
    opd: str,
    verify_days: int,
    followup_days: int,
    close_days: int,
    active: bool,
) -> asyncpg.Record:
    """Create the category or change every field of it; the row as stored."""
    return await conn.fetchrow(
        UPSERT, code, name_id, name_en, opd, verify_days, followup_days, close_days, active
    )


async def is_active(conn: asyncpg.Connection, code: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT true FROM complaint_categories WHERE code = $1 AND active", code
        )
    )


async def active_codes(conn: asyncpg.Connection) -> set[str]:
    rows = await conn.fetch("SELECT code FROM complaint_categories WHERE active")
    return {r["code"] for r in rows}


async def opd_of(conn: asyncpg.Connection, code: str) -> str | None:
    """The category's responsible OPD (None for an unknown category)."""
    opd: str | None = await conn.fetchval(
        "SELECT opd FROM complaint_categories WHERE code = $1", code
    )
    return opd


async def deadlines_of(conn: asyncpg.Connection, code: str) -> Deadlines:
    """The category's deadlines (the defaults for an unknown category)."""
    row = await conn.fetchrow(
        "SELECT verify_days, followup_days, close_days FROM complaint_categories WHERE code = $1",
        code,
    )
    return Deadlines(**dict(row)) if row else Deadlines()
