"""Message templates officers changed (`message_templates`), one row per
event type, channel and language; a template without a row is the shipped
default. A save is versioned: it only lands on the version the writer read."""

from __future__ import annotations

import asyncpg

from mpp_notify.domain.template_rendering import StoredTemplate, TemplateKey

COLUMNS = "event_type, channel, language, subject, body, version, updated_by, updated_at"
SELECT_ONE = f"""
SELECT {COLUMNS}
FROM message_templates WHERE event_type = $1 AND channel = $2 AND language = $3
"""
SELECT_ALL = f"""
SELECT {COLUMNS}
FROM message_templates ORDER BY event_type, channel, language
"""
# Created at version 1, else the next version, only over the version expected ($7)
# when one is given: no row comes back when another writer got there first.
UPSERT = f"""
INSERT INTO message_templates (event_type, channel, language, subject, body, version, updated_by)
VALUES ($1, $2, $3, $4, $5, 1, $6)
ON CONFLICT (event_type, channel, language) DO UPDATE
    SET subject = EXCLUDED.subject, body = EXCLUDED.body,
        version = message_templates.version + 1,
        updated_by = EXCLUDED.updated_by, updated_at = now()
    WHERE $7::integer IS NULL OR message_templates.version = $7
RETURNING {COLUMNS}
"""
DELETE = "DELETE FROM message_templates WHERE event_type = $1 AND channel = $2 AND language = $3"


def _stored(row: asyncpg.Record | None) -> StoredTemplate | None:
    return None if row is None else StoredTemplate(**row)


async def find(
    conn: asyncpg.Connection, key: TemplateKey, *, for_update: bool = False
) -> StoredTemplate | None:
    """The saved template, if officers changed it; `for_update` locks its row."""
    return _stored(await conn.fetchrow(SELECT_ONE + (" FOR UPDATE" if for_update else ""), *key))


async def find_all(conn: asyncpg.Connection) -> list[StoredTemplate]:
    """Every template officers changed, by event type, channel and language."""
    return [StoredTemplate(**row) for row in await conn.fetch(SELECT_ALL)]


async def save(
    conn: asyncpg.Connection,
    key: TemplateKey,
    subject: str | None,
    body: str,
    *,
    updated_by: str,
    expected_version: int | None,
) -> StoredTemplate | None:
    """Create or change the template; None when `expected_version` is no
    longer the version in force."""
    row = await conn.fetchrow(UPSERT, *key, subject, body, updated_by, expected_version)
    return _stored(row)


async def delete(conn: asyncpg.Connection, key: TemplateKey) -> None:
    await conn.execute(DELETE, *key)
