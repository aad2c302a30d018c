"""SQL of uploaded papers (`application_files`): the rows that say which
draft or application, requirement and paper a stored blob is, with its type,
size and SHA-256. The bytes are in the file storage (`store.file_storage`)."""

from __future__ import annotations

import uuid
from dataclasses import astuple, dataclass
from datetime import datetime

import asyncpg

INSERT = """
INSERT INTO application_files (
    id, draft_id, application_id, requirement, document, storage_key, content_type, size,
    sha256, pages, uploaded_by, uploaded_at
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
"""
OF_DRAFT = "SELECT * FROM application_files WHERE draft_id = $1 ORDER BY uploaded_at, id"
# Every paper of an application but those a correction replaced.
OF_APPLICATION = """
SELECT * FROM application_files
WHERE application_id = $1 AND superseded_at IS NULL ORDER BY uploaded_at, id
"""
ONE_OF_APPLICATION = "SELECT * FROM application_files WHERE application_id = $1 AND id = $2"
# A new upload for the same requirement replaces the draft's (or the
# correction's not yet handed in): the old row goes, its blob is deleted.
DROP_DRAFT_REQUIREMENT = """
DELETE FROM application_files WHERE draft_id = $1 AND requirement = $2 RETURNING storage_key
"""
DROP_PENDING_REQUIREMENT = """
DELETE FROM application_files
WHERE application_id = $1 AND requirement = $2 AND NOT handed_in RETURNING storage_key
"""
DROP_DRAFT_FILE = (
    "DELETE FROM application_files WHERE draft_id = $1 AND id = $2 RETURNING storage_key"
)
MOVE_TO_APPLICATION = """
UPDATE application_files SET application_id = $2, draft_id = NULL, handed_in = true
WHERE draft_id = $1
"""
PENDING = """
SELECT * FROM application_files
WHERE application_id = $1 AND NOT handed_in AND superseded_at IS NULL ORDER BY uploaded_at, id
"""
# Handing in the corrections: the papers they replace are superseded.
HAND_IN_PENDING = """
WITH pending AS (
    SELECT id, requirement FROM application_files
    WHERE application_id = $1 AND NOT handed_in AND superseded_at IS NULL
), superseded AS (
    UPDATE application_files f SET superseded_at = $2
    FROM pending p
    WHERE f.application_id = $1 AND f.handed_in AND f.superseded_at IS NULL
      AND f.requirement = p.requirement
)
UPDATE application_files f SET handed_in = true FROM pending p WHERE f.id = p.id
"""
DRAFT_BYTES = "SELECT coalesce(sum(size), 0) FROM application_files WHERE draft_id = $1"
APPLICATION_BYTES = """
SELECT coalesce(sum(size), 0) FROM application_files
WHERE application_id = $1 AND superseded_at IS NULL AND deleted_at IS NULL
"""
START_RETENTION = """
UPDATE application_files SET retention_from = $2
WHERE application_id = $1 AND retention_from IS NULL
"""
# Retention: files whose retention started before $1 (now minus the period).
DUE = """
SELECT id, application_id, storage_key FROM application_files
WHERE retention_from <= $1 AND deleted_at IS NULL
ORDER BY retention_from LIMIT $2 FOR UPDATE SKIP LOCKED
"""
MARK_DELETED = "UPDATE application_files SET deleted_at = $2 WHERE id = ANY($1::uuid[])"
NEXT_RETENTION = """
SELECT min(retention_from) FROM application_files
WHERE retention_from IS NOT NULL AND deleted_at IS NULL
"""


@dataclass(frozen=True)
class NewFile:
    """The columns of `INSERT`, in order."""

    id: uuid.UUID
    draft_id: uuid.UUID | None
    application_id: uuid.UUID | None
    requirement: str
    document: str
    storage_key: str
    content_type: str
    size: int
    sha256: str
    pages: int | None
    uploaded_by: str
    uploaded_at: datetime


def storage_key(file_id: uuid.UUID) -> str:
    """Where a paper's bytes are stored: independent of its draft or application,
    so moving a draft's papers to the application moves no bytes."""
    return f"uploads/{file_id}"


async def insert(conn: asyncpg.Connection, new: NewFile) -> None:
    await conn.execute(INSERT, *astuple(new))


async def of_draft(
    conn: asyncpg.Connection | asyncpg.Pool, draft_id: uuid.UUID
) -> list[asyncpg.Record]:
    return list(await conn.fetch(OF_DRAFT, draft_id))


async def of_application(
    conn: asyncpg.Connection | asyncpg.Pool, application_id: uuid.UUID
) -> list[asyncpg.Record]:
    return list(await conn.fetch(OF_APPLICATION, application_id))


async def one_of_application(
    conn: asyncpg.Connection | asyncpg.Pool, application_id: uuid.UUID, file_id: uuid.UUID
) -> asyncpg.Record | None:
    return await conn.fetchrow(ONE_OF_APPLICATION, application_id, file_id)


async def drop_draft_requirement(
    conn: asyncpg.Connection, draft_id: uuid.UUID, requirement: str
) -> list[str]:
    return [
        r["storage_key"] for r in await conn.fetch(DROP_DRAFT_REQUIREMENT, draft_id, requirement)
    ]


async def drop_pending_requirement(
    conn: asyncpg.Connection, application_id: uuid.UUID, requirement: str
) -> list[str]:
    rows = await conn.fetch(DROP_PENDING_REQUIREMENT, application_id, requirement)
    return [r["storage_key"] for r in rows]


async def drop_draft_file(
    conn: asyncpg.Connection, draft_id: uuid.UUID, file_id: uuid.UUID
) -> str | None:
    key: str | None = await conn.fetchval(DROP_DRAFT_FILE, draft_id, file_id)
    return key


async def move_to_application(
    conn: asyncpg.Connection, draft_id: uuid.UUID, application_id: uuid.UUID
) -> None:
    await conn.execute(MOVE_TO_APPLICATION, draft_id, application_id)


async def pending(conn: asyncpg.Connection, application_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(PENDING, application_id))


async def hand_in_pending(
    conn: asyncpg.Connection, application_id: uuid.UUID, at: datetime
) -> None:
    await conn.execute(HAND_IN_PENDING, application_id, at)


async def draft_bytes(conn: asyncpg.Connection, draft_id: uuid.UUID) -> int:
    total: int = await conn.fetchval(DRAFT_BYTES, draft_id)
    return total


async def application_bytes(conn: asyncpg.Connection, application_id: uuid.UUID) -> int:
    total: int = await conn.fetchval(APPLICATION_BYTES, application_id)
    return total


async def start_retention(
    conn: asyncpg.Connection, application_id: uuid.UUID, at: datetime
) -> None:
    """The document was picked up at `at`: the retention period of its papers starts."""
    await conn.execute(START_RETENTION, application_id, at)


async def due(
    conn: asyncpg.Connection, started_before: datetime, limit: int
) -> list[asyncpg.Record]:
    """Papers whose retention ended, locked (others' are skipped)."""
    return list(await conn.fetch(DUE, started_before, limit))


async def mark_deleted(conn: asyncpg.Connection, file_ids: list[uuid.UUID], at: datetime) -> None:
    await conn.execute(MARK_DELETED, file_ids, at)


async def next_retention_start(conn: asyncpg.Connection | asyncpg.Pool) -> datetime | None:
    found: datetime | None = await conn.fetchval(NEXT_RETENTION)
    return found
