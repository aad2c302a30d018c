"""Sends queued OPD webhook deliveries: signed POSTs, retried with backoff,
the subscription disabled after repeated failures.

One pass (``tick``):

1. claim due deliveries of active subscriptions, oldest first, with
   ``FOR UPDATE SKIP LOCKED`` (so any number of notify processes share the
   work): ``pending`` / ``retrying`` whose ``next_attempt_at`` has come, and
   ``sending`` whose lease ran out (the dispatcher sending it died; that
   attempt is recorded as ``interrupted``). They become ``sending`` with a
   lease, and the claim commits;
2. POST each, outside any transaction (timeout ``webhook_timeout``, redirects
   not followed), under a CLIENT span;
3. record each attempt (``delivery_attempts``, kind ``webhook``): 2xx ->
   ``delivered`` and the subscription's ``consecutive_failures`` back to 0;
   anything else -> ``retrying`` after ``backoff(attempt)`` (at least the
   receiver's ``Retry-After`` on 429 / 503), ``dead`` after
   ``webhook_max_attempts``; every failure counts towards
   ``webhook_disable_after`` consecutive failures, which disable the
   subscription, as ``410 Gone`` does at once. A disabled subscription's
   deliveries wait until its client enables it again.

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
import json
import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
from opentelemetry import metrics, trace
from opentelemetry.propagate import extract, inject
from opentelemetry.trace import SpanKind, Status, StatusCode

from mpp_notify.delivery.policy import backoff
from mpp_notify.settings import NotifySettings
from mpp_notify.webhooks import fanout, signing
from mpp_shared.db import DATABASE_UNAVAILABLE
from mpp_shared.pii import FieldCipher
from mpp_shared.service import Runtime

log = logging.getLogger(__name__)
tracer = trace.get_tracer("mpp.notify.webhooks")
_attempts_counter = metrics.get_meter("mpp.notify.webhooks").create_counter(
    "mpp.webhook.attempts", unit="{attempt}", description="Webhook delivery attempts by outcome"
)

PURGE_INTERVAL = 3600.0  # seconds between journal clean-ups
# After wake(): the fan-out that called it commits with the consumer's inbox
# transaction just after; give it that moment instead of finding nothing.
WAKE_LINGER = 0.02
_SNIPPET = 300  # characters of a refusing receiver's answer kept as the error


def secret_context(subscription_id: uuid.UUID) -> str:
    """Associated data of a subscription's encrypted secret (binds it to its row)."""
    return f"webhook_secret:{subscription_id}"


@dataclass(frozen=True)
class Claimed:
    """A delivery claimed for one attempt."""

    id: uuid.UUID
    subscription_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    replay: bool
    attempt: int
    url: str
    secret_enc: bytes
    envelope: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    delivery: Claimed
    started_at: datetime
    finished_at: datetime
    status_code: int | None
    error: str | None
    retry_after: float | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == 410


_CLAIM = """
WITH due AS (
    SELECT d.id, d.status AS was_status, d.attempts AS was_attempts, d.updated_at AS was_claimed_at
    FROM webhook_deliveries d
    JOIN subscriptions s ON s.id = d.subscription_id
    JOIN event_journal j ON j.event_id = d.event_id
    WHERE s.status = 'active'
      AND ((d.status IN ('pending', 'retrying') AND d.next_attempt_at <= now())
           OR (d.status = 'sending' AND d.lease_until <= now()))
    ORDER BY d.created_at, j.occurred_at, d.id
    LIMIT $1
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_deliveries d
SET status = 'sending', attempts = d.attempts + 1, updated_at = now(),
    lease_until = now() + $2::float8 * interval '1 second'
FROM due, subscriptions s, event_journal j
WHERE d.id = due.id AND s.id = d.subscription_id AND j.event_id = d.event_id
RETURNING d.id, d.subscription_id, d.event_id, d.event_type, d.replay, d.attempts, d.created_at,
          s.url, s.secret_enc, j.envelope, j.occurred_at,
          due.was_status, due.was_attempts, due.was_claimed_at
"""

_INTERRUPTED = """
INSERT INTO delivery_attempts
    (delivery_kind, delivery_id, attempt, started_at, finished_at, outcome, error)
SELECT 'webhook', id, attempt, started_at, now(), 'interrupted',
       'lease expired: the dispatcher sending it stopped before recording an answer'
FROM unnest($1::uuid[], $2::int[], $3::timestamptz[]) AS t (id, attempt, started_at)
"""

# Not for a delivery deleted meanwhile (with its subscription).
_ATTEMPT = """
INSERT INTO delivery_attempts
    (delivery_kind, delivery_id, attempt, started_at, finished_at, outcome, status_code, error)
SELECT 'webhook', $1, $2, $3, $4, $5, $6, $7
WHERE EXISTS (SELECT 1 FROM webhook_deliveries WHERE id = $1)
"""

# Only while our claim is the current one (a lease that ran out may have
# been claimed again by another dispatcher).
_DELIVERED = """
UPDATE webhook_deliveries
SET status = 'delivered', delivered_at = now(), lease_until = NULL, last_status_code = $3,
    last_error = NULL, updated_at = now()
WHERE id = $1 AND status = 'sending' AND attempts = $2
"""

_FAILED = """
UPDATE webhook_deliveries
SET status = CASE WHEN $3::boolean THEN 'dead' ELSE 'retrying' END,
    next_attempt_at = now() + $4::float8 * interval '1 second', lease_until = NULL,
    last_status_code = $5, last_error = $6, updated_at = now()
WHERE id = $1 AND status = 'sending' AND attempts = $2
"""

_SUBSCRIPTION_OK = """
UPDATE subscriptions SET consecutive_failures = 0 WHERE id = $1 AND consecutive_failures <> 0
"""

# $2: disable now (410 Gone); $3: the consecutive failures that disable.
_SUBSCRIPTION_FAILED = """
UPDATE subscriptions s
SET consecutive_failures = s.consecutive_failures + 1,
    status = CASE WHEN s.status = 'active' AND ($2::boolean OR s.consecutive_failures + 1 >= $3::int)
                  THEN 'disabled' ELSE s.status END,
    disabled_at = CASE WHEN s.status = 'active' AND ($2::boolean OR s.consecutive_failures + 1 >= $3::int)
                       THEN now() ELSE s.disabled_at END,
    disabled_reason = CASE WHEN s.status = 'active' AND ($2::boolean OR s.consecutive_failures + 1 >= $3::int)
                           THEN $4::text || ' (' || (s.consecutive_failures + 1) ||
                                ' consecutive failed deliveries; last: ' || $5::text || ')'
                           ELSE s.disabled_reason END,
    updated_at = now()
WHERE s.id = $1
RETURNING s.status, s.disabled_at = now() AS just_disabled
"""

_NEXT_DUE = """
SELECT extract(epoch FROM min(CASE WHEN d.status = 'sending' THEN d.lease_until
                                   ELSE d.next_attempt_at END) - now())::float8
FROM webhook_deliveries d
JOIN subscriptions s ON s.id = d.subscription_id
WHERE s.status = 'active' AND d.status IN ('pending', 'retrying', 'sending')
"""


class WebhookDispatcher:
    """Sends due webhook deliveries; any number may run side by side."""

    def __init__(self, settings: NotifySettings, cipher: FieldCipher) -> None:
        self.settings = settings
        self.cipher = cipher
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
        await self.serve(runtime.pool)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=self.settings.webhook_timeout,
            follow_redirects=False,
            headers={"User-Agent": signing.USER_AGENT},
        )

    async def serve(self, pool: asyncpg.Pool) -> None:
        """Pass after pass until stopped or cancelled."""
        failures = 0
        async with self.client() as client:
            while not self._stop.is_set():
                self._wake.clear()
                await self._purge_when_due(pool)
                try:
                    await self.tick(pool, client)
                    wait = self._until(await pool.fetchval(_NEXT_DUE))
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
        async with pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_CLAIM, self.batch_size, self.lease_seconds)
            interrupted = [r for r in rows if r["was_status"] == "sending"]
            if interrupted:
                await conn.execute(
                    _INTERRUPTED,
                    [r["id"] for r in interrupted],
                    [r["was_attempts"] for r in interrupted],
                    [r["was_claimed_at"] for r in interrupted],
                )
        rows = sorted(rows, key=lambda r: (r["created_at"], r["occurred_at"], r["id"]))
        return [
            Claimed(
                id=r["id"],
                subscription_id=r["subscription_id"],
                event_id=r["event_id"],
                event_type=r["event_type"],
                replay=r["replay"],
                attempt=r["attempts"],
                url=r["url"],
                secret_enc=r["secret_enc"],
                envelope=r["envelope"],
            )
            for r in rows
        ]

    async def send(self, client: httpx.AsyncClient, delivery: Claimed) -> Outcome:
        """One signed POST; never raises."""
        started_at = _now()
        status_code: int | None = None
        error: str | None = None
        retry_after: float | None = None
        with self._span(delivery) as span:
            try:
                secret = self.cipher.decrypt(
                    delivery.secret_enc, context=secret_context(delivery.subscription_id)
                )
                body = json.dumps(
                    delivery.envelope, separators=(",", ":"), ensure_ascii=False
                ).encode()
                headers = signing.headers(
                    secret=secret,
                    body=body,
                    event_id=str(delivery.event_id),
                    event_type=delivery.event_type,
                    delivery_id=str(delivery.id),
                    replay=delivery.replay,
                )
                inject(headers)
                # httpx's timeout bounds each read; this bounds the whole
                # exchange, also with a receiver that answers byte by byte.
                async with (
                    asyncio.timeout(self.settings.webhook_timeout),
                    client.stream("POST", delivery.url, content=body, headers=headers) as response,
                ):
                    status_code = response.status_code
                    if not 200 <= status_code < 300:
                        error = f"HTTP {status_code}"
                        retry_after = _retry_after(response)
                        if snippet := await _read_some(response):
                            error += f": {snippet}"
            except (httpx.TimeoutException, TimeoutError):
                if status_code is None:  # else: the status came, the rest of the answer did not
                    error = f"no answer within {self.settings.webhook_timeout:g} s"
            except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
                error = f"{type(exc).__name__}: {exc}"[:_SNIPPET]
            except Exception as exc:
                log.exception("webhook delivery %s: unexpected failure", delivery.id)
                error = f"{type(exc).__name__}: {exc}"[:_SNIPPET]
            if status_code is not None:
                span.set_attribute("http.response.status_code", status_code)
            if error is not None:
                span.set_status(Status(StatusCode.ERROR, error))
        _attempts_counter.add(1, {"outcome": _outcome_name(status_code, error)})
        return Outcome(delivery, started_at, _now(), status_code, error, retry_after)

    @contextlib.contextmanager
    def _span(self, delivery: Claimed) -> Iterator[trace.Span]:
        """A CLIENT span per attempt: a child of the consuming span for a
        first attempt, else (a retry, maybe hours later, or a replay) a root
        span linked to it."""
        stored = trace.get_current_span(
            extract(
                {k: v for k in ("traceparent", "tracestate") if (v := delivery.envelope.get(k))}
            )
        ).get_span_context()
        first = delivery.attempt == 1 and not delivery.replay and stored.is_valid
        parent = trace.set_span_in_context(
            trace.NonRecordingSpan(stored) if first else trace.INVALID_SPAN
        )
        target = urlsplit(delivery.url)
        with tracer.start_as_current_span(
            "webhook POST",
            context=parent,
            kind=SpanKind.CLIENT,
            links=[trace.Link(stored)] if stored.is_valid and not first else None,
            attributes={
                "mpp.subscription.id": str(delivery.subscription_id),
                "mpp.webhook.delivery.id": str(delivery.id),
                "mpp.webhook.attempt": delivery.attempt,
                "mpp.webhook.replay": delivery.replay,
                "cloudevents.event_id": str(delivery.event_id),
                "cloudevents.event_type": delivery.event_type,
                "http.request.method": "POST",
                "server.address": target.hostname or "",
            },
        ) as span:
            yield span

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
        s = self.settings
        async with pool.acquire() as conn, conn.transaction():
            for o in outcomes:
                d = o.delivery
                await conn.execute(
                    _ATTEMPT,
                    d.id,
                    d.attempt,
                    o.started_at,
                    o.finished_at,
                    "delivered" if o.delivered else ("permanent" if o.gone else "transient"),
                    o.status_code,
                    o.error,
                )
                if o.delivered:
                    await conn.execute(_DELIVERED, d.id, d.attempt, o.status_code)
                    await conn.execute(_SUBSCRIPTION_OK, d.subscription_id)
                    continue
                delay = backoff(d.attempt, s.webhook_backoff_base, s.webhook_backoff_max)
                if o.retry_after is not None:
                    delay = max(delay, min(o.retry_after, s.webhook_backoff_max))
                dead = d.attempt >= s.webhook_max_attempts
                await conn.execute(_FAILED, d.id, d.attempt, dead, delay, o.status_code, o.error)
                row = await conn.fetchrow(
                    _SUBSCRIPTION_FAILED,
                    d.subscription_id,
                    o.gone,
                    s.webhook_disable_after,
                    "receiver answered 410 Gone" if o.gone else "too many failed deliveries",
                    o.error or "unknown error",
                )
                if row is not None and row["just_disabled"]:
                    log.warning("webhook subscription %s disabled: %s", d.subscription_id, o.error)
                if dead:
                    log.warning(
                        "webhook delivery %s of event %s dead after %d attempts",
                        d.id,
                        d.event_id,
                        d.attempt,
                    )
        self.attempts_total += len(outcomes)


def _now() -> datetime:
    return datetime.now(UTC)


def _outcome_name(status_code: int | None, error: str | None) -> str:
    if error is None:
        return "delivered"
    return "permanent" if status_code == 410 else "transient"


async def _read_some(response: httpx.Response) -> str:
    """The start of a refusing receiver's answer, never the whole of a big one."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= _SNIPPET:
            break
    text = b"".join(chunks)[:_SNIPPET].decode(errors="replace")
    return " ".join(text.split())


def _retry_after(response: httpx.Response) -> float | None:
    if response.status_code not in (429, 503):
        return None
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None
