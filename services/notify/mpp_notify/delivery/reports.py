"""What a provider's status report does to a message.

A provider that reports delivery (the WhatsApp Cloud API always; the SMS
gateway when SMS_DELIVERY_REPORTS is on) leaves an accepted message `sent`:
accepted by the API, not yet on the handset. Its report then moves it:

- `delivered` (or `read` first): `delivered`, with `delivered_at`, and the
  `mpp.notification.delivered.v1` event, once;
- `read`: `read_at` noted beside delivered;
- `failed`: `dead` with the provider's error and `mpp.notification.dead.v1`
  (a supervisor may resend it, as any dead message);
- `sent`: nothing more than the acceptance said.

Reports are kept (`provider_status_reports`); one that arrives before the
dispatcher recorded the acceptance (the provider may call back first) waits
and is applied when the acceptance is recorded (`apply_waiting`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
from opentelemetry import metrics

from mpp_notify.delivery.notification_events import event_about, publish_about
from mpp_notify.store import status_reports
from mpp_shared.events.schemas import NotificationDeadV1, NotificationDeliveredV1

_messages_counter = metrics.get_meter("mpp.notify.delivery").create_counter(
    "mpp.notify.messages",
    unit="{message}",
    description="Delivery attempts per channel by what they left the message as",
)

DELIVERED = """
UPDATE delivery_log SET status = 'delivered', delivered_at = $2,
    read_at = CASE WHEN $3 THEN $2 ELSE read_at END, updated_at = now()
WHERE id = $1
"""
READ = "UPDATE delivery_log SET read_at = $2, updated_at = now() WHERE id = $1 AND read_at IS NULL"
DEAD = """
UPDATE delivery_log SET status = 'dead', dead_at = $2, last_error = $3, updated_at = now()
WHERE id = $1
"""


async def report(
    conn: asyncpg.Connection,
    *,
    provider: str,
    provider_message_id: str,
    status: str,
    at: datetime,
    error: str | None,
) -> str | None:
    """Keep a report and apply it to its message if that is known; returns
    the message's new status when it changed."""
    await status_reports.lock_id(conn, provider, provider_message_id)
    report_id = await status_reports.insert(
        conn,
        provider=provider,
        provider_message_id=provider_message_id,
        status=status,
        reported_at=at,
        error=error,
    )
    row = await status_reports.lock_message(conn, provider, provider_message_id)
    if row is None or row["status"] not in ("sent", "delivered"):
        return None  # not recorded yet (applied later), or being resent
    changed = await _apply(conn, row, status, at, error)
    await status_reports.mark_applied(conn, [report_id])
    return changed


async def apply_waiting(conn: asyncpg.Connection, provider: str, provider_message_id: str) -> None:
    """Apply the reports that came before the acceptance was recorded."""
    await status_reports.lock_id(conn, provider, provider_message_id)
    waiting = await status_reports.waiting(conn, provider, provider_message_id)
    if not waiting:
        return
    for found in waiting:
        row = await status_reports.lock_message(conn, provider, provider_message_id)
        if row is None or row["status"] not in ("sent", "delivered"):
            break
        await _apply(conn, row, found["status"], found["reported_at"], found["error"])
    await status_reports.mark_applied(conn, [found["id"] for found in waiting])


async def _apply(
    conn: asyncpg.Connection, row: asyncpg.Record, status: str, at: datetime, error: str | None
) -> str | None:
    if status in ("delivered", "read") and row["status"] == "sent":
        await conn.execute(DELIVERED, row["id"], at, status == "read")
        event: Any = NotificationDeliveredV1(
            **event_about(row),
            provider=row["provider"],
            provider_message_id=row["provider_message_id"],
            attempts=row["attempts"],
            delivered_at=at,
        )
        await publish_about(conn, row, event)
        _messages_counter.add(
            1, {"channel": row["channel"], "outcome": "delivered", "provider": row["provider"]}
        )
        return "delivered"
    if status == "read":
        await conn.execute(READ, row["id"], at)
        return None
    if status == "failed" and row["status"] == "sent":
        detail = error or "the provider reported the message as failed"
        await conn.execute(DEAD, row["id"], at, detail)
        event = NotificationDeadV1(
            **event_about(row),
            provider=row["provider"],
            attempts=row["attempts"],
            error=detail,
            dead_at=at,
        )
        await publish_about(conn, row, event)
        _messages_counter.add(
            1, {"channel": row["channel"], "outcome": "dead", "provider": row["provider"]}
        )
        return "dead"
    return None
