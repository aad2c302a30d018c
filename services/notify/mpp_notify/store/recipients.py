"""Who to tell about an application or a complaint (`recipients`: the
contact, encrypted at rest, or none when its first event named none), and
the journaled events that arrived before that first event and wait for it
(`event_journal.awaits_contact`, marked with the subject, e.g.
"application:<id>")."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

# Held until the transaction ends, per subject.
LOCK_SUBJECT = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"
# The first contact named stays; a subject first known without one may get one
# later. In the same round trip, the events that waited for it ($4, the
# subject) are no longer waiting.
KEEP_CONTACT = """
WITH kept AS (
    INSERT INTO recipients (subject_type, subject_id, contact_enc) VALUES ($1, $2, $3)
    ON CONFLICT (subject_type, subject_id) DO UPDATE SET contact_enc =
    excluded.contact_enc WHERE recipients.contact_enc IS NULL
)
UPDATE event_journal SET awaits_contact = NULL WHERE awaits_contact = $4
RETURNING envelope
"""
CONTACT_OF = "SELECT contact_enc FROM recipients WHERE subject_type = $1 AND subject_id = $2"
AWAIT_CONTACT = "UPDATE event_journal SET awaits_contact = $2 WHERE event_id = $1"


@dataclass(frozen=True)
class KnownSubject:
    """A subject whose first event came: its contact, encrypted, or None
    when it named none (anonymous, or no phone or e-mail given)."""

    contact_enc: bytes | None


async def lock_subject(conn: asyncpg.Connection, subject: str) -> None:
    """Until the transaction ends, no other transaction handles events of
    `subject`: a contact arriving and an event waiting for it never miss
    each other, even in two notify processes at once."""
    await conn.execute(LOCK_SUBJECT, subject)


async def keep_contact(
    conn: asyncpg.Connection,
    subject_type: str,
    subject_id: uuid.UUID,
    contact_enc: bytes | None,
) -> list[dict[str, Any]]:
    """Keep the subject's contact (or that it has none), under
    `lock_subject`; the envelopes of the events that waited for it, no longer
    waiting (in no particular order)."""
    subject = f"{subject_type}:{subject_id}"
    rows = await conn.fetch(KEEP_CONTACT, subject_type, subject_id, contact_enc, subject)
    return [row["envelope"] for row in rows]


async def known_subject(
    conn: asyncpg.Connection, subject_type: str, subject_id: uuid.UUID
) -> KnownSubject | None:
    """None while the subject's first event has not come."""
    row = await conn.fetchrow(CONTACT_OF, subject_type, subject_id)
    return None if row is None else KnownSubject(row["contact_enc"])


async def await_contact(conn: asyncpg.Connection, event_id: uuid.UUID, subject: str) -> None:
    """Mark the journaled event to be told once `subject`'s contact comes."""
    await conn.execute(AWAIT_CONTACT, event_id, subject)
