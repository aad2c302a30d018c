"""The managed list of complaint categories: read by anyone (active ones),
created or changed by an admin, each change in the audit trail."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import asyncpg
from pydantic import BaseModel

from mpp_complaints.domain.complaints import is_category_code
from mpp_complaints.store import categories
from mpp_shared import audit
from mpp_shared.auth import Principal
from mpp_shared.errors import Invalid


class Category(BaseModel):
    code: str
    name_id: str
    name_en: str
    opd: str
    verify_days: int
    followup_days: int
    close_days: int
    active: bool


@dataclass(frozen=True)
class CategoryChange:
    """Every field of a category but its code."""

    name_id: str
    name_en: str
    opd: str
    verify_days: int
    followup_days: int
    close_days: int
    active: bool


async def list_categories(pool: asyncpg.Pool) -> list[Category]:
    async with pool.acquire() as conn:
        rows = await categories.list_active(conn)
    return [Category(**dict(r)) for r in rows]


async def put_category(
    pool: asyncpg.Pool, code: str, change: CategoryChange, *, admin: Principal
) -> Category:
    """The category created or changed; Invalid when `code` is not a category code."""
    if not is_category_code(code):
        raise Invalid.field(
            "code", "string_pattern_mismatch", "formatnya tidak sesuai", "has the wrong format"
        )
    async with pool.acquire() as conn, conn.transaction():
        row = await categories.upsert(conn, code=code, **asdict(change))
        await audit.record(
            conn,
            admin,
            action="complaint_category.put",
            target_type="complaint_category",
            target_id=code,
            detail=asdict(change),
        )
    return Category(**dict(row))
