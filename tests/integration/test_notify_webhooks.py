"""OPD webhook subscriptions on a real PostgreSQL with real HTTP receivers:
signed deliveries, retries with backoff, disabling and re-enabling,
redelivery of a time range, crash recovery, and the subscriptions API."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from mpp_notify.api.routes import subscriptions
from mpp_notify.domain.subscriptions import secret_context
from mpp_notify.settings import NotifySettings
from mpp_notify.webhooks import fanout
from mpp_notify.webhooks.dispatcher import WebhookDispatcher
from mpp_notify.webhooks.fanout import record_and_fan_out
from mpp_shared.auth import mint_token
from mpp_shared.db import DATABASE_UNAVAILABLE
from mpp_shared.events import CloudEvent, build_event
from mpp_shared.events.examples import APP_ID, example
from mpp_shared.pii import FieldCipher
from mpp_shared.settings import DEV_JWT_SECRET
from mpp_shared.web import get_pool, install_error_handlers
from tests.support.spans import finished_spans

NOTIFY_MIGRATIONS = (
    Path(__file__).resolve().parents[2] / "services" / "notify" / "mpp_notify" / "migrations"
)
SECRET = "dukcapil-webhook-secret-0123456789"
SUBMITTED = "mpp.application.submitted.v1"
VERIFIED = "mpp.application.verified.v1"
COMPLETED = "mpp.application.completed.v1"
QUEUED = "mpp.document.queued.v1"


def _settings(**overrides: Any) -> NotifySettings:
    values: dict[str, Any] = {
        "webhook_timeout": 3.0,
        "webhook_backoff_base": 0.05,
        "webhook_backoff_max": 0.2,
        "webhook_max_attempts": 10,
        "webhook_disable_after": 3,
        "webhook_poll_interval": 0.05,
        **overrides,
    }
    return NotifySettings(**values)


# --- the OPD's receiver ---------------------------------------------------------


@dataclass(frozen=True)
class Received:
    at: float  # time.monotonic()
    headers: dict[str, str]
    body: bytes
    signature_valid: bool

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class Receiver:
    """An OPD system's webhook endpoint: checks the signature its own way and
    answers with the next scripted status (then `default`)."""

    server: HTTPServer
    secret: str = SECRET
    default: int = 200
    script: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    delay: float = 0.0  # seconds before answering

    @property
    def url(self) -> str:
        return self.server.url_for("/mpp/events")

    def answer(self, *statuses: int, default: int | None = None) -> None:
        with self.lock:
            self.script = list(statuses)
            if default is not None:
                self.default = default

    def handle(self, request: Request) -> Response:
        body = request.get_data()
        timestamp = request.headers.get("X-MPP-Timestamp", "")
        expected = (
            "v1="
            + hmac.new(
                self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
            ).hexdigest()
        )
        fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) <= 300
        valid = fresh and hmac.compare_digest(expected, request.headers.get("X-MPP-Signature", ""))
        with self.lock:
            self.received.append(Received(time.monotonic(), dict(request.headers), body, valid))
            status = self.script.pop(0) if self.script else self.default
            delay = self.delay
        time.sleep(delay)
        headers = {"Location": self.server.url_for("/elsewhere")} if 300 <= status < 400 else {}
        return Response(
            "stored" if status < 300 else "receiver trouble", status=status, headers=headers
        )

    def count(self) -> int:
        with self.lock:
            return len(self.received)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    found = Receiver(server)
    server.expect_request("/mpp/events", method="POST").respond_with_handler(found.handle)
    try:
        yield found
    finally:
        server.clear()
        server.stop()


# --- database, API --------------------------------------------------------------


@pytest.fixture
def pool(notify_pool: asyncpg.Pool) -> asyncpg.Pool:
    return notify_pool


@pytest.fixture
def settings() -> NotifySettings:
    return _settings()


@pytest.fixture
def cipher(settings: NotifySettings) -> FieldCipher:
    return FieldCipher(settings.pii_encryption_key, settings.pii_index_key)


@pytest.fixture
async def api(
    pool: asyncpg.Pool, settings: NotifySettings, cipher: FieldCipher
) -> AsyncIterator[httpx.AsyncClient]:
    """The subscriptions routes on the test database (the rest of notify not started)."""
    app = FastAPI()
    app.state.settings = settings
    app.state.cipher = cipher
    install_error_handlers(app)
    app.include_router(subscriptions.router)
    app.dependency_overrides[get_pool] = lambda: pool
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://notify"
    ) as client:
        client.app = app  # type: ignore[attr-defined]
        yield client


def _as(subject: str = "dukcapil", *roles: str) -> dict[str, str]:
    token = mint_token(DEV_JWT_SECRET, subject=subject, roles=list(roles or ["opd_system"]))
    return {"Authorization": f"Bearer {token}"}


async def _subscribe(
    api: httpx.AsyncClient,
    url: str,
    event_types: list[str],
    *,
    secret: str = SECRET,
    client: str = "dukcapil",
) -> str:
    answer = await api.post(
        "/v1/subscriptions",
        json={"url": url, "event_types": event_types, "secret": secret},
        headers=_as(client),
    )
    assert answer.status_code == 201, answer.text
    subscription_id: str = answer.json()["id"]
    return subscription_id


def _event(event_type: str, at: datetime | None = None) -> CloudEvent:
    event = build_event(example(event_type), source="/mpp/test", subject=str(APP_ID))
    return event if at is None else event.model_copy(update={"time": at})


async def _fan_out(pool: asyncpg.Pool, event: CloudEvent) -> bool:
    async with pool.acquire() as conn, conn.transaction():
        return await record_and_fan_out(conn, event)


async def _until(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def _deliveries(pool: asyncpg.Pool, subscription_id: str) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT * FROM webhook_deliveries WHERE subscription_id = $1 ORDER BY created_at",
        uuid.UUID(subscription_id),
    )


async def _attempts(pool: asyncpg.Pool, delivery_id: uuid.UUID) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT * FROM delivery_attempts WHERE delivery_kind = 'webhook' AND delivery_id = $1 "
        "ORDER BY attempt, id",
        delivery_id,
    )


async def _subscription(pool: asyncpg.Pool, subscription_id: str) -> asyncpg.Record:
    row = await pool.fetchrow(
        "SELECT * FROM subscriptions WHERE id = $1", uuid.UUID(subscription_id)
    )
    assert row is not None
    return row


# --- delivery -------------------------------------------------------------------


async def test_delivery_is_a_signed_cloudevent_without_the_sealed_contact(
    pool: asyncpg.Pool,
    api: httpx.AsyncClient,
    receiver: Receiver,
    settings: NotifySettings,
    cipher: FieldCipher,
) -> None:
    subscription_id = await _subscribe(api, receiver.url, ["mpp.application.*"])
    submitted = _event(SUBMITTED)
    assert submitted.data["contact_sealed"]
    assert await _fan_out(pool, submitted)
    assert not await _fan_out(pool, _event(QUEUED))  # a type it did not ask for

    dispatcher = WebhookDispatcher(settings, cipher)
    assert await dispatcher.tick(pool) == 1

    [got] = receiver.received
    assert got.signature_valid
    assert got.headers["Content-Type"] == "application/cloudevents+json"
    assert got.headers["User-Agent"] == "MPP-Notify-Webhooks/1"
    assert got.headers["X-Mpp-Event-Id"] == str(submitted.id)
    assert got.headers["X-Mpp-Event-Type"] == SUBMITTED
    assert "X-Mpp-Replay" not in got.headers
    [delivery] = await _deliveries(pool, subscription_id)
    assert got.headers["X-Mpp-Delivery-Id"] == str(delivery["id"])
    body = got.event
    assert body["id"] == str(submitted.id)
    assert body["type"] == SUBMITTED
    assert body["specversion"] == "1.0"
    assert "contact_sealed" not in body["data"]
    assert b"contact_sealed" not in got.body and b"c2VhbGVk" not in got.body
    assert body["data"]["tracking_code"] == submitted.data["tracking_code"]

    assert delivery["status"] == "delivered" and delivery["attempts"] == 1
    [attempt] = await _attempts(pool, delivery["id"])
    assert (attempt["attempt"], attempt["outcome"], attempt["status_code"]) == (1, "delivered", 200)
    # The secret is stored encrypted, bound to its subscription.
    row = await _subscription(pool, subscription_id)
    assert SECRET.encode() not in row["secret_enc"]
    assert cipher.decrypt(row["secret_enc"], context=secret_context(row["id"])) == SECRET


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Finished spans of this test."""
    with finished_spans() as exporter:
        yield exporter


async def test_each_attempt_is_a_client_span_in_the_trace_of_the_event(
    pool: asyncpg.Pool,
    api: httpx.AsyncClient,
    receiver: Receiver,
    settings: NotifySettings,
    cipher: FieldCipher,
    spans: InMemorySpanExporter,
) -> None:
    subscription_id = await _subscribe(api, receiver.url, [VERIFIED])
    receiver.answer(500, default=200)
    event = _event(VERIFIED)
    consumer = trace.get_tracer("test").start_span("mpp.applications process")
    with trace.use_span(consumer, end_on_exit=True):
        await _fan_out(pool, event)
    dispatcher = WebhookDispatcher(settings, cipher)
    assert await dispatcher.tick(pool) == 1

    async def retried() -> bool:
        return await dispatcher.tick(pool) > 0

    await _until(retried)
    first, retry = [s for s in spans.get_finished_spans() if s.name == "webhook POST"]
    for span in (first, retry):
        assert span.kind == SpanKind.CLIENT
        assert span.attributes is not None
        assert span.attributes["mpp.subscription.id"] == subscription_id
        assert span.attributes["cloudevents.event_type"] == VERIFIED
    assert first.attributes is not None and retry.attributes is not None
    assert first.attributes["http.response.status_code"] == 500
    assert first.status.status_code == StatusCode.ERROR
    assert retry.attributes["http.response.status_code"] == 200
    # The first attempt continues the consumer's trace; the retry links to it.
    context = consumer.get_span_context()
    assert first.context is not None and first.parent is not None
    assert first.context.trace_id == context.trace_id
    assert first.parent.span_id == context.span_id
    assert retry.parent is None
    assert [link.context.span_id for link in retry.links] == [context.span_id]
    # The receiver can join the trace too (W3C header of the attempt's span).
    assert receiver.received[0].headers["Traceparent"].split("-")[1] == format(
        context.trace_id, "032x"
    )
    assert "traceparent" in receiver.received[0].event  # CloudEvents tracing extension


async def test_a_failed_attempt_is_retried_after_its_backoff(
    pool: asyncpg.Pool, api: httpx.AsyncClient, receiver: Receiver, cipher: FieldCipher
) -> None:
    settings = _settings(webhook_backoff_base=0.6, webhook_backoff_max=5.0)
    subscription_id = await _subscribe(api, receiver.url, [VERIFIED])
    receiver.answer(500, default=200)
    await _fan_out(pool, _event(VERIFIED))
    dispatcher = WebhookDispatcher(settings, cipher)

    assert await dispatcher.tick(pool) == 1
    [delivery] = await _deliveries(pool, subscription_id)
    assert delivery["status"] == "retrying" and delivery["last_status_code"] == 500
    # backoff(1, 0.6, ...) lies in [0.3, 0.6] s after the failed attempt.
    [failed] = await _attempts(pool, delivery["id"])
    wait = (delivery["next_attempt_at"] - failed["finished_at"]).total_seconds()
    # Never earlier than the backoff; later only by the moment between the
    # answer and its record (generous: a busy machine stretches that moment).
    assert 0.3 <= wait <= 0.6 + 3.0, wait
    assert (await _subscription(pool, subscription_id))["consecutive_failures"] == 1
    assert await dispatcher.tick(pool) == 0  # not due yet: nothing sent

    async def retried() -> bool:
        return await dispatcher.tick(pool) > 0

    await _until(retried)
    first, second = receiver.received
    assert second.at - first.at >= 0.3
    assert first.signature_valid and second.signature_valid
    assert first.headers["X-Mpp-Delivery-Id"] == second.headers["X-Mpp-Delivery-Id"]
    assert int(second.headers["X-Mpp-Timestamp"]) >= int(first.headers["X-Mpp-Timestamp"])
    [delivery] = await _deliveries(pool, subscription_id)
    assert delivery["status"] == "delivered" and delivery["attempts"] == 2
    attempts = await _attempts(pool, delivery["id"])
    assert [(a["outcome"], a["status_code"]) for a in attempts] == [
        ("transient", 500),
        ("delivered", 200),
    ]
    assert "receiver trouble" in attempts[0]["error"]
    assert (await _subscription(pool, subscription_id))["consecutive_failures"] == 0


async def test_repeated_failures_disable_the_subscription_until_its_client_enables_it(
    pool: asyncpg.Pool,
    api: httpx.AsyncClient,
    receiver: Receiver,
    settings: NotifySettings,
    cipher: FieldCipher,
) -> None:
    subscription_id = await _subscribe(api, receiver.url, ["mpp.application.*"])
    receiver.answer(default=500)
    first = _event(SUBMITTED)
    await _fan_out(pool, first)
    dispatcher = WebhookDispatcher(settings, cipher)  # disables after 3 failures

    async def disabled() -> bool:
        await dispatcher.tick(pool)
        return (await _subscription(pool, subscription_id))["status"] == "disabled"

    await _until(disabled)
    assert receiver.count() == 3
    row = await _subscription(pool, subscription_id)
    assert row["consecutive_failures"] == 3 and row["disabled_at"] is not None
    assert "3 consecutive failed deliveries" in row["disabled_reason"]
    assert "HTTP 500" in row["disabled_reason"]

    # Disabled: what comes now is queued but nothing is sent.
    second = _event(VERIFIED)
    assert await _fan_out(pool, second)
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        assert await dispatcher.tick(pool) == 0
        await asyncio.sleep(0.02)
    assert receiver.count() == 3
    assert sorted(d["status"] for d in await _deliveries(pool, subscription_id)) == [
        "pending",
        "retrying",
    ]
    shown = (await api.get(f"/v1/subscriptions/{subscription_id}", headers=_as())).json()
    assert shown["status"] == "disabled"
    assert shown["deliveries"] == {"pending": 2, "delivered": 0, "dead": 0}

    # The receiver is back; its client enables the subscription: both go out.
    receiver.answer(default=200)
    enabled = await api.post(f"/v1/subscriptions/{subscription_id}/enable", headers=_as())
    assert enabled.status_code == 200, enabled.text
    assert enabled.json()["status"] == "active"
    assert enabled.json()["consecutive_failures"] == 0
    assert enabled.json()["disabled_reason"] is None
    assert await dispatcher.tick(pool) == 2
    assert [r.headers["X-Mpp-Event-Id"] for r in receiver.received[3:]] == [
        str(first.id),
        str(second.id),
    ]
    assert all(r.signature_valid for r in receiver.received)
    assert {d["status"] for d in await _deliveries(pool, subscription_id)} == {"delivered"}
    audit = await pool.fetch(
        "SELECT action FROM audit_log WHERE target_id = $1 ORDER BY id", subscription_id
    )
    assert [a["action"] for a in audit] == ["subscription.created", "subscription.enabled"]


async def test_gone_disables_at_once_and_max_attempts_end_dead(
    pool: asyncpg.Pool, api: httpx.AsyncClient, receiver: Receiver, cipher: FieldCipher
) -> None:
    settings = _settings(webhook_max_attempts=2, webhook_disable_after=10)
    gone_id = await _subscribe(api, receiver.url + "?who=gone", [VERIFIED])
    await _fan_out(pool, _event(VERIFIED))
    receiver.answer(410)
    dispatcher = WebhookDispatcher(settings, cipher)
    assert await dispatcher.tick(pool) == 1
    row = await _subscription(pool, gone_id)
    assert row["status"] == "disabled" and "410 Gone" in row["disabled_reason"]
    [delivery] = await _deliveries(pool, gone_id)
    assert delivery["status"] == "retrying"  # waits for the client, not dead
    [attempt] = await _attempts(pool, delivery["id"])
    assert attempt["outcome"] == "permanent"

    await api.delete(f"/v1/subscriptions/{gone_id}", headers=_as())
    dying_id = await _subscribe(api, receiver.url, [VERIFIED])
    await _fan_out(pool, _event(VERIFIED))
    receiver.answer(default=503)

    async def dead() -> bool:
        await dispatcher.tick(pool)
        [delivery] = await _deliveries(pool, dying_id)
        return bool(delivery["status"] == "dead")

    await _until(dead)
    sent = receiver.count()
    assert sent == 1 + 2
    await asyncio.sleep(0.3)
    assert await dispatcher.tick(pool) == 0
    assert receiver.count() == sent
    assert (await _subscription(pool, dying_id))["status"] == "active"  # 2 < 10 failures
    listed = await api.get(
        f"/v1/subscriptions/{dying_id}/deliveries", params={"status": "dead"}, headers=_as()
    )
    [item] = listed.json()["items"]
    assert item["attempts"] == 2 and item["next_attempt_at"] is None
    assert [a["status_code"] for a in item["attempt_log"]] == [503, 503]


async def test_redirects_are_not_followed_and_slow_receivers_time_out(
    pool: asyncpg.Pool, api: httpx.AsyncClient, receiver: Receiver, cipher: FieldCipher
) -> None:
    settings = _settings(webhook_timeout=0.3, webhook_disable_after=10)
    subscription_id = await _subscribe(api, receiver.url, [VERIFIED])
    await _fan_out(pool, _event(VERIFIED))
    dispatcher = WebhookDispatcher(settings, cipher)
    receiver.answer(302)
    assert await dispatcher.tick(pool) == 1
    assert receiver.count() == 1  # /elsewhere never asked
    [delivery] = await _deliveries(pool, subscription_id)
    assert delivery["status"] == "retrying" and delivery["last_status_code"] == 302

    # A receiver that would answer after 3 s: the dispatcher gives up after
    # its 0.3 s timeout (the bound leaves a busy machine room, not the 3 s).
    receiver.delay = 3.0
    await pool.execute("UPDATE webhook_deliveries SET next_attempt_at = now()")
    started = time.monotonic()
    assert await dispatcher.tick(pool) == 1
    assert time.monotonic() - started < 2.5
    [delivery] = await _deliveries(pool, subscription_id)
    assert delivery["status"] == "retrying" and delivery["last_status_code"] is None
    assert delivery["last_error"] == "no answer within 0.3 s"
    assert (await _subscription(pool, subscription_id))["consecutive_failures"] == 2


async def test_the_same_event_consumed_twice_is_delivered_once(
    pool: asyncpg.Pool,
    api: httpx.AsyncClient,
    receiver: Receiver,
    settings: NotifySettings,
    cipher: FieldCipher,
) -> None:
    subscription_id = await _subscribe(api, receiver.url, [SUBMITTED])
    event = _event(SUBMITTED)
    assert await _fan_out(pool, event)
    assert not await _fan_out(pool, CloudEvent.model_validate_json(event.to_bytes()))
    assert len(await _deliveries(pool, subscription_id)) == 1
    assert await pool.fetchval("SELECT count(*) FROM event_journal") == 1
    assert await WebhookDispatcher(settings, cipher).tick(pool) == 1
    assert receiver.count() == 1


async def test_a_delivery_left_sending_by_a_crashed_dispatcher_is_sent_after_its_lease(
    pool: asyncpg.Pool,
    api: httpx.AsyncClient,
    receiver: Receiver,
    settings: NotifySettings,
    cipher: FieldCipher,
) -> None:
    subscription_id = await _subscribe(api, receiver.url, [VERIFIED])
    event = _event(VERIFIED)
    await _fan_out(pool, event)
    crashed = WebhookDispatcher(settings, cipher)
    [claimed] = await crashed.claim(pool)  # ... and the process dies before sending
    assert claimed.attempt == 1

    survivor = WebhookDispatcher(settings, cipher)
    assert await survivor.tick(pool) == 0  # its lease still runs
    await pool.execute(
        "UPDATE webhook_deliveries SET lease_until = now() - interval '1 second' WHERE id = $1",
        claimed.id,
    )
    assert await survivor.tick(pool) == 1
    [got] = receiver.received
    assert got.headers["X-Mpp-Event-Id"] == str(event.id) and got.signature_valid
    [delivery] = await _deliveries(pool, subscription_id)
    assert delivery["status"] == "delivered" and delivery["attempts"] == 2
    attempts = await _attempts(pool, delivery["id"])
    assert [(a["attempt"], a["outcome"]) for a in attempts] == [
        (1, "interrupted"),
        (2, "delivered"),
    ]


async def test_redelivery_sends_exactly_the_events_of_the_time_range(
    pool: asyncpg.Pool,
    api: httpx.AsyncClient,
    receiver: Receiver,
    settings: NotifySettings,
    cipher: FieldCipher,
) -> None:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=5)
    end = start + timedelta(hours=3)
    # Journaled before the subscription exists (nobody to fan out to).
    before = _event(VERIFIED, start - timedelta(seconds=1))
    at_start = _event(SUBMITTED, start)
    other_stream = _event(QUEUED, start + timedelta(hours=1))
    inside = _event(VERIFIED, start + timedelta(hours=2))
    at_end = _event(COMPLETED, end)
    for event in (inside, other_stream, at_end, before, at_start):
        assert not await _fan_out(pool, event)

    subscription_id = await _subscribe(api, receiver.url, ["mpp.application.*"])
    answer = await api.post(
        f"/v1/subscriptions/{subscription_id}/redeliveries",
        json={"from": start.isoformat(), "to": end.isoformat()},
        headers=_as(),
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["queued"] == 2
    assert answer.json()["from"] == start.isoformat().replace("+00:00", "Z")
    assert answer.json()["event_types"] == ["mpp.application.*"]
    # One per claim: the order is the claim's, oldest first.
    dispatcher = WebhookDispatcher(settings.model_copy(update={"delivery_batch_size": 1}), cipher)
    assert await dispatcher.tick(pool) == 2
    assert [r.headers["X-Mpp-Event-Id"] for r in receiver.received] == [
        str(at_start.id),
        str(inside.id),
    ]  # oldest first
    assert all(r.headers["X-Mpp-Replay"] == "true" for r in receiver.received)
    assert all(r.signature_valid for r in receiver.received)
    assert "contact_sealed" not in receiver.received[0].event["data"]

    # Narrowed to one type; the original deliveries stay, replays are new rows.
    narrowed = await api.post(
        f"/v1/subscriptions/{subscription_id}/redeliveries",
        json={"from": before.time.isoformat(), "to": end.isoformat(), "event_types": [VERIFIED]},
        headers=_as(),
    )
    assert narrowed.status_code == 202 and narrowed.json()["queued"] == 2  # before, inside
    assert await dispatcher.tick(pool) == 2
    assert {r.headers["X-Mpp-Event-Id"] for r in receiver.received[2:]} == {
        str(before.id),
        str(inside.id),
    }
    assert len(await _deliveries(pool, subscription_id)) == 4

    not_subscribed = await api.post(
        f"/v1/subscriptions/{subscription_id}/redeliveries",
        json={"from": start.isoformat(), "to": end.isoformat(), "event_types": ["mpp.document.*"]},
        headers=_as(),
    )
    assert not_subscribed.status_code == 422
    assert not_subscribed.json()["errors"][0]["field"] == "event_types"
    audit = await pool.fetch(
        "SELECT detail FROM audit_log WHERE action = 'subscription.redelivery' ORDER BY id"
    )
    assert [a["detail"]["queued"] for a in audit] == [2, 2]


async def test_the_dispatcher_loop_wakes_retries_and_outlives_lost_connections(
    pool: asyncpg.Pool,
    api: httpx.AsyncClient,
    receiver: Receiver,
    settings: NotifySettings,
    cipher: FieldCipher,
    database: str,
) -> None:
    subscription_id = await _subscribe(api, receiver.url, ["mpp.application.*", "mpp.sla.*"])
    dispatcher = WebhookDispatcher(
        settings.model_copy(update={"webhook_poll_interval": 5.0}), cipher
    )
    loop = asyncio.create_task(dispatcher.serve(pool))
    try:
        await asyncio.sleep(0.1)  # asleep for up to 5 s
        receiver.answer(500, default=200)
        await _fan_out(pool, _event(VERIFIED))
        started = time.monotonic()
        dispatcher.wake()

        async def twice() -> bool:
            return receiver.count() == 2  # the failure, then its retry

        await _until(twice, timeout=4)
        assert time.monotonic() - started < 4  # woken, and woke itself for the retry

        # The database drops every connection of the pool: the loop carries on.
        admin = await asyncpg.connect(database)
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await admin.close()
        # The consumer retries an event until its transaction commits; so here.
        for _ in range(10):
            try:
                await _fan_out(pool, _event("mpp.sla.breached.v1"))
                break
            except (*DATABASE_UNAVAILABLE, asyncpg.InternalClientError):
                await asyncio.sleep(0.05)
        dispatcher.wake()

        async def thrice() -> bool:
            return receiver.count() == 3

        await _until(thrice, timeout=8)
        assert not loop.done()

        # A redelivery over the API wakes the dispatcher it runs beside.
        api.app.state.webhook_dispatcher = dispatcher  # type: ignore[attr-defined]
        await asyncio.sleep(0.2)  # asleep again, for up to 5 s
        now = datetime.now(UTC)
        replay = await api.post(
            f"/v1/subscriptions/{subscription_id}/redeliveries",
            json={
                "from": (now - timedelta(minutes=5)).isoformat(),
                "to": now.isoformat(),
                "event_types": ["mpp.sla.*"],
            },
            headers=_as(),
        )
        assert replay.status_code == 202 and replay.json()["queued"] == 1
        asked = time.monotonic()

        async def replayed() -> bool:
            return receiver.count() == 4

        await _until(replayed, timeout=8)
        assert time.monotonic() - asked < 2
    finally:
        dispatcher.stop()
        await asyncio.wait_for(loop, 5)
    assert receiver.received[2].headers["X-Mpp-Event-Type"] == "mpp.sla.breached.v1"
    assert receiver.received[3].headers["X-Mpp-Replay"] == "true"


async def test_the_journal_forgets_finished_events_past_retention(
    pool: asyncpg.Pool,
    api: httpx.AsyncClient,
    receiver: Receiver,
    settings: NotifySettings,
    cipher: FieldCipher,
) -> None:
    subscription_id = await _subscribe(api, receiver.url, [VERIFIED])
    old = datetime.now(UTC) - timedelta(days=31)
    delivered_old, waiting_old, recent = (
        _event(VERIFIED, old),
        _event(VERIFIED, old),
        _event(VERIFIED),
    )
    await _fan_out(pool, delivered_old)
    assert await WebhookDispatcher(settings, cipher).tick(pool) == 1
    await api.post(f"/v1/subscriptions/{subscription_id}/disable", headers=_as())
    await _fan_out(pool, waiting_old)  # waits for its disabled subscription
    await _fan_out(pool, recent)

    assert await fanout.purge_expired_events(pool, retention_days=30) == 1
    kept = {r["event_id"] for r in await pool.fetch("SELECT event_id FROM event_journal")}
    assert kept == {waiting_old.id, recent.id}
    assert {d["event_id"] for d in await _deliveries(pool, subscription_id)} == kept
    assert await pool.fetchval("SELECT count(*) FROM delivery_attempts") == 0


# --- the API --------------------------------------------------------------------


async def test_create_read_change_and_delete_a_subscription(
    pool: asyncpg.Pool, api: httpx.AsyncClient, cipher: FieldCipher
) -> None:
    created = await api.post(
        "/v1/subscriptions",
        json={
            "url": "https://dukcapil.example.go.id/mpp/events",
            "event_types": ["mpp.application.*", VERIFIED, "mpp.application.*"],
            "secret": SECRET,
            "description": "Dukcapil dashboard",
        },
        headers=_as("dukcapil"),
    )
    assert created.status_code == 201, created.text
    body = created.json()
    subscription_id = body["id"]
    assert "secret" not in created.text and SECRET not in created.text
    assert body["owner"] == "dukcapil" and body["status"] == "active"
    assert body["event_types"] == ["mpp.application.*", VERIFIED]
    assert body["deliveries"] == {"pending": 0, "delivered": 0, "dead": 0}

    other = await _subscribe(
        api, "https://dpmptsp.example.go.id/hook", ["mpp.sla.*"], client="dpmptsp"
    )

    listed = await api.get("/v1/subscriptions", headers=_as("dukcapil"))
    assert [s["id"] for s in listed.json()["items"]] == [subscription_id]
    as_supervisor = await api.get("/v1/subscriptions", headers=_as("sup-1", "supervisor"))
    assert {s["id"] for s in as_supervisor.json()["items"]} == {subscription_id, other}
    assert (
        await api.get(f"/v1/subscriptions/{other}", headers=_as("sup-1", "supervisor"))
    ).status_code == 200

    # Another OPD client sees nothing of it.
    for method, path in [
        ("GET", f"/v1/subscriptions/{subscription_id}"),
        ("PATCH", f"/v1/subscriptions/{subscription_id}"),
        ("POST", f"/v1/subscriptions/{subscription_id}/enable"),
        ("POST", f"/v1/subscriptions/{subscription_id}/disable"),
        ("GET", f"/v1/subscriptions/{subscription_id}/deliveries"),
        ("DELETE", f"/v1/subscriptions/{subscription_id}"),
    ]:
        answer = await api.request(
            method, path, json={} if method == "PATCH" else None, headers=_as("dpmptsp")
        )
        assert answer.status_code == 404, (method, path, answer.text)
        assert answer.json()["detail"] == "Langganan tidak ditemukan"
    # Supervisors and admins read, never write.
    assert (
        await api.post(
            "/v1/subscriptions",
            json={"url": "https://x.example/h", "event_types": [VERIFIED], "secret": SECRET},
            headers=_as("sup-1", "supervisor"),
        )
    ).status_code == 403
    assert (
        await api.post(f"/v1/subscriptions/{subscription_id}/disable", headers=_as("root", "admin"))
    ).status_code == 403

    new_secret = "rotated-secret-for-dukcapil-987654"
    patched = await api.patch(
        f"/v1/subscriptions/{subscription_id}",
        json={
            "url": "https://dukcapil.example.go.id/v2/events?token=abc",
            "event_types": ["mpp.document.*"],
            "secret": new_secret,
            "description": None,
        },
        headers=_as("dukcapil"),
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["url"] == "https://dukcapil.example.go.id/v2/events?token=abc"
    assert patched.json()["event_types"] == ["mpp.document.*"]
    assert patched.json()["description"] is None
    row = await _subscription(pool, subscription_id)
    assert cipher.decrypt(row["secret_enc"], context=secret_context(row["id"])) == new_secret

    disabled = await api.post(f"/v1/subscriptions/{subscription_id}/disable", headers=_as())
    assert disabled.json()["status"] == "disabled"
    assert disabled.json()["disabled_reason"] == "disabled by its client"

    deleted = await api.delete(f"/v1/subscriptions/{subscription_id}", headers=_as("dukcapil"))
    assert deleted.status_code == 204
    gone = await api.get(f"/v1/subscriptions/{subscription_id}", headers=_as("dukcapil"))
    assert gone.status_code == 404

    audit = await pool.fetch(
        "SELECT actor, action, detail FROM audit_log WHERE target_id = $1 ORDER BY id",
        subscription_id,
    )
    assert [(a["actor"], a["action"]) for a in audit] == [
        ("dukcapil", "subscription.created"),
        ("dukcapil", "subscription.updated"),
        ("dukcapil", "subscription.disabled"),
        ("dukcapil", "subscription.deleted"),
    ]
    assert audit[1]["detail"]["changed"] == ["description", "event_types", "secret", "url"]
    assert audit[1]["detail"]["url"] == "https://dukcapil.example.go.id/v2/events"
    assert SECRET not in json.dumps([dict(a) for a in audit])
    assert new_secret not in json.dumps([dict(a) for a in audit])


@pytest.mark.parametrize(
    ("body", "field", "message_en"),
    [
        ({"url": "ftp://files.example/x"}, "url", "must be an http:// or https:// address"),
        ({"url": "https:///no-host"}, "url", "must be an http:// or https:// address"),
        ({"url": "dukcapil.example.go.id"}, "url", "must be an http:// or https:// address"),
        (
            {"event_types": ["mpp.application.approved.v1"]},
            "event_types",
            "unknown event type: mpp.application.approved.v1",
        ),
        ({"event_types": ["mpp.nothing.*"]}, "event_types", "unknown event type: mpp.nothing.*"),
        ({"event_types": ["mpp.*"]}, "event_types", "unknown event type: mpp.*"),
        ({"event_types": ["mpp.notification.delivered.v1"]}, "event_types", "unknown event type"),
        ({"event_types": []}, "event_types", "name at least one event type"),
        ({"secret": "too-short-secret"}, "secret", "must be 24 to 256 characters long"),
        ({"secret": "x" * 257}, "secret", "must be 24 to 256 characters long"),
        ({"secret": None}, "secret", "must be text"),
    ],
)
async def test_invalid_subscriptions_are_refused_naming_the_field(
    api: httpx.AsyncClient, body: dict[str, Any], field: str, message_en: str
) -> None:
    payload = {
        "url": "https://dukcapil.example.go.id/hook",
        "event_types": [VERIFIED],
        "secret": SECRET,
        **body,
    }
    answer = await api.post(
        "/v1/subscriptions", json=payload, headers={**_as(), "Accept-Language": "en"}
    )
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"]
    assert error["field"] == field
    assert message_en in error["message"]
    in_indonesian = await api.post("/v1/subscriptions", json=payload, headers=_as())
    assert in_indonesian.json()["errors"][0]["message"] != error["message"]


async def test_production_takes_https_only(
    api: httpx.AsyncClient, settings: NotifySettings
) -> None:
    app: FastAPI = api.app  # type: ignore[attr-defined]
    payload = {
        "url": "http://dukcapil.example.go.id/hook",
        "event_types": [VERIFIED],
        "secret": SECRET,
    }
    assert (await api.post("/v1/subscriptions", json=payload, headers=_as())).status_code == 201
    app.state.settings = settings.model_copy(update={"mpp_env": "production"})
    refused = await api.post("/v1/subscriptions", json=payload, headers=_as())
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "url"
    assert "https" in refused.json()["detail"]
    payload["url"] = "https://dukcapil.example.go.id/hook"
    assert (await api.post("/v1/subscriptions", json=payload, headers=_as())).status_code == 201


async def test_redelivery_ranges_are_checked(
    api: httpx.AsyncClient, settings: NotifySettings
) -> None:
    subscription_id = await _subscribe(api, "https://dukcapil.example.go.id/hook", [VERIFIED])
    path = f"/v1/subscriptions/{subscription_id}/redeliveries"
    now = datetime.now(UTC)
    cases = [
        ({"from": now.isoformat(), "to": now.isoformat()}, "to"),
        ({"from": now.isoformat(), "to": (now - timedelta(hours=1)).isoformat()}, "to"),
        (
            {
                "from": (now - timedelta(days=settings.event_retention_days + 1)).isoformat(),
                "to": now.isoformat(),
            },
            "to",
        ),
        ({"from": "2024-08-17T09:00:00", "to": now.isoformat()}, "from"),  # no time zone
        ({"to": now.isoformat()}, "from"),
        (
            {
                "from": (now - timedelta(hours=1)).isoformat(),
                "to": now.isoformat(),
                "event_types": ["x"],
            },
            "event_types",
        ),
    ]
    for body, field_name in cases:
        answer = await api.post(path, json=body, headers=_as())
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["errors"][0]["field"] == field_name, (body, answer.json())
    naive = await api.post(
        path,
        json={"from": "2024-08-17T09:00:00", "to": now.isoformat()},
        headers={**_as(), "Accept-Language": "en"},
    )
    assert naive.json()["errors"][0]["message"].startswith("must include a time zone")
    too_long = await api.post(path, json=cases[2][0], headers=_as())
    assert too_long.json()["errors"][0]["message"] == "rentang waktu maksimal 30 hari"
    elsewhere = await api.post(
        path,
        json={"from": (now - timedelta(hours=1)).isoformat(), "to": now.isoformat()},
        headers=_as("dpmptsp"),
    )
    assert elsewhere.status_code == 404


async def test_idempotency_key_returns_the_first_answer(
    pool: asyncpg.Pool, api: httpx.AsyncClient
) -> None:
    payload = {
        "url": "https://dukcapil.example.go.id/hook",
        "event_types": [VERIFIED],
        "secret": SECRET,
    }
    headers = {**_as("dukcapil"), "Idempotency-Key": "create-hook-1"}
    first = await api.post("/v1/subscriptions", json=payload, headers=headers)
    again = await api.post("/v1/subscriptions", json=payload, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert await pool.fetchval("SELECT count(*) FROM subscriptions") == 1
    # The key's fingerprint does not hold the secret in a guessable form.
    stored = await pool.fetchval("SELECT request_hash FROM idempotency_keys")
    assert stored and SECRET not in stored

    changed = await api.post(
        "/v1/subscriptions", json={**payload, "secret": SECRET + "-other"}, headers=headers
    )
    assert changed.status_code == 422 and changed.json()["code"] == "idempotency_key_reused"
    # Keys are per client.
    theirs = await api.post(
        "/v1/subscriptions",
        json=payload,
        headers={**_as("dpmptsp"), "Idempotency-Key": "create-hook-1"},
    )
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]
    assert await pool.fetchval("SELECT count(*) FROM subscriptions") == 2

    redelivery = {
        "from": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "to": datetime.now(UTC).isoformat(),
    }
    path = f"/v1/subscriptions/{first.json()['id']}/redeliveries"
    once = {**_as("dukcapil"), "Idempotency-Key": "replay-1"}
    r1 = await api.post(path, json=redelivery, headers=once)
    r2 = await api.post(path, json=redelivery, headers=once)
    assert r1.status_code == r2.status_code == 202 and r1.json() == r2.json()
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM audit_log WHERE action = 'subscription.redelivery'"
        )
        == 1
    )


# --- hardening at the edges: addresses, Standard Webhooks -------------------------


@dataclass
class Resolver:
    """A DNS whose answers the test changes (a rebinding attacker's, say)."""

    table: dict[str, list[str]]
    asked: list[str] = field(default_factory=list)

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        if host not in self.table:
            raise OSError(f"{host}: name not known")
        return list(self.table[host])


def _checking(**overrides: Any) -> NotifySettings:
    """Settings with the address check on, as in production."""
    return _settings(webhook_allow_private_addresses=False, **overrides)


async def test_registering_an_internal_address_is_refused_naming_url(
    api: httpx.AsyncClient, receiver: Receiver, settings: NotifySettings
) -> None:
    app: FastAPI = api.app  # type: ignore[attr-defined]
    app.state.settings = settings.model_copy(update={"webhook_allow_private_addresses": False})
    app.state.webhook_resolver = Resolver(
        {
            "opd.kedirikab.go.id": ["203.0.114.10"],
            "mixed.opd.example": ["203.0.114.11", "10.1.2.3"],
            "rebound.opd.example": ["127.0.0.1"],
        }
    )
    # The real receiver's own URL (http://127.0.0.1:<port>/...), and a name
    # that resolves to the loopback: refused, in Bahasa Indonesia by default.
    for url in (receiver.url, "http://rebound.opd.example/hook"):
        payload = {"url": url, "event_types": [VERIFIED], "secret": SECRET}
        refused = await api.post("/v1/subscriptions", json=payload, headers=_as())
        assert refused.status_code == 422, refused.text
        [error] = refused.json()["errors"]
        assert error["field"] == "url"
        assert error["message"].startswith("tidak boleh mengarah ke alamat loopback")
    in_english = await api.post(
        "/v1/subscriptions",
        json={"url": "http://mixed.opd.example/hook", "event_types": [VERIFIED], "secret": SECRET},
        headers={**_as(), "Accept-Language": "en"},
    )
    assert in_english.status_code == 422
    assert in_english.json()["errors"][0]["field"] == "url"
    assert in_english.json()["errors"][0]["message"] == (
        "must not point to a private network address (10.1.2.3)"
    )
    for url, words in [
        ("http://[::ffff:169.254.169.254]/latest/meta-data", "link-local"),
        ("http://metadata.google.internal/computeMetadata/v1", "metadata"),
        ("http://localhost:8004/v1/subscriptions", "loopback"),
        ("http://100.100.100.200/latest", "carrier-grade NAT"),
    ]:
        answer = await api.post(
            "/v1/subscriptions",
            json={"url": url, "event_types": [VERIFIED], "secret": SECRET},
            headers={**_as(), "Accept-Language": "en"},
        )
        assert answer.status_code == 422, (url, answer.text)
        assert words in answer.json()["errors"][0]["message"], url

    # A public address passes; changing it to an internal one is refused too.
    subscription_id = await _subscribe(api, "http://opd.kedirikab.go.id/hook", [VERIFIED])
    patched = await api.patch(
        f"/v1/subscriptions/{subscription_id}",
        json={"url": "http://rebound.opd.example/hook"},
        headers=_as(),
    )
    assert patched.status_code == 422 and patched.json()["errors"][0]["field"] == "url"

    # Outside production, unless the setting says otherwise, the check is off.
    app.state.settings = settings
    assert await _subscribe(api, receiver.url, [VERIFIED])


async def test_a_name_rebound_to_a_private_address_is_refused_at_connection_time(
    pool: asyncpg.Pool,
    api: httpx.AsyncClient,
    receiver: Receiver,
    settings: NotifySettings,
    cipher: FieldCipher,
) -> None:
    app: FastAPI = api.app  # type: ignore[attr-defined]
    app.state.settings = settings.model_copy(update={"webhook_allow_private_addresses": False})
    dns = Resolver({"hooks.opd.example": ["203.0.114.20"]})
    app.state.webhook_resolver = dns
    port = receiver.server.port
    subscription_id = await _subscribe(
        api, f"http://hooks.opd.example:{port}/mpp/events", [VERIFIED]
    )
    assert dns.asked == ["hooks.opd.example"]  # checked at registration

    # Then the name's owner points it at the loopback, where a receiver listens.
    dns.table["hooks.opd.example"] = ["203.0.114.20", "127.0.0.1"]
    await _fan_out(pool, _event(VERIFIED))
    dispatcher = WebhookDispatcher(_checking(), cipher, resolver=dns)
    assert await dispatcher.tick(pool) == 1

    assert receiver.count() == 0  # nothing reached it
    [delivery] = await _deliveries(pool, subscription_id)
    # Refused, recorded, not retried: dead at once, counted against the subscription.
    assert delivery["status"] == "dead" and delivery["attempts"] == 1
    expected = "address refused: hooks.opd.example resolves to 127.0.0.1, a loopback address"
    assert delivery["last_error"].startswith(expected)
    [attempt] = await _attempts(pool, delivery["id"])
    assert attempt["outcome"] == "permanent" and attempt["status_code"] is None
    assert attempt["error"] == delivery["last_error"]
    assert (await _subscription(pool, subscription_id))["consecutive_failures"] == 1
    assert await dispatcher.tick(pool) == 0
    listed = await api.get(f"/v1/subscriptions/{subscription_id}/deliveries", headers=_as())
    [item] = listed.json()["items"]
    assert item["status"] == "dead" and item["attempt_log"][0]["error"].startswith(expected)


def _tls_files(folder: Path, name: str) -> tuple[Path, Path]:
    """A certificate for `name` (only) and its key, self-signed."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "receiver.crt", folder / "receiver.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


async def test_the_connection_goes_to_the_checked_address_with_the_name_for_tls_and_host(
    pool: asyncpg.Pool,
    api: httpx.AsyncClient,
    cipher: FieldCipher,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the check on, the name is resolved once by the guard and the
    connection made to that address; TLS still checks the certificate
    against the NAME (SNI) and the Host header carries it."""
    import ssl

    name = "receiver.opd.test"
    cert_file, key_file = _tls_files(tmp_path, name)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    seen: list[dict[str, str]] = []

    def handle(request: Request) -> Response:
        seen.append(dict(request.headers))
        return Response("stored", status=200)

    server.expect_request("/mpp/events", method="POST").respond_with_handler(handle)
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))  # the receiver's CA, for httpx
        dns = Resolver({name: ["127.0.0.1"]})
        url = f"https://{name}:{server.port}/mpp/events"
        subscription_id = await _subscribe(api, url, [VERIFIED])
        await _fan_out(pool, _event(VERIFIED))
        # The check on, the test's loopback let through as a district's intranet would be.
        settings = _checking(webhook_allowed_networks=["127.0.0.1/32"])
        dispatcher = WebhookDispatcher(settings, cipher, resolver=dns)
        assert await dispatcher.tick(pool) == 1
        [delivery] = await _deliveries(pool, subscription_id)
        assert delivery["status"] == "delivered", delivery["last_error"]
        assert dns.asked == [name]
        assert seen[0]["Host"] == f"{name}:{server.port}"
    finally:
        server.clear()
        server.stop()


async def test_standard_webhooks_signature_with_a_stable_id_over_retries(
    pool: asyncpg.Pool, api: httpx.AsyncClient, cipher: FieldCipher, httpserver: HTTPServer
) -> None:
    key = b"standard-webhooks-key-of-32-byte"
    whsec = "whsec_" + base64.b64encode(key).decode()
    received: list[tuple[dict[str, str], bytes]] = []
    statuses = [500, 200]

    def handle(request: Request) -> Response:
        received.append((dict(request.headers), request.get_data()))
        return Response("ok" if statuses[0] == 200 else "trouble", status=statuses.pop(0))

    httpserver.expect_request("/standard", method="POST").respond_with_handler(handle)
    created = await api.post(
        "/v1/subscriptions",
        json={
            "url": httpserver.url_for("/standard"),
            "event_types": [VERIFIED],
            "secret": whsec,
            "signature_scheme": "standard_webhooks",
        },
        headers=_as(),
    )
    assert created.status_code == 201, created.text
    assert created.json()["signature_scheme"] == "standard_webhooks"
    assert whsec not in created.text
    subscription_id = created.json()["id"]
    event = _event(VERIFIED)
    await _fan_out(pool, event)
    dispatcher = WebhookDispatcher(_settings(), cipher)
    assert await dispatcher.tick(pool) == 1

    async def retried() -> bool:
        return await dispatcher.tick(pool) > 0

    await _until(retried)
    assert len(received) == 2
    [delivery] = await _deliveries(pool, subscription_id)
    assert delivery["status"] == "delivered"
    for headers, body in received:
        # Verified as the specification says, from the key bytes of the whsec_ secret.
        message_id, timestamp = headers["Webhook-Id"], headers["Webhook-Timestamp"]
        signed = f"{message_id}.{timestamp}.".encode() + body
        digest = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        assert headers["Webhook-Signature"] == f"v1,{digest}"
        assert abs(time.time() - int(timestamp)) <= 300
        assert "X-Mpp-Signature" not in headers and "X-Mpp-Timestamp" not in headers
        assert headers["X-Mpp-Event-Id"] == str(event.id)
        assert json.loads(body)["id"] == str(event.id)
    # The same message id on the retry: the delivery's own.
    assert {h["Webhook-Id"] for h, _ in received} == {str(delivery["id"])}


async def test_the_signature_scheme_and_its_secret_are_checked(
    pool: asyncpg.Pool, api: httpx.AsyncClient
) -> None:
    whsec = "whsec_" + base64.b64encode(b"k" * 32).decode()
    url = "https://dukcapil.example.go.id/hook"
    plain = {"url": url, "event_types": [VERIFIED]}
    en = {**_as(), "Accept-Language": "en"}
    for body, field_name in [
        ({"secret": SECRET, "signature_scheme": "standard_webhooks"}, "secret"),
        (
            {"secret": "whsec_tooshort-but-24-chars-long", "signature_scheme": "standard_webhooks"},
            "secret",
        ),
        ({"secret": SECRET, "signature_scheme": "svix"}, "signature_scheme"),
    ]:
        answer = await api.post("/v1/subscriptions", json={**plain, **body}, headers=en)
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["field"] == field_name
    refused = await api.post(
        "/v1/subscriptions",
        json={**plain, "secret": SECRET, "signature_scheme": "standard_webhooks"},
        headers=en,
    )
    assert refused.json()["errors"][0]["message"].startswith("must be a Standard Webhooks secret")

    subscription_id = await _subscribe(api, url, [VERIFIED])
    shown = await api.get(f"/v1/subscriptions/{subscription_id}", headers=_as())
    assert shown.json()["signature_scheme"] == "mpp_v1"
    path = f"/v1/subscriptions/{subscription_id}"
    # Switching to standard_webhooks brings a whsec_ secret along.
    alone = await api.patch(path, json={"signature_scheme": "standard_webhooks"}, headers=en)
    assert alone.status_code == 422 and alone.json()["errors"][0]["field"] == "secret"
    switched = await api.patch(
        path, json={"signature_scheme": "standard_webhooks", "secret": whsec}, headers=_as()
    )
    assert (
        switched.status_code == 200 and switched.json()["signature_scheme"] == "standard_webhooks"
    )
    wrong = await api.patch(path, json={"secret": SECRET}, headers=_as())
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "secret"
    back = await api.patch(path, json={"signature_scheme": "mpp_v1"}, headers=_as())
    assert back.status_code == 200 and back.json()["signature_scheme"] == "mpp_v1"
    audit = await pool.fetch(
        "SELECT action, detail FROM audit_log WHERE target_id = $1 ORDER BY id", subscription_id
    )
    assert audit[0]["detail"]["signature_scheme"] == "mpp_v1"
    assert [a["detail"].get("signature_scheme") for a in audit[1:]] == [
        "standard_webhooks",
        "mpp_v1",
    ]
