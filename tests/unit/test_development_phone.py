"""The development phone of `make run` (mpp_devstack.phone) speaks to notify
the way notify reads it: notify's own SMS and WhatsApp clients send through
it, and what it posts to the webhook (the `delivered` callbacks, the messages
typed in its form) passes notify's signature check and payload parser.
(tests/e2e/test_make_run.py tries it with the whole stack.)"""

from __future__ import annotations

import json
import queue
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from mpp_devstack.phone import PHONE_NUMBER_ID, DevelopmentPhone, normalise_number
from mpp_notify.assistant.payload import parse
from mpp_notify.assistant.signature import signature_valid
from mpp_notify.channels.base import DeliveryError, OutgoingMessage
from mpp_notify.channels.sms import SmsGateway
from mpp_notify.channels.whatsapp import WhatsAppCloud, template_payload

WEBHOOK = "/v1/whatsapp/webhook"


@pytest.fixture
def notify() -> Iterator[tuple[HTTPServer, queue.Queue[tuple[bytes, str | None]]]]:
    """Notify's webhook, keeping what was posted (body, signature header)."""
    posted: queue.Queue[tuple[bytes, str | None]] = queue.Queue()

    def handle(request: Request) -> Response:
        posted.put((request.get_data(), request.headers.get("X-Hub-Signature-256")))
        return Response("{}", content_type="application/json")

    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    server.expect_request(WEBHOOK, method="POST").respond_with_handler(handle)
    yield server, posted
    server.clear()
    server.stop()


@pytest.fixture
def phone() -> Iterator[DevelopmentPhone]:
    found = DevelopmentPhone(fixed_port=False, reply_wait=0.2)
    found.start()
    yield found
    found.stop()


def _message(address: str, body: str, template: dict[str, Any] | None = None) -> OutgoingMessage:
    return OutgoingMessage(uuid.uuid4(), "whatsapp", address, "id", None, body, template)


def _page(phone: DevelopmentPhone) -> str:
    answer = httpx.get(phone.url)
    assert answer.status_code == 200
    return answer.text


async def test_notify_sends_through_it_and_hears_delivered(
    phone: DevelopmentPhone, notify: tuple[HTTPServer, queue.Queue[tuple[bytes, str | None]]]
) -> None:
    server, posted = notify
    phone.connect(f"http://127.0.0.1:{server.port}")
    env = phone.service_env()
    sms = SmsGateway(env["SMS_GATEWAY_URL"], env["SMS_GATEWAY_TOKEN"], "MPPKEDIRI", 5)
    whatsapp = WhatsAppCloud(
        env["WHATSAPP_API_URL"], env["WHATSAPP_PHONE_NUMBER_ID"], env["WHATSAPP_ACCESS_TOKEN"], 5
    )
    try:
        sent = await sms.send(_message("+6281211110001", "Kode masuk MPP Anda: 123456."))
        assert sent.provider_message_id
        text = await whatsapp.send(_message("+6281211110002", "Halo <warga> & co"))
        template = {"name": "mpp_kode_masuk", "language": "id", "parameters": ["654321"]}
        templated = await whatsapp.send(_message("+6281211110003", "-", template))
        wrong = SmsGateway(env["SMS_GATEWAY_URL"], "not-the-token", "MPPKEDIRI", 5)
        with pytest.raises(DeliveryError):
            await wrong.send(_message("+6281211110004", "refused"))
    finally:
        await sms.aclose()
        await whatsapp.aclose()

    # Each WhatsApp message is reported delivered, signed with the app secret.
    reports = []
    for _ in range(2):
        body, signature = posted.get(timeout=10)
        assert signature_valid(body, signature, env["WHATSAPP_APP_SECRET"])
        assert not signature_valid(body, signature, "another-secret")
        messages, found = parse(json.loads(body), datetime.now(UTC))
        assert messages == []
        reports += found
    assert [(r.provider_message_id, r.status) for r in reports] == [
        (text.provider_message_id, "delivered"),
        (templated.provider_message_id, "delivered"),
    ]
    page = _page(phone)
    assert "Kode masuk MPP Anda: 123456." in page
    assert "Halo &lt;warga&gt; &amp; co" in page  # escaped
    assert "[template mpp_kode_masuk (id)] body: 654321" in page
    assert "+6281211110004" not in page  # refused, not received
    assert template_payload(template)["type"] == "template"


def test_the_form_posts_a_signed_inbound_message(
    phone: DevelopmentPhone, notify: tuple[HTTPServer, queue.Queue[tuple[bytes, str | None]]]
) -> None:
    server, posted = notify
    phone.connect(f"http://127.0.0.1:{server.port}")
    secret = phone.service_env()["WHATSAPP_APP_SECRET"]
    # This notify never replies: the form stops waiting (reply_wait) and shows the page.
    answer = httpx.post(
        f"{phone.url}/whatsapp", data={"number": "0812 1111 0005", "text": "halo"}, timeout=20
    )
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith("/?as=%2B6281211110005")
    body, signature = posted.get(timeout=10)
    assert signature_valid(body, signature, secret)
    doc = json.loads(body)
    assert doc["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] == PHONE_NUMBER_ID
    [message], reports = parse(doc, datetime.now(UTC))
    assert (message.sender, message.text, message.kind, reports) == (
        "+6281211110005",
        "halo",
        "text",
        [],
    )
    assert message.message_id.startswith("wamid.")
    assert "notify answered 200" in _page(phone)

    refused = httpx.post(f"{phone.url}/whatsapp", data={"number": "abc", "text": "halo"})
    assert refused.status_code == 422
    assert posted.empty()


def test_numbers() -> None:
    assert normalise_number("0812-3456-7890") == "+6281234567890"
    assert normalise_number("6281234567890") == "+6281234567890"
    assert normalise_number("+62 812 3456 7890") == "+6281234567890"
    assert normalise_number("halo") is None
    assert normalise_number("0812") is None
