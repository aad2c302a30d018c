"""The development phone of `make run`: the SMS gateway and the WhatsApp
Cloud API that notify calls, faked on 127.0.0.1 (port 8010, or any free one)
so a person trying the system gets the one-time sign-in code of the online
application and can talk to the WhatsApp assistant from a browser.

- `POST /sms/send` is the SMS gateway notify's `channels/sms.py` calls
  (`{"to", "from", "text", "reference"}`, answered `{"message_id"}`);
- `POST /whatsapp/v21.0/<phone number id>/messages` is the Cloud API of
  `channels/whatsapp.py` (text and `"type": "template"` messages, answered
  `{"messages": [{"id": "wamid..."}]}`); each accepted message is then
  reported `delivered` to notify's webhook, signed like Meta
  (`X-Hub-Signature-256`, HMAC-SHA256 with the app secret);
- `GET /` lists, per phone number, what it received (newest first) and what
  was sent from it, with a form that sends a WhatsApp message as any number:
  the Cloud API's inbound payload, signed, posted to notify's webhook.

Development only: the codes and numbers are shown on purpose, everything is
kept in memory (gone when `make run` stops) and nothing leaves the machine.
The production image never installs this package.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import queue
import secrets
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from mpp_devstack.embedded import free_port

DEFAULT_PORT = 8010
SMS_PATH = "/sms/send"
WHATSAPP_VERSION = "v21.0"
PHONE_NUMBER_ID = "100000000000010"  # the district's (pretend) WhatsApp number
WABA_ID = "100000000000001"
DISPLAY_NUMBER = "6281100000010"
KEPT = 2000  # messages kept in memory, the oldest forgotten first
MAX_BODY = 1_000_000
REPLY_WAIT = 8.0  # seconds the form waits for notify's answer before showing the page
TRY = ("halo", "1", "status <tracking code>", "pengaduan <text> [tracking code]", "online")


@dataclass
class Message:
    at: datetime
    number: str  # E.164
    channel: Literal["sms", "whatsapp"]
    incoming: bool  # True: to the phone (notify sent it); False: sent from the phone
    text: str
    note: str = ""  # what the provider side did with it (callback answered, ...)


def normalise_number(typed: str) -> str | None:
    """`typed` as E.164 (Indonesian numbers may start with 0), or None."""
    digits = "".join(c for c in typed if c not in " -.()")
    if digits.startswith("+"):
        digits = digits[1:]
    elif digits.startswith("0"):
        digits = "62" + digits[1:]
    if not digits.isdigit() or not 8 <= len(digits) <= 15:
        return None
    return "+" + digits


def signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _webhook(value: dict[str, Any]) -> dict[str, Any]:
    """The Cloud API's webhook envelope around one change value."""
    metadata = {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": PHONE_NUMBER_ID}
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA_ID,
                "changes": [
                    {
                        "value": {"messaging_product": "whatsapp", "metadata": metadata, **value},
                        "field": "messages",
                    }
                ],
            }
        ],
    }


def inbound_payload(sender: str, text: str, message_id: str) -> dict[str, Any]:
    wa_id = sender.lstrip("+")
    message = {
        "from": wa_id,
        "id": message_id,
        "timestamp": str(int(time.time())),
        "text": {"body": text},
        "type": "text",
    }
    contact = {"profile": {"name": "Development phone"}, "wa_id": wa_id}
    return _webhook({"contacts": [contact], "messages": [message]})


def delivered_payload(message_id: str, recipient: str) -> dict[str, Any]:
    status = {
        "id": message_id,
        "status": "delivered",
        "timestamp": str(int(time.time())),
        "recipient_id": recipient.lstrip("+"),
        "conversation": {"id": uuid.uuid4().hex, "origin": {"type": "service"}},
        "pricing": {"billable": True, "pricing_model": "CBP", "category": "service"},
    }
    return _webhook({"statuses": [status]})


def template_text(template: dict[str, Any]) -> str:
    """A template message as a person reads it on the page."""
    name = template.get("name", "?")
    language = (template.get("language") or {}).get("code", "?")
    said = [
        f"{component.get('type', '?')}: "
        + " | ".join(str(p.get("text")) for p in component.get("parameters") or [])
        for component in template.get("components") or []
        if isinstance(component, dict)
    ]
    return f"[template {name} ({language})] " + "; ".join(said)


class DevelopmentPhone:
    """See the module docstring. `start()`, `service_env()` for notify,
    `connect(notify_url)` once notify runs, `stop()`."""

    def __init__(self, fixed_port: bool = True, reply_wait: float = REPLY_WAIT) -> None:
        self.port = DEFAULT_PORT if fixed_port else free_port()
        self.reply_wait = reply_wait
        # Per run: nothing else needs to know them.
        self.app_secret = secrets.token_urlsafe(24)
        self.sms_token = secrets.token_urlsafe(24)
        self.whatsapp_token = secrets.token_urlsafe(24)
        self.messages: deque[Message] = deque(maxlen=KEPT)
        self.changed = threading.Condition()
        self.webhook: str | None = None
        self._connected = threading.Event()
        self._callbacks: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def service_env(self) -> dict[str, str]:
        """Notify's provider settings pointing here (the other services ignore them)."""
        return {
            "SMS_GATEWAY_URL": f"{self.url}{SMS_PATH}",
            "SMS_GATEWAY_TOKEN": self.sms_token,
            "WHATSAPP_API_URL": f"{self.url}/whatsapp/{WHATSAPP_VERSION}",
            "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
            "WHATSAPP_ACCESS_TOKEN": self.whatsapp_token,
            "WHATSAPP_APP_SECRET": self.app_secret,
        }

    def start(self) -> None:
        try:
            self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        except OSError as exc:
            raise RuntimeError(f"the development phone cannot listen on {self.url}: {exc}") from exc
        self._server.daemon_threads = True
        for target in (self._server.serve_forever, self._call_back):
            thread = threading.Thread(target=target, name="development-phone", daemon=True)
            thread.start()
            self._threads.append(thread)

    def connect(self, notify_url: str) -> None:
        """Notify runs at `notify_url`: its webhook gets the callbacks and the
        messages sent from the page."""
        self.webhook = f"{notify_url}/v1/whatsapp/webhook"
        self._connected.set()

    def stop(self) -> None:
        self._callbacks.put(None)
        self._connected.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

    # what the phone keeps

    def keep(self, message: Message) -> None:
        with self.changed:
            self.messages.append(message)
            self.changed.notify_all()

    def received(self, number: str) -> int:
        with self.changed:
            return sum(1 for m in self.messages if m.number == number and m.incoming)

    def wait_for_reply(self, number: str, seen: int) -> None:
        """Until `number` received more than `seen` messages (notify's reply),
        at most `reply_wait` seconds."""
        deadline = time.monotonic() + self.reply_wait
        with self.changed:
            while self.received(number) <= seen:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self.changed.wait(left)

    # the providers

    def receive_sms(self, doc: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        number = normalise_number(str(doc.get("to") or ""))
        if number is None or not isinstance(doc.get("text"), str):
            return 400, {"error": "'to' (E.164) and 'text' are required"}
        self.keep(Message(datetime.now().astimezone(), number, "sms", True, doc["text"]))
        return 200, {"message_id": f"dev-sms-{uuid.uuid4().hex}"}

    def receive_whatsapp(self, doc: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        number = normalise_number(str(doc.get("to") or ""))
        kind = doc.get("type")
        if kind == "text":
            text = (doc.get("text") or {}).get("body")
        elif kind == "template" and isinstance(doc.get("template"), dict):
            text = template_text(doc["template"])
        else:
            text = None
        if number is None or not isinstance(text, str):
            error = {"message": "(#100) Invalid parameter", "type": "OAuthException", "code": 100}
            return 400, {"error": error}
        message_id = f"wamid.DEV{uuid.uuid4().hex}"
        self.keep(Message(datetime.now().astimezone(), number, "whatsapp", True, text))
        self._callbacks.put((message_id, number))
        answer = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": doc["to"], "wa_id": number.lstrip("+")}],
            "messages": [{"id": message_id}],
        }
        return 200, answer

    def _post_signed(self, client: httpx.Client, payload: dict[str, Any]) -> str:
        if self.webhook is None:
            return "notify is not running yet"
        body = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": signature(body, self.app_secret),
        }
        try:
            answer = client.post(self.webhook, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return f"notify not reached: {exc}"
        return f"notify answered {answer.status_code}"

    def _call_back(self) -> None:
        """The `delivered` callbacks, in order, after each send was answered."""
        self._connected.wait()
        with httpx.Client(timeout=10) as client:
            while (item := self._callbacks.get()) is not None:
                message_id, number = item
                self._post_signed(client, delivered_payload(message_id, number))

    def send_whatsapp(self, number: str, text: str) -> str:
        """`text` from `number` to notify's webhook; what notify answered."""
        payload = inbound_payload(number, text, f"wamid.DEVIN{uuid.uuid4().hex}")
        # Kept first: the reply may come before notify's answer to this call.
        sent = Message(datetime.now().astimezone(), number, "whatsapp", False, text, "sending")
        self.keep(sent)
        with httpx.Client(timeout=10) as client:
            said = self._post_signed(client, payload)
        with self.changed:
            sent.note = said
        return said

    # the page

    def page(self, as_number: str, refresh: bool, error: str = "") -> str:
        with self.changed:
            kept = list(self.messages)
        by_number: dict[str, list[Message]] = {}
        for message in reversed(kept):  # newest first, numbers by their latest message
            by_number.setdefault(message.number, []).append(message)
        sections = "".join(_section(number, found) for number, found in by_number.items())
        if not sections:
            sections = "<p>No message yet: ask for a sign-in code, or send a message above.</p>"
        hint = ", ".join(f"<code>{html.escape(t)}</code>" for t in TRY)
        here = f"/?as={quote(as_number)}"
        reload = (
            f'<a href="{here}">Stop refreshing</a>'
            if refresh
            else f'<a href="{here}">Reload</a> · <a href="{here}&amp;refresh=1">Reload every 3 s</a>'
        )
        return PAGE.format(
            refresh='<meta http-equiv="refresh" content="3">' if refresh else "",
            error=f"<p><strong>{html.escape(error)}</strong></p>" if error else "",
            number=html.escape(as_number, quote=True),
            hint=hint,
            reload=reload,
            sections=sections,
        )


def _section(number: str, messages: list[Message]) -> str:
    items = []
    for m in messages:
        what = ("SMS" if m.channel == "sms" else "WhatsApp") + (
            " received" if m.incoming else " sent from this phone"
        )
        note = f" <small>({html.escape(m.note)})</small>" if m.note else ""
        items.append(
            f'<li class="{"in" if m.incoming else "out"}">'
            f"<small>{m.at:%H:%M:%S}</small> <strong>{what}</strong>{note}"
            f"<pre>{html.escape(m.text)}</pre></li>"
        )
    anchor = number.lstrip("+")
    return (
        f'<section id="n{anchor}"><h2>{html.escape(number)}</h2>'
        f'<p><a href="/?as={quote(number)}#send">Send a WhatsApp message as {number}</a></p>'
        f"<ol>{''.join(items)}</ol></section>"
    )


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">{refresh}
<title>Development phone</title>
<style>
body {{ font: 16px/1.4 system-ui, sans-serif; margin: 0 auto; max-width: 48rem; padding: 1rem; }}
label, input, button {{ display: block; width: 100%; box-sizing: border-box; font: inherit; }}
input {{ padding: .4rem; margin: .2rem 0 .6rem; }} button {{ padding: .5rem; }}
ol {{ list-style: none; padding: 0; }} li {{ border-left: 4px solid #888; margin: .5rem 0;
 padding: .2rem .6rem; }} li.in {{ border-color: #1a7f37; }} li.out {{ border-color: #0969da; }}
pre {{ white-space: pre-wrap; font: inherit; margin: .2rem 0; }} section {{ margin-top: 1.5rem; }}
</style></head>
<body><h1>Development phone</h1>{error}
<p>What notify sent by SMS and WhatsApp under <code>make run</code>, per number, newest
first, kept in memory until it stops. Nothing leaves this machine.</p>
<form id="send" method="post" action="/whatsapp">
<label for="number">Send a WhatsApp message as (phone number)</label>
<input id="number" name="number" inputmode="tel" required maxlength="20" value="{number}">
<label for="text">Text</label>
<input id="text" name="text" required maxlength="1000" autocomplete="off">
<button type="submit">Send</button>
</form>
<p>Try {hint}.</p>
<p>{reload}</p>
{sections}
</body></html>
"""


def _handler(phone: DevelopmentPhone) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "mpp-development-phone"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the console is make run's

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, doc: dict[str, Any]) -> None:
            self._answer(status, json.dumps(doc).encode(), "application/json")

        def _body(self) -> bytes | None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._json(413, {"error": "too large"})
                return None
            return self.rfile.read(length)

        def _bearer(self, expected: str) -> bool:
            given = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
            return hmac.compare_digest(given.encode(), expected.encode())

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path != "/":
                self._json(404, {"error": "not found"})
                return
            query = parse_qs(url.query)
            as_number = (query.get("as") or [""])[0]
            page = phone.page(as_number, refresh=bool(query.get("refresh")))
            self._answer(200, page.encode(), "text/html; charset=utf-8")

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            body = self._body()
            if body is None:
                return
            if path == "/whatsapp":
                self._send_from_form(body)
                return
            if path == SMS_PATH:
                token, receive = phone.sms_token, phone.receive_sms
            elif path == f"/whatsapp/{WHATSAPP_VERSION}/{PHONE_NUMBER_ID}/messages":
                token, receive = phone.whatsapp_token, phone.receive_whatsapp
            else:
                self._json(404, {"error": "not found"})
                return
            if not self._bearer(token):
                self._json(401, {"error": {"message": "invalid token", "code": 190}})
                return
            try:
                doc = json.loads(body)
            except ValueError:
                self._json(400, {"error": "not JSON"})
                return
            status, answer = receive(doc if isinstance(doc, dict) else {})
            self._json(status, answer)

        def _send_from_form(self, body: bytes) -> None:
            form = parse_qs(body.decode(errors="replace"))
            typed = (form.get("number") or [""])[0]
            text = (form.get("text") or [""])[0].strip()
            number = normalise_number(typed)
            if number is None or not text:
                error = "Type a phone number (e.g. 081234567890) and a text."
                page = phone.page(typed, refresh=False, error=error)
                self._answer(422, page.encode(), "text/html; charset=utf-8")
                return
            seen = phone.received(number)
            said = phone.send_whatsapp(number, text[:1000])
            if said.endswith(" 200"):
                phone.wait_for_reply(number, seen)  # the page then shows the answer
            self.send_response(HTTPStatus.SEE_OTHER)
            self.send_header("Location", f"/?as={quote(number)}#n{number.lstrip('+')}")
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler
