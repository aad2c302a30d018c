"""A template's preview: checked as if it were saved, then rendered with an
event's data (else its example), with what it costs as an SMS."""

from __future__ import annotations

from dataclasses import dataclass

from mpp_notify.domain.template_check import check
from mpp_notify.domain.template_rendering import ENVIRONMENT, TemplateText
from mpp_notify.domain.template_variables import variables_for
from mpp_shared.events import examples
from mpp_shared.events.envelope import EventData

_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


def sms_segments(text: str) -> int:
    """How many SMS a text takes: GSM-7 (160 in one, 153 per part; the
    extension characters take two) or, with any other character, UCS-2 (70 in
    one, 67 per part; a character beyond the BMP takes two). A character is
    never split across parts."""
    if not text:
        return 0
    if all(c in _GSM7_BASIC or c in _GSM7_EXTENSION for c in text):
        units = [2 if c in _GSM7_EXTENSION else 1 for c in text]
        single, part = 160, 153
    else:
        units = [2 if ord(c) > 0xFFFF else 1 for c in text]
        single, part = 70, 67
    if sum(units) <= single:
        return 1
    segments, used = 1, 0
    for size in units:
        if used + size > part:
            segments, used = segments + 1, 0
        used += size
    return segments


@dataclass(frozen=True)
class Preview:
    subject: str | None
    body: str
    characters: int
    sms_segments: int
    variables_used: list[str]


def preview(
    event_type: str,
    channel: str,
    language: str,
    text: TemplateText,
    data: EventData | None = None,
) -> Preview:
    """Check `text` as if it were saved (TemplateRefused), then render it with
    `data` (else the event's example)."""
    used = check(event_type, channel, language, text.subject, text.body, data)
    variables = variables_for(data or examples.example(event_type), language)
    body = ENVIRONMENT.from_string(text.body).render(**variables)
    subject = None
    if channel == "email":
        subject = ENVIRONMENT.from_string(text.subject or "").render(**variables).strip()
    return Preview(subject, body, len(body), sms_segments(body), used)
