"""WhatsApp delivery on a real database and a fake Cloud API on loopback:
accepted by the API is only `sent`; the status callbacks make a message
delivered (on the handset), read or dead, once, even when a callback comes
before the acceptance is recorded; outside the 24-hour window a
business-initiated message goes as its approved template, inside as text.
The SMS gateway's delivery reports likewise, when it sends them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from mpp_notify.assistant.payload import StatusReport
from mpp_notify.channels.registry import build_channels
from mpp_notify.delivery.dispatcher import MessageDispatcher
from mpp_notify.handlers import Notifier
from mpp_notify.settings import NotifySettings
from mpp_notify.store import conversations
from mpp_notify.usecases.whatsapp_assistant import record_status_reports
from mpp_shared import clock
from mpp_shared.events import CloudEvent, build_event
from mpp_shared.events.envelope import registered_types
from mpp_shared.events.examples import EXAMPLES
from mpp_shared.pii import FieldCipher, seal_for_notify
from mpp_shared.settings import DEV_SEAL_PUBLIC_KEY
from tests.support.identities import phone as make_phone

SUBMITTED = "mpp.application.submitted.v1"


class CloudApi:
    """The WhatsApp Cloud API and an SMS gateway: every call kept, ids counted."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.received: list[dict[str, Any]] = []
        server.expect_request("/graph/1065/messages").respond_with_handler(self.handle)
        server.expect_request("/sms").respond_with_handler(self.sms)

    def handle(self, request: Request) -> Response:
        self.received.append(json.loads(request.get_data()))
        answer = {"messages": [{"id": f"wamid.T{len(self.received)}"}]}
        return Response(json.dumps(answer), content_type="application/json")

    def sms(self, request: Request) -> Response:
        self.received.append(json.loads(request.get_data()))
        return Response(json.dumps({"message_id": f"gw-{len(self.received)}"}))


@pytest.fixture
def api(httpserver: HTTPServer) -> Iterator[CloudApi]:
    yield CloudApi(httpserver)


def parts(api: CloudApi, **extra: Any) -> tuple[Notifier, MessageDispatcher, FieldCipher]:
    settings = NotifySettings(
        whatsapp_api_url=api.server.url_for("/graph"),
        whatsapp_phone_number_id="1065",
        whatsapp_access_token="wa-token",
        sms_gateway_url=api.server.url_for("/sms"),
        sms_gateway_token="gw-token",
        quiet_hours_start="00:00",
        quiet_hours_end="00:00",
        provider_timeout=2.0,
        **extra,
    )
    cipher = FieldCipher(settings.pii_encryption_key, settings.pii_index_key)
    channels = build_channels(settings)
    return (
        Notifier(settings, cipher, channels),
        MessageDispatcher(settings, cipher, channels),
        cipher,
    )


def submitted(phone: str, channel: str = "whatsapp") -> CloudEvent:
    payload = {**EXAMPLES[SUBMITTED], "application_id": uuid.uuid4()}
    contact = {"phone": phone, "language": "id", "preferred_channel": channel}
    payload["contact_sealed"] = seal_for_notify(contact, DEV_SEAL_PUBLIC_KEY)
    data = registered_types()[SUBMITTED](**payload)
    return build_event(data, source="/mpp/test", subject=str(payload["application_id"]))


async def queue(pool: asyncpg.Pool, notifier: Notifier, event: CloudEvent) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await notifier.handle(conn, event)


async def message(pool: asyncpg.Pool) -> asyncpg.Record:
    row: asyncpg.Record = await pool.fetchrow("SELECT * FROM delivery_log")
    return row


async def events(pool: asyncpg.Pool, event_type: str) -> int:
    return int(
        await pool.fetchval(
            "SELECT count(*) FROM outbox WHERE convert_from(payload, 'UTF8')::jsonb->>'type' = $1",
            event_type,
        )
    )


def report(wamid: str, status: str, error: str | None = None) -> StatusReport:
    return StatusReport(wamid, status, clock.now(), error)


async def test_delivered_means_on_the_handset(notify_pool: asyncpg.Pool, api: CloudApi) -> None:
    notifier, dispatcher, _ = parts(api)
    await queue(notify_pool, notifier, submitted(make_phone("0812").e164))
    assert await dispatcher.dispatch_once(notify_pool) == 1

    sent = await message(notify_pool)
    assert (sent["status"], sent["provider_message_id"]) == ("sent", "wamid.T1")
    assert sent["sent_at"] is not None and sent["delivered_at"] is None
    assert await events(notify_pool, "mpp.notification.delivered.v1") == 0

    assert (
        await record_status_reports(notify_pool, "whatsapp_cloud", [report("wamid.T1", "sent")])
        == 0
    )
    assert (await message(notify_pool))["status"] == "sent"
    delivered = [report("wamid.T1", "delivered")]
    assert await record_status_reports(notify_pool, "whatsapp_cloud", delivered) == 1
    assert await record_status_reports(notify_pool, "whatsapp_cloud", delivered) == 0  # retried
    await record_status_reports(notify_pool, "whatsapp_cloud", [report("wamid.T1", "read")])
    done = await message(notify_pool)
    assert done["status"] == "delivered" and done["delivered_at"] and done["read_at"]
    assert await events(notify_pool, "mpp.notification.delivered.v1") == 1
    # A report about a message of another provider, or none, changes nothing.
    assert await record_status_reports(notify_pool, "sms_gateway", delivered) == 0
    assert await record_status_reports(notify_pool, "whatsapp_cloud", [report("x", "read")]) == 0


async def test_a_callback_before_the_acceptance_is_applied_after_it(
    notify_pool: asyncpg.Pool, api: CloudApi
) -> None:
    notifier, dispatcher, _ = parts(api)
    await queue(notify_pool, notifier, submitted(make_phone("0812").e164))
    # Meta called back before the dispatcher recorded the API's answer.
    await record_status_reports(notify_pool, "whatsapp_cloud", [report("wamid.T1", "delivered")])
    await dispatcher.dispatch_once(notify_pool)
    assert (await message(notify_pool))["status"] == "delivered"
    assert await events(notify_pool, "mpp.notification.delivered.v1") == 1


async def test_a_failed_callback_makes_the_message_dead(
    notify_pool: asyncpg.Pool, api: CloudApi
) -> None:
    notifier, dispatcher, _ = parts(api)
    await queue(notify_pool, notifier, submitted(make_phone("0812").e164))
    await dispatcher.dispatch_once(notify_pool)
    failed = report("wamid.T1", "failed", "WhatsApp error 131026: Message undeliverable")
    assert await record_status_reports(notify_pool, "whatsapp_cloud", [failed]) == 1
    dead = await message(notify_pool)
    assert dead["status"] == "dead" and "131026" in dead["last_error"]
    assert await events(notify_pool, "mpp.notification.dead.v1") == 1
    # A late "delivered" does not bring it back (a supervisor may resend it).
    await record_status_reports(notify_pool, "whatsapp_cloud", [report("wamid.T1", "delivered")])
    assert (await message(notify_pool))["status"] == "dead"


async def test_outside_the_window_a_template_inside_it_text(
    notify_pool: asyncpg.Pool, api: CloudApi
) -> None:
    notifier, dispatcher, cipher = parts(api)
    phone = make_phone("0812").e164
    event = submitted(phone)
    await queue(notify_pool, notifier, event)
    await dispatcher.dispatch_once(notify_pool)  # the citizen never wrote: no window
    [first] = api.received
    tracking = event.data["tracking_code"]
    assert first["type"] == "template" and "text" not in first
    assert first["template"]["name"] == "mpp_application_submitted"
    assert first["template"]["language"] == {"code": "id"}
    [body] = first["template"]["components"]
    assert [p["text"] for p in body["parameters"]][1] == tracking

    index = cipher.blind_index(f"whatsapp:{phone}", context="recipient")

    async def wrote(ago: timedelta) -> None:
        async with notify_pool.acquire() as conn:
            await conn.execute("DELETE FROM wa_conversations")
            await conversations.save(
                conn,
                sender_indexes=[index],
                sender_enc=b"x",
                language="id",
                state="start",
                menu=[],
                at=clock.now() - ago,
            )

    await wrote(timedelta(hours=2))  # inside the window: the text
    await queue(notify_pool, notifier, submitted(phone))
    await dispatcher.dispatch_once(notify_pool)
    assert (
        api.received[1]["type"] == "text" and "sudah kami terima" in api.received[1]["text"]["body"]
    )

    await wrote(timedelta(hours=25))  # closed again
    await queue(notify_pool, notifier, submitted(phone))
    await dispatcher.dispatch_once(notify_pool)
    assert api.received[2]["type"] == "template"


async def test_a_configured_template_and_sms_delivery_reports(
    notify_pool: asyncpg.Pool, api: CloudApi
) -> None:
    templates = {
        SUBMITTED: {
            "name": "permohonan_diterima",
            "languages": {"id": "id_ID"},
            "parameters": ["tracking_code"],
        }
    }
    notifier, dispatcher, _ = parts(api, whatsapp_templates=templates, sms_delivery_reports=True)
    event = submitted(make_phone("0812").e164)
    await queue(notify_pool, notifier, event)
    await dispatcher.dispatch_once(notify_pool)
    [sent] = api.received
    assert sent["template"]["name"] == "permohonan_diterima"
    assert sent["template"]["language"] == {"code": "id_ID"}
    assert sent["template"]["components"][0]["parameters"] == [
        {"type": "text", "text": event.data["tracking_code"]}
    ]

    await notify_pool.execute("DELETE FROM delivery_log")
    await queue(notify_pool, notifier, submitted(make_phone("0812").e164, channel="sms"))
    await dispatcher.dispatch_once(notify_pool)
    by_sms = await message(notify_pool)
    assert (by_sms["status"], by_sms["provider_message_id"]) == ("sent", "gw-2")
    await record_status_reports(notify_pool, "sms_gateway", [report("gw-2", "delivered")])
    assert (await message(notify_pool))["status"] == "delivered"
