"""Sends queued messages on their channel, with retries, and records every try.

A message is claimed (status `sending`, a lease, the attempt counted) in a
committed transaction before the provider is called, so a second dispatcher
never sends it at the same time. Its outcome is recorded in a second
transaction with the attempt row and the `notification.delivered` /
`notification.dead` event. A dispatcher that dies between the two leaves a
`sending` row whose lease runs out: the next claim records that try as
`interrupted` and sends again, under the same message id, which providers
use to drop the repeat (SMS gateway `reference` / `Idempotency-Key`, e-mail
`Message-ID`). A dispatcher that outlived its lease cannot record its
outcome (or emit its event) over the newer attempt's: the lease queue
(`delivery.lease_queue`, `delivery.message_queue`) writes an outcome only
for the current claim.

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
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from opentelemetry import metrics, trace

from mpp_notify.channels.base import Channel, DeliveryError, OutgoingMessage, SendResult
from mpp_notify.delivery.message_queue import (
    MESSAGES,
    OUTCOMES,
    record_delivered,
    record_failed,
)
from mpp_notify.delivery.policy import ProviderLimits
from mpp_notify.settings import NotifySettings
from mpp_notify.store import conversations
from mpp_notify.store.secret_bodies import body_to_send
from mpp_notify.usecases.signin_codes import fill_code
from mpp_shared import clock
from mpp_shared.db import DATABASE_UNAVAILABLE
from mpp_shared.pii import FieldCipher
from mpp_shared.runtime import Runtime

_messages_counter = metrics.get_meter("mpp.notify.delivery").create_counter(
    "mpp.notify.messages",
    unit="{message}",
    description="Delivery attempts per channel by what they left the message as",
)
log = logging.getLogger(__name__)
tracer = trace.get_tracer("mpp.notify.delivery")

_PHONE_LIKE = re.compile(r"\+?\d[\d\s().-]{6,}\d")
_EMAIL_LIKE = re.compile(r"[^\s@<>\"']+@[^\s@<>\"']+")


# WhatsApp's customer-service window: free text within it, templates outside.
WHATSAPP_WINDOW = timedelta(hours=24)


def _now() -> datetime:
    return clock.now()


def scrub(detail: str, address: str) -> str:
    """A provider's error text without the recipient's number or address (some
    gateways repeat them), cut to a length fit for the log and the dead event."""
    text = detail.replace(address, "***")
    text = _EMAIL_LIKE.sub("***@***", _PHONE_LIKE.sub("***", text))
    return text[:500]


class MessageDispatcher:
    """Sends due messages; any number may run side by side."""

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
        # The providers' rates, for all notify replicas together.
        self.limits = ProviderLimits(
            {
                "sms": settings.sms_rate_per_second,
                "whatsapp": settings.whatsapp_rate_per_second,
                "email": settings.email_rate_per_second,
            }
        )
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, runtime: Runtime) -> None:
        """Send what is due, then sleep until the next message comes due, a new
        one is queued, or the poll interval passes; survives database outages."""
        # Every channel and outcome from zero: the first dead message is an
        # increase an alert sees, not the birth of a series.
        for name, channel in self.channels.items():
            for outcome in OUTCOMES:
                _messages_counter.add(
                    0, {"channel": name, "outcome": outcome, "provider": channel.provider}
                )
        while True:
            try:
                sent = await self.dispatch_once(runtime.pool)
                if sent >= self.settings.delivery_batch_size:
                    continue
                pause = self.settings.delivery_poll_interval
                next_due = await MESSAGES.seconds_to_next_due(runtime.pool, self.clock())
                if next_due is not None:
                    pause = min(pause, max(0.0, next_due))
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
        claimed = await MESSAGES.claim(
            pool,
            now=self.clock(),
            limit=self.settings.delivery_batch_size,
            lease_seconds=self.settings.delivery_lease_seconds,
        )
        if claimed:
            await asyncio.gather(*(self._deliver(pool, row) for row in claimed))
        return len(claimed)

    async def _deliver(self, pool: asyncpg.Pool, row: asyncpg.Record) -> None:
        channel = self.channels[row["channel"]]
        body = body_to_send(self.cipher, row["body"], row["secret_body_enc"])
        template = await self._template_if_window_closed(pool, channel, row)
        message = OutgoingMessage(
            id=row["id"],
            channel=row["channel"],
            address=self.cipher.decrypt(row["recipient_enc"], context="recipient-address"),
            language=row["language"],
            subject=row["subject"],
            body=body,
            template=fill_code(template, body) if template is not None else None,
        )
        if channel.provider != "log":
            try:
                # A slot within a quarter of the lease, so the send starts long
                # before another dispatcher may claim the message again.
                await self.limits.acquire(
                    pool, row["channel"], within=self.settings.delivery_lease_seconds / 4
                )
            except DATABASE_UNAVAILABLE as exc:
                # Not sent: the lease runs out and the message is tried again.
                log.warning("could not take a send slot for message %s: %s", row["id"], exc)
                return
        started = self.clock()
        answer = await self._send(channel, message, row)
        finished = self.clock()
        try:
            # Each outcome is one statement (or its own transaction), atomic alone.
            async with pool.acquire() as conn:
                if isinstance(answer, SendResult):
                    outcome = await record_delivered(
                        conn, row, answer, started, finished, awaits_report=self._reports(channel)
                    )
                else:
                    outcome = await record_failed(
                        conn, row, answer, started, finished, self.settings
                    )
        except DATABASE_UNAVAILABLE as exc:
            # The lease runs out and the message is tried again (same id).
            log.warning("could not record the outcome of message %s: %s", row["id"], exc)
            return
        if outcome is not None:
            _messages_counter.add(
                1, {"channel": row["channel"], "outcome": outcome, "provider": channel.provider}
            )

    def _reports(self, channel: Channel) -> bool:
        """Whether the provider reports delivery later (then accepted is `sent`)."""
        return channel.provider == "whatsapp_cloud" or (
            channel.provider == "sms_gateway" and self.settings.sms_delivery_reports
        )

    async def _template_if_window_closed(
        self, pool: asyncpg.Pool, channel: Channel, row: asyncpg.Record
    ) -> dict[str, Any] | None:
        """The message's approved template when WhatsApp's 24-hour window with
        its recipient is closed (their last message is older, or there is none);
        None: send the text (inside the window, or no template applies)."""
        if channel.provider != "whatsapp_cloud" or row["template"] is None:
            return None
        # The conversation may sit under another index key than the log row
        # while keys rotate: look under every configured one.
        address = self.cipher.decrypt(row["recipient_enc"], context="recipient-address")
        last = await conversations.last_inbound(
            pool,
            [
                row["recipient_index"],
                *self.cipher.blind_indexes(f"whatsapp:{address}", context="recipient"),
            ],
        )
        if last is not None and self.clock() - last < WHATSAPP_WINDOW:
            return None
        template: dict[str, Any] = row["template"]
        return template

    async def _send(
        self, channel: Channel, message: OutgoingMessage, row: asyncpg.Record
    ) -> SendResult | DeliveryError:
        """One call to the provider under a CLIENT span; never raises."""
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
            try:
                return await channel.send(message)
            except DeliveryError as exc:
                failure = exc
            except Exception as exc:  # a bug in a client must not stop the dispatcher
                log.exception("channel %s failed unexpectedly", row["channel"])
                failure = DeliveryError(f"{type(exc).__name__}: {exc}", transient=True)
            failure.detail = scrub(failure.detail, message.address)
            span.set_status(trace.StatusCode.ERROR, failure.detail)
            if failure.status_code is not None:
                span.set_attribute("mpp.provider.status_code", failure.status_code)
            return failure
