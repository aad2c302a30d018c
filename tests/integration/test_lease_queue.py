"""The one lease queue under both dispatchers, on a real database: a worker
whose lease ran out while it was sending, and whose row another worker
claimed again, cannot write its late outcome over the newer attempt's, for
citizen messages and for OPD webhook deliveries alike."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from mpp_notify.channels.base import (
    ChannelName,
    DeliveryError,
    OutgoingMessage,
    Provider,
    SendResult,
)
from mpp_notify.delivery.dispatcher import MessageDispatcher
from mpp_notify.domain.subscriptions import secret_context
from mpp_notify.settings import NotifySettings
from mpp_notify.webhooks.dispatcher import WebhookDispatcher
from mpp_notify.webhooks.fanout import record_and_fan_out
from mpp_shared.events import build_event
from mpp_shared.events.examples import APP_ID, example
from mpp_shared.pii import FieldCipher
from tests.support.clock import HandClock

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # 09:00 WIB, outside quiet hours
LEASE = 30.0
VERIFIED = "mpp.application.verified.v1"


class ScriptedSms:
    """An SMS channel that gives one answer, after `gate` opens if one is given."""

    name: ChannelName = "sms"
    provider: Provider = "sms_gateway"

    def __init__(
        self, answer: SendResult | DeliveryError, gate: asyncio.Event | None = None
    ) -> None:
        self.answer = answer
        self.gate = gate
        self.called = asyncio.Event()

    async def send(self, message: OutgoingMessage) -> SendResult:
        self.called.set()
        if self.gate is not None:
            await self.gate.wait()
        if isinstance(self.answer, DeliveryError):
            raise self.answer
        return self.answer

    async def aclose(self) -> None:
        return None


def _settings() -> NotifySettings:
    return NotifySettings(delivery_lease_seconds=LEASE, webhook_timeout=2.0)


def _cipher(settings: NotifySettings) -> FieldCipher:
    return FieldCipher(settings.pii_encryption_key, settings.pii_index_key)


async def _queue_message(pool: asyncpg.Pool, cipher: FieldCipher) -> uuid.UUID:
    message_id = uuid.uuid4()
    await pool.execute(
        """
        INSERT INTO delivery_log (id, source_event_id, source_event_type, channel, provider,
                                  recipient_index, recipient_masked, recipient_enc, language,
                                  body, status, next_attempt_at, application_id)
        VALUES ($1, $2, 'mpp.application.submitted.v1', 'sms', 'sms_gateway', $3,
                '+62812****7890', $4, 'id', 'Permohonan diterima', 'queued', $5, $6)
        """,
        message_id,
        uuid.uuid4(),
        b"index",
        cipher.encrypt("+6281234567890", context="recipient-address"),
        T0,
        uuid.uuid4(),
    )
    return message_id


async def test_a_message_sender_past_its_lease_cannot_overwrite_the_newer_attempt(
    notify_pool: asyncpg.Pool,
) -> None:
    settings = _settings()
    cipher = _cipher(settings)
    message_id = await _queue_message(notify_pool, cipher)
    gate = asyncio.Event()
    slow = ScriptedSms(DeliveryError("number refused", transient=False, status_code=400), gate)
    stale = MessageDispatcher(settings, cipher, {"sms": slow}, clock=HandClock(T0))
    fresh = MessageDispatcher(
        settings,
        cipher,
        {"sms": ScriptedSms(SendResult("sms_gateway", "gw-2", 200))},
        clock=HandClock(T0 + timedelta(seconds=LEASE + 1)),
    )

    sending = asyncio.create_task(stale.dispatch_once(notify_pool))
    await asyncio.wait_for(slow.called.wait(), 5)  # attempt 1 is with the provider ...
    assert await fresh.dispatch_once(notify_pool) == 1  # ... past its lease: attempt 2 delivers
    gate.set()
    assert await sending == 1  # attempt 1's refusal arrives late

    row = await notify_pool.fetchrow("SELECT * FROM delivery_log WHERE id = $1", message_id)
    assert (row["status"], row["attempts"], row["provider_message_id"]) == ("delivered", 2, "gw-2")
    assert row["last_error"] is None and row["dead_at"] is None and row["lease_until"] is None
    attempts = await notify_pool.fetch(
        "SELECT attempt, outcome FROM delivery_attempts WHERE delivery_id = $1 ORDER BY id",
        message_id,
    )
    assert [(a["attempt"], a["outcome"]) for a in attempts] == [
        (1, "interrupted"),
        (2, "delivered"),
        (1, "permanent"),  # it happened, and is logged, but decides nothing
    ]
    events = await notify_pool.fetch(
        "SELECT convert_from(payload, 'UTF8')::jsonb->>'type' AS type FROM outbox "
        "WHERE topic = 'mpp.notifications' ORDER BY id"
    )
    assert [e["type"] for e in events] == ["mpp.notification.delivered.v1"]


async def _webhook_delivery(pool: asyncpg.Pool, cipher: FieldCipher) -> uuid.UUID:
    subscription_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO subscriptions (id, owner, url, event_types, secret_enc) "
        "VALUES ($1, 'dukcapil', 'http://receiver.test/mpp/events', $2, $3)",
        subscription_id,
        [VERIFIED],
        cipher.encrypt(
            "dukcapil-webhook-secret-0123456789", context=secret_context(subscription_id)
        ),
    )
    event = build_event(example(VERIFIED), source="/mpp/test", subject=str(APP_ID))
    async with pool.acquire() as conn, conn.transaction():
        assert await record_and_fan_out(conn, event)
    delivery_id: uuid.UUID = await pool.fetchval("SELECT id FROM webhook_deliveries")
    return delivery_id


def _receiver(status: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(status)))


async def test_a_webhook_sender_past_its_lease_cannot_overwrite_the_newer_attempt(
    notify_pool: asyncpg.Pool,
) -> None:
    settings = _settings()
    cipher = _cipher(settings)
    delivery_id = await _webhook_delivery(notify_pool, cipher)
    stale = WebhookDispatcher(settings, cipher)
    fresh = WebhookDispatcher(settings, cipher)

    [claimed] = await stale.claim(notify_pool)  # attempt 1 goes out ...
    await notify_pool.execute(
        "UPDATE webhook_deliveries SET lease_until = now() - interval '1 second' WHERE id = $1",
        delivery_id,
    )
    async with _receiver(503) as down:  # ... past its lease: attempt 2 fails
        assert await fresh.tick(notify_pool, down) == 1
    async with _receiver(200) as up:  # attempt 1's 200 arrives late
        late = await stale.send(up, claimed)
    assert late.delivered
    await stale.record(notify_pool, [late])

    row = await notify_pool.fetchrow("SELECT * FROM webhook_deliveries WHERE id = $1", delivery_id)
    assert (row["status"], row["attempts"], row["last_status_code"]) == ("retrying", 2, 503)
    assert row["delivered_at"] is None
    attempts = await notify_pool.fetch(
        "SELECT attempt, outcome FROM delivery_attempts WHERE delivery_id = $1 ORDER BY id",
        delivery_id,
    )
    assert [(a["attempt"], a["outcome"]) for a in attempts] == [
        (1, "interrupted"),
        (2, "transient"),
        (1, "delivered"),  # it happened, and is logged, but decides nothing
    ]
