"""The delivery log as a lease queue (`delivery.lease_queue`), and how a
message's attempt is written.

Every attempt is logged. The message's state moves (``delivered``,
``retrying`` after the backoff, ``dead`` when refused or out of attempts)
only while the claim the attempt answers is current, and the
``notification.delivered`` / ``notification.dead`` event goes out with that
change, in the same statement, or not at all: a dispatcher that outlived
its lease leaves the outcome, and its event, to the newer attempt.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Literal

import asyncpg

from mpp_notify.channels.base import DeliveryError, SendResult
from mpp_notify.delivery import reports
from mpp_notify.delivery.lease_queue import Attempt, GuardedUpdate, LeaseQueue
from mpp_notify.delivery.notification_events import announcement, event_about
from mpp_notify.delivery.policy import retry_delay
from mpp_notify.settings import NotifySettings
from mpp_shared.events.schemas import NotificationDeadV1, NotificationDeliveredV1
from mpp_shared.sql_rows import Row

# What an attempt left the message as (the metric mpp.notify.messages counts them).
# "sent": accepted by a provider that reports delivery later (delivery.reports).
Outcome = Literal["delivered", "sent", "retrying", "dead"]
OUTCOMES: tuple[Outcome, ...] = ("delivered", "sent", "retrying", "dead")

log = logging.getLogger(__name__)

MESSAGES = LeaseQueue(
    table="delivery_log",
    kind="message",
    waiting=("queued", "held", "retrying"),
    columns=(
        "id",
        "channel",
        "provider",
        "recipient_enc",
        "recipient_masked",
        "language",
        "subject",
        "body",
        "secret_body_enc",  # the real text when `body` is redacted (a sign-in code)
        "attempts",
        "source_event_id",
        "source_event_type",
        "application_id",
        "complaint_id",
        "tracking_code",
        "recipient_index",
        "template",
    ),
    interrupted_error="the dispatcher stopped during this attempt",
)

# $3 on: the values each outcome sets; the queue adds the guard and ends the lease.
_DELIVERED = MESSAGES.outcome(
    "status = 'delivered', delivered_at = $3, provider = $4, provider_message_id = $5, "
    "last_error = NULL, updated_at = $3"
)
_SENT = MESSAGES.outcome(
    "status = 'sent', sent_at = $3, provider = $4, provider_message_id = $5, "
    "last_error = NULL, updated_at = $3"
)
_RETRYING = MESSAGES.outcome(
    "status = 'retrying', next_attempt_at = $3, last_error = $4, updated_at = $5"
)
_DEAD = MESSAGES.outcome("status = 'dead', dead_at = $3, last_error = $4, updated_at = $3")


async def record_delivered(
    conn: asyncpg.Connection,
    row: asyncpg.Record,
    result: SendResult,
    started: datetime,
    finished: datetime,
    *,
    awaits_report: bool = False,
) -> Outcome | None:
    """Log the attempt; mark the message delivered and say so, if still current.
    Returns the outcome written, None when a newer attempt owns the message.
    `awaits_report`: the provider reports delivery later, so the message is
    only `sent` (accepted) until its report comes (delivery.reports)."""
    attempt = Attempt(
        started_at=started,
        finished_at=finished,
        outcome="delivered",
        status_code=result.status_code,
        provider_message_id=result.provider_message_id,
    )
    if awaits_report and result.provider_message_id:
        async with conn.transaction():
            sent = (finished, result.provider, result.provider_message_id)
            if not await _record(conn, row, attempt, _SENT, sent):
                _stale(row)
                return None
            await reports.apply_waiting(conn, result.provider, result.provider_message_id)
        return "sent"
    event = NotificationDeliveredV1(
        **event_about(row),
        provider=result.provider,
        provider_message_id=result.provider_message_id,
        attempts=row["attempts"],
        delivered_at=finished,
    )
    delivered = (finished, result.provider, result.provider_message_id)
    if not await _record(conn, row, attempt, _DELIVERED, delivered, announcement(row, event)):
        _stale(row)
        return None
    return "delivered"


async def record_failed(
    conn: asyncpg.Connection,
    row: asyncpg.Record,
    failure: DeliveryError,
    started: datetime,
    finished: datetime,
    settings: NotifySettings,
) -> Outcome | None:
    """Log the attempt; if still current, retry a transient failure after the
    backoff while attempts remain, else mark the message dead and say so.
    Returns the outcome written, None when a newer attempt owns the message."""
    attempt = Attempt(
        started_at=started,
        finished_at=finished,
        outcome="transient" if failure.transient else "permanent",
        status_code=failure.status_code,
        error=failure.detail,
    )
    s = settings
    if failure.transient and row["attempts"] < s.delivery_max_attempts:
        wait = retry_delay(
            row["attempts"], s.delivery_backoff_base, s.delivery_backoff_max, failure.retry_after
        )
        retry_at = finished + timedelta(seconds=wait)
        if not await _record(conn, row, attempt, _RETRYING, (retry_at, failure.detail, finished)):
            _stale(row)
            return None
        return "retrying"
    event = NotificationDeadV1(
        **event_about(row),
        provider=row["provider"],
        attempts=row["attempts"],
        error=failure.detail,
        dead_at=finished,
    )
    dead = (finished, failure.detail)
    if not await _record(conn, row, attempt, _DEAD, dead, announcement(row, event)):
        _stale(row)
        return None
    return "dead"


async def _record(
    conn: asyncpg.Connection,
    row: asyncpg.Record,
    attempt: Attempt,
    update: GuardedUpdate,
    values: tuple[object, ...],
    *along: Row,
) -> bool:
    """The attempt and, while the claim is current, its outcome with the rows
    `along` (its event), in one statement; False when stale."""
    return await MESSAGES.record_outcome(
        conn, row["id"], row["attempts"], attempt, update=update, values=values, along=along
    )


def _stale(row: asyncpg.Record) -> None:
    log.info(
        "message %s: attempt %d ended after its lease; the newer attempt's outcome stands",
        row["id"],
        row["attempts"],
    )
