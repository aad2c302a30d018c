"""Notify's message pipeline on a real database and a real SMS gateway on
loopback: queued once per event, held in quiet hours, retried with backoff,
dead when refused, and an interrupted send picked up again."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from mpp_notify.channels.registry import build_channels
from mpp_notify.delivery.dispatcher import MessageDispatcher
from mpp_notify.handlers import Notifier
from mpp_notify.settings import NotifySettings
from mpp_notify.store import delivery_log
from mpp_shared.events import CloudEvent, build_event
from mpp_shared.events.envelope import registered_types
from mpp_shared.events.examples import EXAMPLES
from mpp_shared.pii import FieldCipher, seal_for_notify
from mpp_shared.settings import DEV_SEAL_PUBLIC_KEY
from tests.support.clock import HandClock

PHONE = "+6281234567890"
# 22:30 WIB on a Monday: quiet hours (21:00–06:00 WIB).
NIGHT = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)
MORNING = datetime(2026, 11, 23, 23, 0, 1, tzinfo=UTC)  # 06:00:01 WIB


class Gateway:
    """The SMS gateway: answers each call with the next scripted status (200 after)."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.statuses: list[int] = []
        self.received: list[dict[str, Any]] = []
        server.expect_request("/send", method="POST").respond_with_handler(self.handle)

    def handle(self, request: Request) -> Response:
        doc = json.loads(request.get_data())
        status = self.statuses.pop(0) if self.statuses else 200
        if status == 200:
            self.received.append(doc)
            return Response(json.dumps({"message_id": f"gw-{len(self.received)}"}))
        return Response(json.dumps({"error": "scripted"}), status=status)


@pytest.fixture
def gateway(httpserver: HTTPServer) -> Iterator[Gateway]:
    yield Gateway(httpserver)


def settings_for(gateway: Gateway, **extra: Any) -> NotifySettings:
    return NotifySettings(
        sms_gateway_url=gateway.server.url_for("/send"),
        delivery_backoff_base=10.0,
        delivery_max_attempts=3,
        provider_timeout=2.0,
        **extra,
    )


def citizen_event(event_type: str, application_id: uuid.UUID, **changes: Any) -> CloudEvent:
    payload = {**EXAMPLES[event_type], "application_id": application_id, **changes}
    if "contact_sealed" in registered_types()[event_type].model_fields:
        contact = {"phone": PHONE, "language": "id", "preferred_channel": "sms"}
        payload["contact_sealed"] = seal_for_notify(contact, DEV_SEAL_PUBLIC_KEY)
    data = registered_types()[event_type](**payload)
    return build_event(data, source="/mpp/test", subject=str(application_id))


async def handle(pool: asyncpg.Pool, notifier: Notifier, event: CloudEvent) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await notifier.handle(conn, event)


def parts(gateway: Gateway, clock: HandClock, **extra: Any) -> tuple[Notifier, MessageDispatcher]:
    settings = settings_for(gateway, **extra)
    cipher = FieldCipher(settings.pii_encryption_key, settings.pii_index_key)
    channels = build_channels(settings)
    return (
        Notifier(settings, cipher, channels, clock=clock),
        MessageDispatcher(settings, cipher, channels, clock=clock),
    )


async def test_quiet_hours_hold_a_reminder_until_the_morning(
    notify_pool: asyncpg.Pool, gateway: Gateway
) -> None:
    clock = HandClock(NIGHT)
    notifier, dispatcher = parts(gateway, clock)
    app_id = uuid.uuid4()
    await handle(notify_pool, notifier, citizen_event("mpp.application.submitted.v1", app_id))
    await handle(notify_pool, notifier, citizen_event("mpp.document.pickup_reminder.v1", app_id))

    assert await dispatcher.dispatch_once(notify_pool) == 1  # the receipt goes at night
    assert [m["to"] for m in gateway.received] == [PHONE]
    held = await notify_pool.fetchrow(
        "SELECT status, next_attempt_at FROM delivery_log WHERE source_event_type = $1",
        "mpp.document.pickup_reminder.v1",
    )
    assert held["status"] == "held"
    assert held["next_attempt_at"] == datetime(2026, 11, 23, 23, 0, tzinfo=UTC)  # 06:00 WIB

    clock.at = NIGHT + timedelta(hours=3)
    assert await dispatcher.dispatch_once(notify_pool) == 0
    clock.at = MORNING
    assert await dispatcher.dispatch_once(notify_pool) == 1
    assert len(gateway.received) == 2 and "Pengingat" in gateway.received[1]["text"]


async def test_at_most_one_message_per_event_channel_and_recipient(
    notify_pool: asyncpg.Pool, gateway: Gateway
) -> None:
    notifier, dispatcher = parts(gateway, HandClock(MORNING))
    event = citizen_event("mpp.application.submitted.v1", uuid.uuid4())
    for _ in range(3):  # redelivered by the broker
        await handle(notify_pool, notifier, event)
    assert await dispatcher.dispatch_once(notify_pool) == 1
    assert await dispatcher.dispatch_once(notify_pool) == 0
    assert len(gateway.received) == 1
    recorded = await notify_pool.fetchval(
        "SELECT count(*) FROM outbox WHERE topic = 'mpp.notifications' "
        "AND convert_from(payload, 'UTF8')::jsonb->>'type' = 'mpp.notification.recorded.v1'"
    )
    assert recorded == 1


async def test_transient_failures_back_off_then_die_after_the_last_attempt(
    notify_pool: asyncpg.Pool, gateway: Gateway
) -> None:
    clock = HandClock(MORNING)
    notifier, dispatcher = parts(gateway, clock)
    await handle(notify_pool, notifier, citizen_event("mpp.application.submitted.v1", uuid.uuid4()))
    gateway.statuses = [503, 503, 503]

    assert await dispatcher.dispatch_once(notify_pool) == 1
    row = await notify_pool.fetchrow("SELECT status, next_attempt_at FROM delivery_log")
    wait = (row["next_attempt_at"] - clock.at).total_seconds()
    assert row["status"] == "retrying" and 5.0 <= wait <= 10.0  # base 10 s, jittered
    assert await dispatcher.dispatch_once(notify_pool) == 0  # not before its time

    clock.at += timedelta(seconds=11)
    assert await dispatcher.dispatch_once(notify_pool) == 1
    row = await notify_pool.fetchrow("SELECT status, next_attempt_at FROM delivery_log")
    wait = (row["next_attempt_at"] - clock.at).total_seconds()
    assert row["status"] == "retrying" and 10.0 <= wait <= 20.0  # doubled

    clock.at += timedelta(seconds=21)
    assert await dispatcher.dispatch_once(notify_pool) == 1
    row = await notify_pool.fetchrow("SELECT status, attempts, last_error FROM delivery_log")
    assert row["status"] == "dead" and row["attempts"] == 3 and "503" in row["last_error"]
    outcomes = await notify_pool.fetch(
        "SELECT outcome, status_code FROM delivery_attempts ORDER BY attempt"
    )
    assert [(o["outcome"], o["status_code"]) for o in outcomes] == [("transient", 503)] * 3
    dead = await notify_pool.fetchval(
        "SELECT count(*) FROM outbox WHERE convert_from(payload, 'UTF8')::jsonb->>'type' = 'mpp.notification.dead.v1'"
    )
    assert dead == 1 and gateway.received == []


async def test_a_send_interrupted_by_a_crash_is_tried_again_under_the_same_id(
    notify_pool: asyncpg.Pool, gateway: Gateway
) -> None:
    clock = HandClock(MORNING)
    notifier, dispatcher = parts(gateway, clock, delivery_lease_seconds=30.0)
    await handle(notify_pool, notifier, citizen_event("mpp.application.submitted.v1", uuid.uuid4()))
    # A dispatcher claimed it and died before recording the outcome.
    notification_id = await notify_pool.fetchval(
        "UPDATE delivery_log SET status = 'sending', attempts = 1, "
        "lease_until = $1::timestamptz + interval '30 seconds' RETURNING id",
        clock.at,
    )
    assert await dispatcher.dispatch_once(notify_pool) == 0  # its lease still holds

    clock.at += timedelta(seconds=31)
    assert await dispatcher.dispatch_once(notify_pool) == 1
    assert [m["reference"] for m in gateway.received] == [str(notification_id)]
    outcomes = await notify_pool.fetch(
        "SELECT attempt, outcome FROM delivery_attempts ORDER BY attempt"
    )
    assert [(o["attempt"], o["outcome"]) for o in outcomes] == [
        (1, "interrupted"),
        (2, "delivered"),
    ]
    delivered = await notify_pool.fetchrow("SELECT status, attempts FROM delivery_log")
    assert delivered["status"] == "delivered" and delivered["attempts"] == 2


async def test_messages_of_one_batch_are_listed_in_the_order_of_their_events(
    notify_pool: asyncpg.Pool, gateway: Gateway
) -> None:
    """The consumer handles a partition's batch in one transaction; the
    citizen's messages still list in the order their events happened."""
    notifier, _ = parts(gateway, HandClock(MORNING))
    app_id = uuid.uuid4()
    steps = [
        "mpp.application.submitted.v1",
        "mpp.application.verified.v1",
        "mpp.document.ready_for_pickup.v1",
        "mpp.document.picked_up.v1",
    ]
    async with notify_pool.acquire() as conn, conn.transaction():
        await notifier.handle(conn, citizen_event(steps[0], app_id))
        for step in steps[1:]:
            await notifier.handle(conn, citizen_event(step, app_id))
    async with notify_pool.acquire() as conn:
        listed = await delivery_log.find_page(
            conn,
            application_id=app_id,
            complaint_id=None,
            tracking_code=None,
            status=None,
            channel=None,
            limit=10,
            offset=0,
        )
    assert [row["source_event_type"] for row in listed] == steps
