"""A sign-in code sent by WhatsApp outside the 24-hour window goes as an
approved authentication template; the log keeps it with the code redacted and
only the message handed to the provider carries the code."""

from __future__ import annotations

from mpp_notify.assistant.templates import WhatsAppTemplate
from mpp_notify.channels.whatsapp import template_payload
from mpp_notify.usecases.signin_codes import REDACTED, code_message, fill_code, signin_template


def test_the_logged_template_holds_no_code() -> None:
    logged = signin_template({}, "id")
    assert logged == {
        "name": "mpp_kode_masuk",
        "language": "id",
        "parameters": [REDACTED],
        "authentication": True,
    }


def test_the_sent_template_carries_the_code_in_its_body_and_its_button() -> None:
    logged = signin_template({}, "en")
    sent = template_payload(fill_code(logged, code_message("482913", 5, "en")))
    assert sent["template"]["name"] == "mpp_kode_masuk"
    assert sent["template"]["language"] == {"code": "en"}
    body, button = sent["template"]["components"]
    assert body == {"type": "body", "parameters": [{"type": "text", "text": "482913"}]}
    assert button["type"] == "button" and button["sub_type"] == "url"
    assert button["parameters"] == [{"type": "text", "text": "482913"}]
    assert logged["parameters"] == [REDACTED]  # the logged one is left as it was


def test_a_configured_template_replaces_the_default() -> None:
    configured = {
        "mpp.citizen.signin_code_requested.v1": WhatsAppTemplate(
            name="kode_otp", languages={"id": "id_ID", "en": "en_US"}, parameters=["code"]
        )
    }
    assert signin_template(configured, "en")["name"] == "kode_otp"
    assert signin_template(configured, "en")["language"] == "en_US"


def test_other_templates_are_sent_as_they_are() -> None:
    template = {"name": "mpp_application_submitted", "language": "id", "parameters": ["KTP-el"]}
    assert fill_code(template, "Kode 123456") is template
