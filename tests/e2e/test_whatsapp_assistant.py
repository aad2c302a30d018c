"""The WhatsApp assistant on the running stack: Meta's signed webhook calls
(the Cloud API's real JSON shape) reach notify, the answers go out through
the fake Cloud API, the catalog and tracking state come from intake and the
complaint lands in complaints, by their internal HTTP routes; status
callbacks mark messages delivered; business-initiated messages outside the
24-hour window go as templates, inside it as text."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import httpx

from mpp_devstack.stack import Stack
from mpp_shared import clock
from tests.support.auth import auth
from tests.support.identities import nik as new_nik
from tests.support.identities import phone as make_phone
from tests.support.polling import eventually
from tests.support.providers import (
    SMS_REPORT_TOKEN,
    WHATSAPP_VERIFY_TOKEN,
    Providers,
    SentMessage,
    inbound_payload,
    signed_headers,
    status_payload,
)

COMPLAINT_CODE = re.compile(r"\bP[0-9A-Z]{9}\b")


async def say(
    stack: Stack, http: httpx.AsyncClient, sender: str, text: str, message_id: str | None = None
) -> tuple[str, dict[str, Any]]:
    """Meta delivering `text` from `sender`, signed, sent now on the stack's
    clock (other tests move it); the message id and notify's answer."""
    message_id = message_id or f"wamid.IN{uuid.uuid4().hex}"
    sent = int(clock.now().timestamp())
    body = json.dumps(inbound_payload(sender, text, message_id, timestamp=sent)).encode()
    r = await http.post(webhook(stack), content=body, headers=signed_headers(body))
    assert r.status_code == 200, r.text
    return message_id, dict(r.json())


def webhook(stack: Stack) -> str:
    return f"{stack.services['notify'].url}/v1/whatsapp/webhook"


async def replies(providers: Providers, sender: str, count: int) -> list[SentMessage]:
    """The sender's messages, once there are `count` (never more: checked by the caller)."""
    return list(await eventually(lambda: m if len(m := providers.to(sender)) >= count else None))


async def submit(http: httpx.AsyncClient, stack: Stack, phone: str) -> dict[str, Any]:
    r = await http.post(
        f"{stack.services['intake'].url}/v1/applications",
        json={
            "service_code": "ktp_el",
            "nik": new_nik(),
            "full_name": "Siti Rahayu",
            "channel": "mpp_desk",
            "pickup_point": "MPP",
            "documents": ["kartu_keluarga", "bukti_usia_17"],
            "phone": phone,
            "preferred_channel": "whatsapp",
        },
        headers=auth("frontdesk"),
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_webhook_verification(stack: Stack, http: httpx.AsyncClient) -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": WHATSAPP_VERIFY_TOKEN}
    ok = await http.get(webhook(stack), params={**params, "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.text == "1158201444"
    wrong = await http.get(
        webhook(stack), params={**params, "hub.verify_token": "guess", "hub.challenge": "1"}
    )
    assert wrong.status_code == 403


async def test_sms_delivery_reports_need_the_gateways_token(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    url = f"{stack.services['notify'].url}/v1/providers/sms/reports"
    report = {"message_id": "gw-unknown", "status": "delivered"}
    for headers in ({}, {"Authorization": "Bearer guessed"}):
        refused = await http.post(url, json=report, headers=headers)
        assert refused.status_code == 401, refused.text
    known = await http.post(
        url, json=report, headers={"Authorization": f"Bearer {SMS_REPORT_TOKEN}"}
    )
    assert known.status_code == 200 and known.json() == {"changed": 0}


async def test_a_conversation_from_halo_to_a_complaint(
    stack: Stack, http: httpx.AsyncClient, providers: Providers
) -> None:
    sender = make_phone("0812").e164
    intake = stack.services["intake"].url
    catalog = (await http.get(f"{intake}/v1/services")).json()["items"]

    halo_id, answer = await say(stack, http, sender, "halo")
    assert answer["answered"] == 1
    [menu] = await replies(providers, sender, 1)
    for number, service in enumerate(catalog, start=1):
        assert f"{number}. {service['name']}" in menu.body
    assert menu.template is None  # inside the window the sender just opened: text

    # WhatsApp retries the webhook: the same message id gets no second reply.
    _, again = await say(stack, http, sender, "halo", message_id=halo_id)
    assert again["answered"] == 0
    # Unsigned or wrongly signed calls are refused and answer nothing.
    forged = json.dumps(inbound_payload(sender, "halo", f"wamid.IN{uuid.uuid4().hex}")).encode()
    for headers in (
        {"Content-Type": "application/json"},
        signed_headers(forged, secret="not-the-app-secret"),
        signed_headers(forged + b" "),
    ):
        refused = await http.post(webhook(stack), content=forged, headers=headers)
        assert refused.status_code == 401, refused.text

    await say(stack, http, sender, "2")
    [_, details] = await replies(providers, sender, 2)
    second = catalog[1]
    assert f"*{second['name']}*" in details.body
    assert second["requirements"][0]["name"] in details.body
    assert "Rp 0" in details.body and second["sla_text"] in details.body

    application = await submit(http, stack, make_phone("0813").typed)
    code = application["tracking_code"]
    tracked = (await http.get(f"{intake}/v1/track/{code}")).json()
    await say(stack, http, sender, f"status {code}")
    state = (await replies(providers, sender, 3))[2]
    assert code in state.body and tracked["status_label"] in state.body
    assert tracked["next_step"] in state.body

    await say(stack, http, sender, f"pengaduan antrean di loket KTP terlalu lama {code}")
    filed = (await replies(providers, sender, 4))[3]
    [complaint_code] = set(COMPLAINT_CODE.findall(filed.body))  # the code, in its link too
    assert len(providers.to(sender)) == 4  # one reply per message, nothing for the refused

    # The complaint is in complaints, filed over WhatsApp and linked to the request.
    notify = stack.services["notify"].url
    logged = await http.post(
        f"{notify}/v1/notifications/search", json={"recipient": sender}, headers=auth("frontdesk")
    )
    assert logged.status_code == 200, logged.text
    [reply] = [m for m in logged.json()["items"] if m["complaint_id"]]  # none for "filed"
    complaint = await http.get(
        f"{stack.services['complaints'].url}/v1/complaints/{reply['complaint_id']}",
        headers=auth("complaint_officer"),
    )
    assert complaint.status_code == 200, complaint.text
    assert complaint.json()["complaint_code"] == complaint_code
    assert complaint.json()["channel"] == "whatsapp"
    assert complaint.json()["tracking_code"] == code

    # Meta's status callback marked the menu delivered (on the handset).
    menu_log = next(m for m in logged.json()["items"] if m["body"] == menu.body)

    async def delivered() -> dict[str, Any] | None:
        r = await http.get(
            f"{notify}/v1/notifications/{menu_log['id']}", headers=auth("supervisor")
        )
        doc: dict[str, Any] = r.json()
        return doc if doc["status"] == "delivered" else None

    done = await eventually(delivered)
    assert done["provider_message_id"] == menu.message_id
    assert (menu.message_id, "delivered", 200) in providers.callbacks_posted
    body = json.dumps(status_payload(str(menu.message_id), "read", sender)).encode()
    read = await http.post(webhook(stack), content=body, headers=signed_headers(body))
    assert read.status_code == 200
    seen = await http.get(f"{notify}/v1/notifications/{menu_log['id']}", headers=auth("supervisor"))
    assert seen.json()["read_at"] is not None and seen.json()["status"] == "delivered"

    # Inside the window a status message about the sender's own request is text.
    own = await submit(http, stack, sender)
    told = (await replies(providers, sender, 5))[4]
    assert told.template is None and own["tracking_code"] in told.body


async def test_outside_the_window_status_messages_go_as_templates(
    stack: Stack, http: httpx.AsyncClient, providers: Providers
) -> None:
    phone = make_phone("0814")
    application = await submit(http, stack, phone.typed)
    [message] = await replies(providers, phone.e164, 1)
    assert message.template is not None
    assert message.template["name"] == "mpp_application_submitted"
    assert message.template["language"] == {"code": "id"}
    parameters = [p["text"] for p in message.template["components"][0]["parameters"]]
    assert parameters[-1] == application["tracking_code"]
