"""Sends queued messages on their channel, with retries, and records every try.

A message is claimed (status `sending`, a lease, the attempt counted) in a
committed transaction before the provider is called, so a second dispatcher
never sends it at the same time. Its outcome is recorded in a second
transaction with the attempt row and the `notification.delivered` /
`notification.dead` event. A dispatcher that dies between the two leaves a
`sending` row whose lease runs out: the next claim records that try as
`interrupted` and sends again, under the same message id, which providers
use to drop the repeat (SMS gateway `reference` / `Idempotency-Key`, e-mail
`Message-ID`).

Transient failures (provider down, 5xx, 429, SMTP 4xx) are retried after an
exponential, jittered wait (or the provider's Retry-After, if longer) until
DELIVERY_MAX_ATTEMPTS; permanent refusals (4xx, unknown mailbox) are dead at
once. Dead messages stay in the log, visible and resendable by a supervisor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from opentelemetry import trace

from mpp_notify.channels.base import Channel, DeliveryError, OutgoingMessage, SendResult
from mpp_notify.delivery.policy import RateLimiter, backoff
from mpp_notify.settings import NotifySettings
from mpp_shared.db import DATABASE_UNAVAILABLE
from mpp_shared.events import build_event
from mpp_shared.events.schemas import NotificationDeadV1, NotificationDeliveredV1
from mpp_shared.messaging.outbox import enqueue
from mpp_shared.pii import FieldCipher
from mpp_shared.service import Runtime

log = logging.getLogger(__name__)
tracer = trace.get_tracer("mpp.notify.delivery")
SOURCE = "/mpp/notify"

_CLAIM = """
WITH due AS (
    SELECT id, status AS was FROM delivery_log
    WHERE (status IN ('queued', 'held', 'retrying') AND next_attempt_at <= $1)
       OR (status = 'sending' AND lease_until <= $1)
    ORDER BY next_attempt_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE delivery_log d
SET status = 'sending', lease_until = $1 + make_interval(secs => $3),
    attempts = d.attempts + 1, updated_at = $1
FROM due WHERE d.id = due.id
RETURNING d.id, d.channel, d.provider, d.recipient_enc, d.recipient_masked, d.language,
          d.subject, d.body, d.attempts, d.source_event_id, d.source_event_type,
          d.application_id, d.complaint_id, d.tracking_code, due.was
"""

_NEXT_DUE = """
SELECT min(CASE WHEN status = 'sending' THEN lease_until ELSE next_attempt_at END)
FROM delivery_log WHERE status IN ('queued', 'held', 'retrying', 'sending')
"""

_INTERRUPTED = """
INSERT INTO delivery_attempts (delivery_kind, delivery_id, attempt, started_at, finished_at,
                               outcome, error)
VALUES ('message', $1, $2, $3, $3, 'interrupted', 'the dispatcher stopped during this attempt')
"""

_ATTEMPT = """
INSERT INTO delivery_attempts (delivery_kind, delivery_id, attempt, started_at, finished_at,
                               outcome, status_code, provider_message_id, error)
VALUES ('message', $1, $2, $3, $4, $5, $6, $7, $8)
"""


_PHONE_LIKE = re.compile(r"\+?\d[\d\s().-]{6,}\d")
_EMAIL_LIKE = re.compile(r"[^\s@<>\"']+@[^\s@<>\"']+")


def _now() -> datetime:
    return datetime.now(UTC)


def scrub(detail: str, address: str) -> str:
    """A provider's error text without the recipient's number or address (some
    gateways repeat them), cut to a length fit for the log and the dead event."""
    text = detail.replace(address, "***")
    text = _EMAIL_LIKE.sub("***@***", _PHONE_LIKE.sub("***", text))
    return text[:500]


def _about(row: asyncpg.Record) -> dict[str, Any]:
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


class MessageDispatcher:
    def __init__(
        self,
        settings: NotifySettings,
        cipher: FieldCipher,
        channels: dict[str, Channel],
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.settings = settings
        self.cipher = cipher
        self.channels = channels
        self.clock = clock
        self.limits = {
            "sms": RateLimiter(settings.sms_rate_per_second),
            "whatsapp": RateLimiter(settings.whatsapp_rate_per_second),
            "email": RateLimiter(settings.email_rate_per_second),
        }
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, runtime: Runtime) -> None:
        """Send what is due, then sleep until the next message comes due, a new
        one is queued, or the poll interval passes; survives database outages."""
        while True:
            try:
                sent = await self.dispatch_once(runtime.pool)
                if sent >= self.settings.delivery_batch_size:
                    continue
                pause = self.settings.delivery_poll_interval
                next_due = await runtime.pool.fetchval(_NEXT_DUE)
                if next_due is not None:
                    pause = min(pause, max(0.0, (next_due - self.clock()).total_seconds()))
            except DATABASE_UNAVAILABLE as exc:
                log.warning("message dispatcher waiting for the database: %s", exc)
                pause = 1.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), pause)
            if self._wake.is_set():
                self._wake.clear()
                await asyncio.sleep(0.05)  # let the queuing transaction commit

    async def dispatch_once(self, pool: asyncpg.Pool) -> int:
        """Claim the due messages and send them; returns how many were claimed."""
        now = self.clock()
        async with pool.acquire() as conn, conn.transaction():
            claimed = await conn.fetch(
                _CLAIM, now, self.settings.delivery_batch_size, self.settings.delivery_lease_seconds
            )
            for row in claimed:
                if row["was"] == "sending":
                    await conn.execute(_INTERRUPTED, row["id"], row["attempts"] - 1, now)
        if claimed:
            await asyncio.gather(*(self._deliver(pool, row) for row in claimed))
        return len(claimed)

    async def _deliver(self, pool: asyncpg.Pool, row: asyncpg.Record) -> None:
        channel = self.channels[row["channel"]]
        message = OutgoingMessage(
            id=row["id"],
            channel=row["channel"],
            address=self.cipher.decrypt(row["recipient_enc"], context="recipient-address"),
            language=row["language"],
            subject=row["subject"],
            body=row["body"],
        )
        limiter = self.limits.get(row["channel"])
        if limiter is not None and channel.provider != "log":
            await limiter.acquire()
        started = self.clock()
        with tracer.start_as_current_span(
            f"send {row['channel']}",
            kind=trace.SpanKind.CLIENT,
            attributes={
                "mpp.notification.id": str(row["id"]),
                "mpp.notification.channel": row["channel"],
                "mpp.notification.provider": channel.provider,
                "mpp.notification.attempt": row["attempts"],
                "mpp.event.type": row["source_event_type"],
            },
        ) as span:
            result: SendResult | None = None
            failure: DeliveryError | None = None
            try:
                result = await channel.send(message)
            except DeliveryError as exc:
                failure = exc
            except Exception as exc:  # a bug in a client must not stop the dispatcher
                log.exception("channel %s failed unexpectedly", row["channel"])
                failure = DeliveryError(f"{type(exc).__name__}: {exc}", transient=True)
            if failure is not None:
                failure.detail = scrub(failure.detail, message.address)
                span.set_status(trace.StatusCode.ERROR, failure.detail)
                if failure.status_code is not None:
                    span.set_attribute("mpp.provider.status_code", failure.status_code)
        finished = self.clock()
        try:
            async with pool.acquire() as conn, conn.transaction():
                if result is not None:
                    await self._delivered(conn, row, result, started, finished)
                else:
                    assert failure is not None
                    await self._failed(conn, row, failure, started, finished)
        except DATABASE_UNAVAILABLE as exc:
            # The lease runs out and the message is tried again (same id).
            log.warning("could not record the outcome of message %s: %s", row["id"], exc)

    async def _delivered(
        self,
        conn: asyncpg.Connection,
        row: asyncpg.Record,
        result: SendResult,
        started: datetime,
        finished: datetime,
    ) -> None:
        await conn.execute(
            _ATTEMPT,
            row["id"],
            row["attempts"],
            started,
            finished,
            "delivered",
            result.status_code,
            result.provider_message_id,
            None,
        )
        await conn.execute(
            "UPDATE delivery_log SET status = 'delivered', delivered_at = $2, provider = $3, "
            "provider_message_id = $4, lease_until = NULL, last_error = NULL, updated_at = $2 "
            "WHERE id = $1",
            row["id"],
            finished,
            result.provider,
            result.provider_message_id,
        )
        event = NotificationDeliveredV1(
            **_about(row),
            provider=result.provider,
            provider_message_id=result.provider_message_id,
            attempts=row["attempts"],
            delivered_at=finished,
        )
        await self._publish(conn, row, event)

    async def _failed(
        self,
        conn: asyncpg.Connection,
        row: asyncpg.Record,
        failure: DeliveryError,
        started: datetime,
        finished: datetime,
    ) -> None:
        await conn.execute(
            _ATTEMPT,
            row["id"],
            row["attempts"],
            started,
            finished,
            "transient" if failure.transient else "permanent",
            failure.status_code,
            None,
            failure.detail,
        )
        s = self.settings
        if failure.transient and row["attempts"] < s.delivery_max_attempts:
            wait = backoff(row["attempts"], s.delivery_backoff_base, s.delivery_backoff_max)
            wait = max(wait, min(failure.retry_after or 0.0, s.delivery_backoff_max))
            await conn.execute(
                "UPDATE delivery_log SET status = 'retrying', next_attempt_at = $2, "
                "lease_until = NULL, last_error = $3, updated_at = $4 WHERE id = $1",
                row["id"],
                finished + timedelta(seconds=wait),
                failure.detail,
                finished,
            )
            return
        await conn.execute(
            "UPDATE delivery_log SET status = 'dead', dead_at = $2, lease_until = NULL, "
            "last_error = $3, updated_at = $2 WHERE id = $1",
            row["id"],
            finished,
            failure.detail,
        )
        event = NotificationDeadV1(
            **_about(row),
            provider=row["provider"],
            attempts=row["attempts"],
            error=failure.detail,
            dead_at=finished,
        )
        await self._publish(conn, row, event)

    async def _publish(self, conn: asyncpg.Connection, row: asyncpg.Record, data: Any) -> None:
        key = row["application_id"] or row["complaint_id"] or row["id"]
        await enqueue(
            conn,
            build_event(data, source=SOURCE, subject=str(row["id"])),
            topic=data.topic,
            key=str(key),
        )
