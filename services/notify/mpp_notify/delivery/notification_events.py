"""The `mpp.notifications` events of a message in the delivery log: what each
says of its message (recipient masked) and their publication through the
outbox, keyed by the application or complaint the message was about."""

from __future__ import annotations

from typing import Any

import asyncpg

from mpp_shared.events import build_event
from mpp_shared.messaging import outbox
from mpp_shared.sql_rows import Row

SOURCE = "/mpp/notify"


def event_about(row: asyncpg.Record) -> dict[str, Any]:
    """What every notification event says of its message (recipient masked)."""
    return {
        "notification_id": row["id"],
        "source_event_id": row["source_event_id"],
        "source_event_type": row["source_event_type"],
        "channel": row["channel"],
        "recipient_masked": row["recipient_masked"],
        "application_id": row["application_id"],
        "complaint_id": row["complaint_id"],
    }


async def publish_about(conn: asyncpg.Connection, row: asyncpg.Record, data: Any) -> None:
    """The event about the message, into the outbox in the caller's transaction."""
    await announcement(row, data).insert(conn)


def announcement(row: asyncpg.Record, data: Any) -> Row:
    """The outbox row of the event about the message, keyed by the
    application or complaint it was about."""
    key = row["application_id"] or row["complaint_id"] or row["id"]
    return outbox.row(
        build_event(data, source=SOURCE, subject=str(row["id"])),
        topic=data.topic,
        key=str(key),
    )
