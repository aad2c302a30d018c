"""Sends queued OPD webhook deliveries: signed POSTs, retried with backoff,
the subscription disabled after repeated failures.

One pass (``tick``):

1. claim due deliveries of active subscriptions, oldest first, with
   ``FOR UPDATE SKIP LOCKED`` (so any number of notify processes share the
   work): ``pending`` / ``retrying`` whose ``next_attempt_at`` has come, and
   ``sending`` whose lease ran out (the dispatcher sending it died; that
   attempt is recorded as ``interrupted``). They become ``sending`` with a
   lease, and the claim commits (``webhooks.queue``, on the one lease queue
   of ``delivery.lease_queue``);
2. POST each, outside any transaction (timeout ``webhook_timeout``, redirects
   not followed), under a CLIENT span (``webhooks.sender``), every
   connection to an address the guard checked (``webhooks.addresses``);
3. record each attempt (``delivery_attempts``, kind ``webhook``): 2xx ->
   ``delivered`` and the subscription's ``consecutive_failures`` back to 0;
   anything else -> ``retrying`` after ``backoff(attempt)`` (at least the
   receiver's ``Retry-After`` on 429 / 503), ``dead`` after
   ``webhook_max_attempts``; every failure counts towards
   ``webhook_disable_after`` consecutive failures, which disable the
   subscription, as ``410 Gone`` does at once. A disabled subscription's
   deliveries wait until its client enables it again. The delivery's state
   changes only while this attempt's claim is current: a dispatcher whose
   lease ran out and whose delivery was claimed again never writes over the
   newer attempt's outcome.

Delivery is at least once: a dispatcher that dies after the receiver got the
POST but before recording it sends again after the lease; receivers dedupe by
``X-MPP-Event-Id``. Between passes it sleeps until the next delivery comes due
(at most ``webhook_poll_interval``) or ``wake()``; a database outage is logged
and retried, never fatal. Once an hour it forgets journaled events older than
``event_retention_days`` (``fanout.purge_expired_events``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import asyncpg
import httpx

from mpp_notify.domain.subscriptions import secret_context
from mpp_notify.settings import NotifySettings
from mpp_notify.webhooks import fanout, queue, sender
from mpp_notify.webhooks.addresses import AddressGuard, Resolver
from mpp_notify.webhooks.queue import WEBHOOKS
from mpp_notify.webhooks.sender import Claimed, Outcome
from mpp_shared.db import DATABASE_UNAVAILABLE
from mpp_shared.pii import FieldCipher
from mpp_shared.runtime import Runtime

log = logging.getLogger(__name__)

PURGE_INTERVAL = 3600.0  # seconds between journal clean-ups
# After wake(): the fan-out that called it commits with the consumer's inbox
# transaction just after; give it that moment instead of finding nothing.
WAKE_LINGER = 0.02


class WebhookDispatcher:
    """Sends due webhook deliveries; any number may run side by side."""

    def __init__(
        self, settings: NotifySettings, cipher: FieldCipher, resolver: Resolver | None = None
    ) -> None:
        self.settings = settings
        self.cipher = cipher
        # Every connection checked (production), or none; `resolver` for tests.
        self.guard = AddressGuard.of(
            check=settings.webhooks_check_addresses(),
            allowed=settings.webhook_allowed_networks,
            resolver=resolver,
        )
        self.batch_size = settings.delivery_batch_size
        # Longer than any POST can take, so a live dispatcher never loses its claim.
        self.lease_seconds = max(settings.delivery_lease_seconds, 3 * settings.webhook_timeout)
        self.attempts_total = 0
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._next_purge = 0.0

    def wake(self) -> None:
        """Something was queued: look now instead of at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    async def run(self, runtime: Runtime) -> None:
        """The background task (`create_service_app(background=[dispatcher.run])`)."""
        sender.count_attempts_from_zero()
        await self.serve(runtime.pool)

    def client(self) -> httpx.AsyncClient:
        return sender.client(self.settings.webhook_timeout, self.guard)

    async def serve(self, pool: asyncpg.Pool) -> None:
        """Pass after pass until stopped or cancelled."""
        failures = 0
        async with self.client() as client:
            while not self._stop.is_set():
                self._wake.clear()
                await self._purge_when_due(pool)
                try:
                    await self.tick(pool, client)
                    wait = self._until(await WEBHOOKS.seconds_to_next_due(pool))
                    failures = 0
                except Exception as exc:
                    failures += 1
                    wait = min(0.25 * 2**failures, self.settings.webhook_poll_interval * 5)
                    if isinstance(exc, DATABASE_UNAVAILABLE):
                        log.warning("webhook dispatcher: database unavailable (%s), retrying", exc)
                    else:
                        log.exception("webhook dispatcher: pass failed, retrying")
                woken = False
                with contextlib.suppress(TimeoutError):
                    woken = await asyncio.wait_for(self._wake.wait(), wait)
                if woken and not self._stop.is_set():
                    await asyncio.sleep(WAKE_LINGER)

    def _until(self, seconds: float | None) -> float:
        interval = self.settings.webhook_poll_interval
        if seconds is None:
            return interval
        # Due but not claimed: held by another dispatcher; look again soon.
        return min(max(seconds, 0.05), interval)

    async def _purge_when_due(self, pool: asyncpg.Pool) -> None:
        if time.monotonic() < self._next_purge:
            return
        try:
            removed = await fanout.purge_expired_events(pool, self.settings.event_retention_days)
            if removed:
                log.info("webhook journal: %d events past retention forgotten", removed)
            self._next_purge = time.monotonic() + PURGE_INTERVAL
        except Exception as exc:
            self._next_purge = time.monotonic() + 60
            log.warning("webhook journal clean-up failed (%s), retrying in a minute", exc)

    async def tick(self, pool: asyncpg.Pool, client: httpx.AsyncClient | None = None) -> int:
        """Send everything due now; returns how many attempts were made."""
        if client is None:
            async with self.client() as own:
                return await self.tick(pool, own)
        made = 0
        while not self._stop.is_set():
            claimed = await self.claim(pool)
            if claimed:
                outcomes = await asyncio.gather(*(self.send(client, d) for d in claimed))
                await self._record_retrying(pool, sorted(outcomes, key=lambda o: o.finished_at))
                made += len(outcomes)
            if len(claimed) < self.batch_size:
                break
        return made

    async def claim(self, pool: asyncpg.Pool) -> list[Claimed]:
        return await queue.claim(pool, self.batch_size, self.lease_seconds)

    async def send(self, client: httpx.AsyncClient, delivery: Claimed) -> Outcome:
        """One signed POST; never raises."""
        return await sender.post(client, delivery, self._open_secret, self.settings.webhook_timeout)

    def _open_secret(self, delivery: Claimed) -> str:
        return self.cipher.decrypt(
            delivery.secret_enc, context=secret_context(delivery.subscription_id)
        )

    async def _record_retrying(self, pool: asyncpg.Pool, outcomes: list[Outcome]) -> None:
        """Record, riding out a short database outage: what is not recorded
        is sent again once its lease runs out."""
        for pause in (0.2, 0.5, 1.0, 2.0, 4.0, None):
            try:
                await self.record(pool, outcomes)
                return
            except DATABASE_UNAVAILABLE as exc:
                if pause is None:
                    raise
                log.warning("webhook dispatcher: cannot record attempts yet (%s)", exc)
                await asyncio.sleep(pause)

    async def record(self, pool: asyncpg.Pool, outcomes: list[Outcome]) -> None:
        """Record a batch of attempts in one transaction."""
        async with pool.acquire() as conn, conn.transaction():
            for outcome in outcomes:
                await queue.record(conn, outcome, self.settings)
        self.attempts_total += len(outcomes)
