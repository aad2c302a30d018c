"""The Cloud API webhook payload (object `whatsapp_business_account`), read
into what the assistant needs: each inbound message (sender, id, text) and
each status report of a message notify sent (sent/delivered/read/failed).

    {"object": "whatsapp_business_account",
     "entry": [{"id": "<WABA id>", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "...", "phone_number_id": "..."},
        "contacts": [{"profile": {"name": "..."}, "wa_id": "6281..."}],
        "messages": [{"from": "6281...", "id": "wamid...", "timestamp": "1733300000",
                      "type": "text", "text": {"body": "halo"}}],
        "statuses": [{"id": "wamid...", "status": "delivered", "timestamp": "...",
                      "recipient_id": "6281...", "errors": [{"code": 131047, "title": "..."}]}]
     }}]}]}

Anything else in the payload (profile names, other fields) is ignored and
never kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

STATUSES = frozenset({"sent", "delivered", "read", "failed"})


@dataclass(frozen=True)
class InboundMessage:
    message_id: str
    sender: str  # E.164, "+6281..."
    text: str | None  # the text, a button's text or a list/button reply's id; None otherwise
    kind: str  # the Cloud API's message type
    sent_at: datetime


@dataclass(frozen=True)
class StatusReport:
    provider_message_id: str
    status: str  # sent | delivered | read | failed
    at: datetime
    error: str | None


def _time(value: Any, fallback: datetime) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return fallback


def _text(message: dict[str, Any]) -> str | None:
    kind = message.get("type")
    if kind == "text":
        body = (message.get("text") or {}).get("body")
        return str(body) if body is not None else None
    if kind == "button":
        found = (message.get("button") or {}).get("text")
        return str(found) if found is not None else None
    if kind == "interactive":
        interactive = message.get("interactive") or {}
        reply = interactive.get("list_reply") or interactive.get("button_reply") or {}
        found = reply.get("id") or reply.get("title")
        return str(found) if found is not None else None
    return None


def _error(status: dict[str, Any]) -> str | None:
    errors = status.get("errors")
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return None
    first = errors[0]
    title = first.get("title") or first.get("message") or "no detail"
    return f"WhatsApp error {first.get('code')}: {str(title)[:200]}"


def _values(doc: Any) -> list[dict[str, Any]]:
    if not isinstance(doc, dict) or doc.get("object") != "whatsapp_business_account":
        return []
    found = []
    for entry in doc.get("entry") or []:
        for change in (entry or {}).get("changes") or []:
            if isinstance(change, dict) and change.get("field") == "messages":
                value = change.get("value")
                if isinstance(value, dict):
                    found.append(value)
    return found


def parse(doc: Any, now: datetime) -> tuple[list[InboundMessage], list[StatusReport]]:
    """The inbound messages and status reports of one webhook call (malformed
    items skipped)."""
    messages: list[InboundMessage] = []
    reports: list[StatusReport] = []
    for value in _values(doc):
        for message in value.get("messages") or []:
            if not isinstance(message, dict) or not message.get("id") or not message.get("from"):
                continue
            sender = str(message["from"]).lstrip("+")
            if not sender.isdigit():
                continue
            messages.append(
                InboundMessage(
                    message_id=str(message["id"]),
                    sender="+" + sender,
                    text=_text(message),
                    kind=str(message.get("type") or "unknown"),
                    sent_at=_time(message.get("timestamp"), now),
                )
            )
        for status in value.get("statuses") or []:
            if not isinstance(status, dict) or status.get("status") not in STATUSES:
                continue
            if not status.get("id"):
                continue
            reports.append(
                StatusReport(
                    provider_message_id=str(status["id"]),
                    status=str(status["status"]),
                    at=_time(status.get("timestamp"), now),
                    error=_error(status),
                )
            )
    return messages, reports
