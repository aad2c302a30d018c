"""The WhatsApp assistant's pure parts: what a message means, the Cloud
API's webhook payload, its signature, and the templates outside the window."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from mpp_notify.assistant import conversation
from mpp_notify.assistant.payload import parse
from mpp_notify.assistant.signature import sign, signature_valid
from mpp_notify.assistant.templates import WhatsAppTemplate, default_template, template_message
from mpp_notify.channels.whatsapp import template_payload
from mpp_shared import codes
from tests.support.providers import inbound_payload, status_payload

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("Halo", "menu", {}),
        ("", "menu", {}),
        (None, "menu", {}),
        ("apa kabar?", "menu", {}),
        ("2", "service", {"number": 2}),
        (" 12 ", "service", {"number": 12}),
        ("status", "status", {"code": None}),
        ("Status ab12-cd34", "status", {"code": "AB12CD34"}),
        ("online", "online", {}),
        ("English", "language", {"language": "en"}),
        ("bahasa", "language", {"language": "id"}),
        ("pengaduan antrean lama", "complaint", {"text": "antrean lama", "code": None}),
        ("pengaduan antrean lama", "complaint", {"report_kind": "pengaduan"}),
        ("Aspirasi buka hari Sabtu", "complaint", {"report_kind": "aspirasi"}),
        ("saran buka hari Sabtu", "complaint", {"text": "buka hari Sabtu"}),
        ("tanya jadwal loket", "complaint", {"report_kind": "permintaan_informasi"}),
        ("informasi jadwal loket", "complaint", {"report_kind": "permintaan_informasi"}),
    ],
)
def test_understand(text: str | None, kind: str, expected: dict[str, object]) -> None:
    intent = conversation.understand(text)
    assert intent.kind == kind
    for name, value in expected.items():
        assert getattr(intent, name) == value


def test_a_complaint_may_end_with_a_tracking_code() -> None:
    code = codes.new_code(10)
    intent = conversation.understand(f"Pengaduan petugas tidak ramah {code.lower()}")
    assert (intent.kind, intent.code) == ("complaint", code)
    assert conversation.understand("pengaduan petugas tidak ramah ABCDEFGHIJ").code is None


def test_the_menu_numbers_the_catalog_in_either_language() -> None:
    services = [{"name": "KTP-el"}, {"name": "Kartu Keluarga"}]
    menu = conversation.menu(services, "id")
    assert "1. KTP-el\n2. Kartu Keluarga" in menu and "pengaduan" in menu
    assert "*aspirasi <saran Anda>*" in menu and "*tanya <pertanyaan Anda>*" in menu
    assert "Reply with a service's number" in conversation.menu(services, "en")
    assert "coba lagi sebentar" in conversation.try_again_later("id")


def test_the_cloud_api_payload_is_read() -> None:
    doc = inbound_payload("+6281234567890", "halo", "wamid.A1", timestamp=1764838800)
    doc["entry"][0]["changes"][0]["value"]["statuses"] = status_payload(
        "wamid.B2", "failed", "+6281234567890"
    )["entry"][0]["changes"][0]["value"]["statuses"]
    messages, reports = parse(doc, NOW)
    [message] = messages
    assert (message.message_id, message.sender, message.text) == (
        "wamid.A1",
        "+6281234567890",
        "halo",
    )
    assert message.sent_at == datetime.fromtimestamp(1764838800, tz=UTC)
    [report] = reports
    assert (report.provider_message_id, report.status) == ("wamid.B2", "failed")
    assert report.error is not None and "131026" in report.error
    assert parse({"object": "page", "entry": []}, NOW) == ([], [])
    assert parse(["not", "a", "payload"], NOW) == ([], [])


def test_the_signature_is_checked_over_the_raw_body() -> None:
    body = json.dumps(inbound_payload("+6281234567890", "halo", "wamid.A1")).encode()
    header = sign(body, "app-secret")
    assert signature_valid(body, header, "app-secret")
    assert not signature_valid(body + b" ", header, "app-secret")
    assert not signature_valid(body, header, "another-secret")
    assert not signature_valid(body, None, "app-secret")
    assert not signature_valid(body, header.removeprefix("sha256="), "app-secret")
    assert not signature_valid(body, header, "")


def test_templates_by_event_type() -> None:
    submitted = default_template("mpp.application.submitted.v1")
    assert submitted is not None and submitted.name == "mpp_application_submitted"
    assert submitted.parameters == ["service", "tracking_code"]
    filed = default_template("mpp.complaint.filed.v1")
    assert filed is not None and filed.parameters == ["complaint_code"]
    assert default_template("mpp.notification.delivered.v1") is None  # no citizen is told

    variables = {"service": "KTP-el", "tracking_code": "AB12CD34EF"}
    chosen = template_message({}, True, "mpp.application.submitted.v1", "en", variables)
    assert chosen == {
        "name": "mpp_application_submitted",
        "language": "en",
        "parameters": ["KTP-el", "AB12CD34EF"],
    }
    assert template_message({}, False, "mpp.application.submitted.v1", "id", variables) is None
    configured = {
        "mpp.application.submitted.v1": WhatsAppTemplate(
            name="diterima", languages={"id": "id_ID"}, parameters=["tracking_code", "missing"]
        )
    }
    chosen = template_message(configured, False, "mpp.application.submitted.v1", "en", variables)
    assert chosen == {"name": "diterima", "language": "id_ID", "parameters": ["AB12CD34EF", "-"]}
    assert template_payload(chosen)["template"]["components"] == [
        {
            "type": "body",
            "parameters": [{"type": "text", "text": "AB12CD34EF"}, {"type": "text", "text": "-"}],
        }
    ]
