"""Messages reach citizens on their channel, in their language, exactly once:
notify talks to real servers on loopback standing in for the SMS gateway, the
WhatsApp Cloud API and the SMTP server."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from aiokafka import AIOKafkaProducer

from mpp_devstack.stack import Stack
from mpp_shared.events import build_event
from mpp_shared.events.schemas import DocumentPickupReminderV1
from mpp_shared.events.topics import Topic
from tests.conftest import Servers
from tests.support.auth import auth
from tests.support.clock import ServiceClock
from tests.support.identities import email
from tests.support.identities import nik as new_nik
from tests.support.identities import phone as make_phone
from tests.support.opd import OutsideReader
from tests.support.polling import eventually
from tests.support.providers import Providers


def new_phone() -> tuple[str, str]:
    """A valid Telkomsel number as typed at the desk, and its E.164 form."""
    made = make_phone("0812")
    return made.typed, made.e164


def application(phone: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "service_code": "ktp_el",
        "nik": new_nik(),
        "full_name": "Siti Rahayu",
        "channel": "mpp_desk",
        "pickup_point": "MPP",
        "documents": ["kartu_keluarga", "bukti_usia_17"],
        **({"phone": phone} if phone else {}),
        **extra,
    }


async def submit(stack: Stack, http: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    r = await http.post(
        f"{stack.services['intake'].url}/v1/applications", json=body, headers=auth("frontdesk")
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def log_of(
    stack: Stack, http: httpx.AsyncClient, application_id: str, want: int = 1
) -> list[dict[str, Any]]:
    async def found() -> list[dict[str, Any]] | None:
        r = await http.get(
            f"{stack.services['notify'].url}/v1/notifications",
            params={"application_id": application_id},
            headers=auth("supervisor"),
        )
        items = r.json()["items"]
        return items if len(items) >= want else None

    return list(await eventually(found))


async def settled(
    stack: Stack, http: httpx.AsyncClient, notification_id: str, status: str
) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        r = await http.get(
            f"{stack.services['notify'].url}/v1/notifications/{notification_id}",
            headers=auth("supervisor"),
        )
        doc = r.json()
        return doc if doc["status"] == status else None

    return dict(await eventually(check))


async def test_each_channel_carries_the_message_in_the_citizens_language(
    stack: Stack, http: httpx.AsyncClient, providers: Providers, opd_reader: OutsideReader
) -> None:
    sms_phone, sms_e164 = new_phone()
    wa_phone, wa_e164 = new_phone()
    mailbox = email()

    by_sms = await submit(stack, http, application(sms_phone, preferred_channel="sms"))
    by_wa = await submit(
        stack, http, application(wa_phone, preferred_channel="whatsapp", language="en")
    )
    by_mail = await submit(
        stack, http, application(email=mailbox, preferred_channel="email", language="en")
    )

    [sms] = await eventually(lambda: providers.to(sms_e164))
    assert by_sms["tracking_code"] in sms.body and "sudah kami terima" in sms.body
    assert sms.headers["Authorization"] == "Bearer gateway-test-token"
    # The citizen never wrote to the district's WhatsApp: outside the 24-hour
    # window the message goes as its approved template, in their language.
    [wa] = await eventually(lambda: providers.to(wa_e164))
    assert wa.template is not None and wa.template["name"] == "mpp_application_submitted"
    assert wa.template["language"] == {"code": "en"} and by_wa["tracking_code"] in wa.body
    assert wa.headers["Authorization"] == "Bearer whatsapp-test-token"
    [mail] = await eventually(lambda: providers.to(mailbox))
    assert by_mail["tracking_code"] in mail.body and "We have received" in mail.body
    assert mail.subject and by_mail["tracking_code"] in mail.subject

    for app, channel, provider in (
        (by_sms, "sms", "sms_gateway"),
        (by_wa, "whatsapp", "whatsapp_cloud"),
        (by_mail, "email", "smtp"),
    ):
        [logged] = await log_of(stack, http, app["id"])
        done = await settled(stack, http, logged["id"], "delivered")
        assert done["channel"] == channel and done["provider"] == provider
        assert done["provider_message_id"] and done["attempts"] == 1
        assert [a["outcome"] for a in done["attempts_log"]] == ["delivered"]
        assert "*" in done["recipient_masked"]
    # The gateway was given the notification id as its reference.
    [logged_sms] = await log_of(stack, http, by_sms["id"])
    assert sms.reference == logged_sms["id"]

    # Other OPD systems see that each was delivered, never to whom in clear.
    ids = {by_sms["id"], by_wa["id"], by_mail["id"]}
    delivered = await eventually(
        lambda: (
            found
            if len(
                found := opd_reader.events(
                    lambda d: (
                        d["type"] == "mpp.notification.delivered.v1"
                        and d["data"].get("application_id") in ids
                    )
                )
            )
            == 3
            else None
        )
    )
    assert {d["data"]["provider"] for d in delivered} == {"sms_gateway", "whatsapp_cloud", "smtp"}
    for message in opd_reader.messages:
        for secret in (sms_e164, wa_e164, wa_e164[1:], mailbox, sms_phone, wa_phone):
            assert secret.encode() not in message.value, f"{secret} leaked on {message.topic}"


async def test_a_gateway_error_is_retried_and_then_delivered(
    stack: Stack, http: httpx.AsyncClient, providers: Providers
) -> None:
    phone, e164 = new_phone()
    providers.script(e164, 500)

    app = await submit(stack, http, application(phone))

    [message] = await eventually(lambda: providers.to(e164))
    assert app["tracking_code"] in message.body
    [logged] = await log_of(stack, http, app["id"])
    done = await settled(stack, http, logged["id"], "delivered")
    assert done["attempts"] == 2
    assert [(a["outcome"], a["status_code"]) for a in done["attempts_log"]] == [
        ("transient", 500),
        ("delivered", 200),
    ]
    assert providers.refused.count((e164, 500)) == 1


async def test_a_refused_message_is_not_retried_and_a_supervisor_can_resend_it(
    stack: Stack, http: httpx.AsyncClient, providers: Providers, opd_reader: OutsideReader
) -> None:
    phone, e164 = new_phone()
    providers.script(e164, 400, 400, 400)

    app = await submit(stack, http, application(phone))

    [logged] = await log_of(stack, http, app["id"])
    dead = await settled(stack, http, logged["id"], "dead")
    assert dead["attempts"] == 1 and "400" in dead["last_error"]
    assert [(a["outcome"], a["status_code"]) for a in dead["attempts_log"]] == [("permanent", 400)]
    dead_events = await eventually(
        lambda: opd_reader.events(
            lambda d: (
                d["type"] == "mpp.notification.dead.v1"
                and d["data"]["notification_id"] == logged["id"]
            )
        )
    )
    assert dead_events[0]["data"]["error"]
    assert e164 not in json.dumps(dead_events)
    # Still refused once, not retried in the meantime.
    assert providers.refused.count((e164, 400)) == 1 and providers.to(e164) == []
    r = await http.get(
        f"{stack.services['notify'].url}/v1/notifications",
        params={"status": "dead", "limit": 500},
        headers=auth("supervisor"),
    )
    assert logged["id"] in {m["id"] for m in r.json()["items"]}

    # Only a supervisor resends; the gateway accepts it this time.
    providers.script(e164)
    url = f"{stack.services['notify'].url}/v1/notifications/{logged['id']}/resend"
    refused = await http.post(url, headers=auth("frontdesk"))
    assert refused.status_code == 403
    resent = await http.post(url, headers=auth("supervisor"))
    assert resent.status_code == 200, resent.text
    done = await settled(stack, http, logged["id"], "delivered")
    assert done["resends"] == 1 and done["attempts"] == 2
    [message] = providers.to(e164)
    assert app["tracking_code"] in message.body
    again = await http.post(url, headers=auth("supervisor"))
    assert again.status_code == 200  # delivered messages may be resent on request

    # The recipient's log, searched by the number as the citizen gives it.
    found = await http.post(
        f"{stack.services['notify'].url}/v1/notifications/search",
        json={"recipient": phone},
        headers=auth("frontdesk"),
    )
    assert found.status_code == 200, found.text
    assert [m["id"] for m in found.json()["items"]] == [logged["id"]]
    assert e164 not in found.text
    bad = await http.post(
        f"{stack.services['notify'].url}/v1/notifications/search",
        json={"recipient": "bukan nomor"},
        headers=auth("frontdesk"),
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "recipient"


async def _republish(servers: Servers, record: Any) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=servers.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            record.topic, value=record.value, key=record.key, headers=list(record.headers)
        )
    finally:
        await producer.stop()


async def test_one_message_per_event_after_redelivery_and_a_notify_restart(
    stack: Stack,
    http: httpx.AsyncClient,
    providers: Providers,
    opd_reader: OutsideReader,
    servers: Servers,
) -> None:
    phone, e164 = new_phone()
    app = await submit(stack, http, application(phone))
    await eventually(lambda: providers.to(e164))

    def submitted_record() -> Any:
        for record in list(opd_reader.messages):
            doc = json.loads(record.value)
            if (
                doc.get("type") == "mpp.application.submitted.v1"
                and doc["data"]["application_id"] == app["id"]
            ):
                return record
        return None

    record = await eventually(submitted_record)
    await _republish(servers, record)  # the broker hands the same event out again
    stack.restart_service("notify")
    await _republish(servers, record)
    # A later event of the same request, on the same partition, is handled
    # after both repeats: once its message is out, the repeats were absorbed.
    verified = await http.post(
        f"{stack.services['intake'].url}/v1/applications/{app['id']}/verification",
        json={"decision": "verified"},
        headers=auth("verifier"),
    )
    assert verified.status_code == 200, verified.text
    await eventually(lambda: len(providers.to(e164)) >= 2)

    bodies = [m.body for m in providers.to(e164)]
    assert len(bodies) == 2, bodies
    assert sum("sudah kami terima" in b for b in bodies) == 1
    log = await log_of(stack, http, app["id"], want=2)
    assert sorted(m["source_event_type"] for m in log) == [
        "mpp.application.submitted.v1",
        "mpp.application.verified.v1",
    ]


async def test_quiet_hours_hold_a_reminder_but_not_the_counter_receipt(
    stack: Stack,
    http: httpx.AsyncClient,
    providers: Providers,
    servers: Servers,
    service_clock: ServiceClock,
) -> None:
    # The district's quiet hours (21:00-06:00 WIB, notify's defaults), and the
    # whole stack's clock at 22:00 WIB of the next evening.
    wib = ZoneInfo("Asia/Jakarta")
    notify = stack.services["notify"]
    normal = dict(notify.env)
    notify.env["QUIET_HOURS_START"] = "21:00"
    notify.env["QUIET_HOURS_END"] = "06:00"
    evening = service_clock.now().astimezone(wib).date() + timedelta(days=1)
    service_clock.travel_to(service_clock.local(evening, 22, 0))
    now = service_clock.now()
    stack.restart_service("notify")
    try:
        phone, e164 = new_phone()
        app = await submit(stack, http, application(phone))
        # The receipt answers what the citizen just did: sent at once.
        [receipt] = await eventually(lambda: providers.to(e164))
        assert app["tracking_code"] in receipt.body

        reminder = DocumentPickupReminderV1(
            job_id=app["id"],
            application_id=app["id"],
            tracking_code=app["tracking_code"],
            service_code="ktp_el",
            state="ready_for_pickup",
            version=4,
            pickup_point="MPP",
            occurred_at=now,
            reminder=1,
            window_ends_at=now + timedelta(days=14),
        )
        event = build_event(reminder, source="/mpp/documents", subject=app["id"])
        producer = AIOKafkaProducer(bootstrap_servers=servers.bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(
                Topic.DOCUMENTS.value, value=event.to_bytes(), key=app["id"].encode()
            )
        finally:
            await producer.stop()

        log = await log_of(stack, http, app["id"], want=2)
        held = next(m for m in log if m["source_event_type"] == reminder.event_type)
        assert held["status"] == "held" and held["urgent"] is False
        release = datetime.fromisoformat(held["next_attempt_at"]).astimezone(wib)
        assert release == service_clock.local(evening + timedelta(days=1), 6, 0)
        assert re.search("Pengingat", held["body"])
        assert len(providers.to(e164)) == 1  # the reminder waits for the morning

        # Morning comes: the reminder goes out, once.
        service_clock.travel_to(release + timedelta(seconds=1))
        await settled(stack, http, held["id"], "delivered")
        assert len(providers.to(e164)) == 2
    finally:
        notify.env.clear()
        notify.env.update(normal)
        stack.restart_service("notify")
