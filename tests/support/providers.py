"""The district's outside parties, faked on loopback: one pytest-httpserver
for the SMS gateway, the WhatsApp Cloud API, OPD webhook endpoints and the
OTLP collector, and (with `mail=True`) an SMTP server (aiosmtpd) beside it.

What the suites rely on:
- every message handed over is recorded as a `SentMessage` (unless
  `keep_messages=False`, for hours-long runs that only read the counters);
- `script(recipient, *codes)` makes a recipient's next calls fail with those
  HTTP statuses (SMS, WhatsApp) or SMTP codes (e-mail), each refusal listed
  in `refused`;
- the SMS gateway counts every call per notification reference
  (`sms_requests`); with `dedupe_sms_by_reference` it answers a repeat with
  the first message id and does not deliver it again, as real gateways do;
- `opd` is an OPD webhook endpoint at /hooks/opd; `opd_endpoint(...)` serves
  another one for the length of a block;
- the WhatsApp Cloud API accepts text and template messages (a template is
  kept in `SentMessage.template`) and, once `whatsapp_webhook` is set (the
  e2e stack sets notify's), calls it back like Meta: a signed `delivered`
  status callback for each accepted message (`whatsapp_callbacks`:
  "delivered", "read", "failed" or None for none); `inbound_payload(...)`,
  `status_payload(...)` and `signed_headers(...)` build the Cloud API's
  webhook JSON and its X-Hub-Signature-256 for tests that post them.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import hashlib
import hmac
import itertools
import json
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from aiosmtpd.controller import Controller
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from mpp_devstack.embedded import free_port
from tests.support.http import LIVE
from tests.support.opd import OpdEndpoint
from tests.support.otlp import OtlpReceiver

SMS_PATH = "/sms/send"
WHATSAPP_PHONE_NUMBER_ID = "106540352242922"
WHATSAPP_PATH = f"/whatsapp/v21.0/{WHATSAPP_PHONE_NUMBER_ID}/messages"
OPD_HOOK_PATH = "/hooks/opd"

Channel = Literal["sms", "whatsapp", "email"]


@dataclass
class SentMessage:
    channel: Channel
    to: str  # E.164 (with +) or e-mail address
    body: str
    subject: str | None
    reference: str | None  # the notification id the provider was given
    headers: dict[str, str]
    template: dict[str, Any] | None = None  # WhatsApp: the template message sent
    message_id: str | None = None  # the id the provider answered


class Providers:
    """See the module docstring. `start()` starts one (its handlers are
    registered on a running server); `stop()`."""

    def __init__(
        self,
        server: HTTPServer,
        *,
        dedupe_sms_by_reference: bool,
        keep_messages: bool,
        keep_spans: bool,
    ) -> None:
        self.server = server
        self.dedupe_sms_by_reference = dedupe_sms_by_reference
        self.keep_messages = keep_messages
        self.smtp: Controller | None = None
        self.sent: list[SentMessage] = []
        self.refused: list[tuple[str, int]] = []
        self.scripts: dict[str, list[int]] = {}
        self.sms_requests: Counter[str] = Counter()  # reference -> calls
        self.sms_delivered: dict[str, str] = {}  # reference -> message id
        self.lock = threading.Lock()
        self._message_ids = itertools.count(1)
        server.expect_request(SMS_PATH, method="POST").respond_with_handler(self.handle_sms)
        server.expect_request(WHATSAPP_PATH, method="POST").respond_with_handler(
            self.handle_whatsapp
        )
        self.otlp = OtlpReceiver(server, keep_spans=keep_spans)
        self.opd = self._serve_opd(OPD_HOOK_PATH, secret=None)
        # Meta's side of the webhook: where and how it calls back.
        self.whatsapp_webhook: str | None = None
        self.whatsapp_callbacks: str | None = "delivered"
        self.callbacks_posted: list[tuple[str, str, int]] = []  # (wamid, status, answer)
        self._callbacks: queue.Queue[tuple[str, str, str] | None] = queue.Queue()
        self._callback_thread = threading.Thread(target=self._call_back, daemon=True)
        self._callback_thread.start()

    @classmethod
    def start(
        cls,
        *,
        mail: bool = False,
        dedupe_sms_by_reference: bool = False,
        keep_messages: bool = True,
        keep_spans: bool = True,
    ) -> Providers:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per call otherwise
        server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        server.start()  # first: the endpoints' URLs carry the port it was given
        found = cls(
            server,
            dedupe_sms_by_reference=dedupe_sms_by_reference,
            keep_messages=keep_messages,
            keep_spans=keep_spans,
        )
        if mail:
            found.smtp = Controller(SmtpHandler(found), hostname="127.0.0.1", port=free_port())
            found.smtp.start()
        return found

    def stop(self) -> None:
        self._callbacks.put(None)
        self._callback_thread.join(timeout=5)
        if self.smtp is not None:
            self.smtp.stop()
        self.server.clear()
        self.server.stop()

    def env(self) -> dict[str, str]:
        """The services' settings pointing at these fakes."""
        base = f"http://127.0.0.1:{self.server.port}"
        found = {
            "SMS_GATEWAY_URL": f"{base}{SMS_PATH}",
            "SMS_GATEWAY_TOKEN": "gateway-test-token",
            "WHATSAPP_API_URL": f"{base}/whatsapp/v21.0",
            "WHATSAPP_PHONE_NUMBER_ID": WHATSAPP_PHONE_NUMBER_ID,
            "WHATSAPP_ACCESS_TOKEN": "whatsapp-test-token",
            "WHATSAPP_APP_SECRET": WHATSAPP_APP_SECRET,
            "WHATSAPP_VERIFY_TOKEN": WHATSAPP_VERIFY_TOKEN,
            "SMS_REPORT_TOKEN": SMS_REPORT_TOKEN,
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.otlp.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "200",
            "OTEL_METRIC_EXPORT_INTERVAL": "5000",
        }
        if self.smtp is not None:
            found |= {
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": str(self.smtp.port),
                "SMTP_STARTTLS": "false",
            }
        return found

    # OPD webhook endpoints

    def _serve_opd(self, path: str, secret: str | None) -> OpdEndpoint:
        endpoint = OpdEndpoint(
            f"http://127.0.0.1:{self.server.port}{path}",
            secret=secret,
            keep_events=self.keep_messages,
        )
        self.server.expect_request(path, method="POST").respond_with_handler(endpoint.handle)
        return endpoint

    @contextlib.contextmanager
    def opd_endpoint(self, name: str, *, secret: str | None = None) -> Iterator[OpdEndpoint]:
        """An OPD's endpoint at /hooks/<name> for the block; gone after it."""
        endpoint = self._serve_opd(f"/hooks/{name}", secret)
        try:
            yield endpoint
        finally:
            endpoint.gone = True

    # scripted refusals and lookups

    def script(self, recipient: str, *codes: int) -> None:
        with self.lock:
            self.scripts[recipient] = list(codes)

    def take_scripted(self, recipient: str) -> int | None:
        with self.lock:
            codes = self.scripts.get(recipient)
            if codes:
                code = codes.pop(0)
                self.refused.append((recipient, code))
                return code
        return None

    def to(self, recipient: str) -> list[SentMessage]:
        with self.lock:
            return [m for m in self.sent if m.to == recipient]

    def sms_snapshot(self) -> tuple[dict[str, int], dict[str, str]]:
        """(calls per reference, message id per reference), copied."""
        with self.lock:
            return dict(self.sms_requests), dict(self.sms_delivered)

    # the HTTP providers

    def handle_sms(self, request: Request) -> Response:
        doc = json.loads(request.get_data())
        reference = str(doc.get("reference") or "")
        with self.lock:
            self.sms_requests[reference] += 1
        code = self.take_scripted(doc["to"])
        if code is not None:
            return Response(json.dumps({"error": f"scripted {code}"}), status=code)
        with self.lock:
            known = self.sms_delivered.get(reference)
            if known is not None and self.dedupe_sms_by_reference:
                message_id = known  # a repeat: answered, not delivered again
            else:
                message_id = f"gw-{next(self._message_ids)}"
                self.sms_delivered[reference] = message_id
                self.record(
                    SentMessage(
                        "sms",
                        doc["to"],
                        doc["text"],
                        None,
                        doc.get("reference"),
                        dict(request.headers),
                    )
                )
        return Response(json.dumps({"message_id": message_id}), content_type="application/json")

    def handle_whatsapp(self, request: Request) -> Response:
        doc = json.loads(request.get_data())
        to = "+" + doc["to"]
        code = self.take_scripted(to)
        if code is not None:
            error = {"error": {"message": "scripted", "type": "OAuthException", "code": 100}}
            return Response(json.dumps(error), status=code, content_type="application/json")
        template = doc.get("template") if doc.get("type") == "template" else None
        if template is not None:
            parameters = [
                str(p.get("text"))
                for component in template.get("components") or []
                for p in component.get("parameters") or []
            ]
            body = f"[template {template['name']} {template['language']['code']}] " + " | ".join(
                parameters
            )
        else:
            body = doc["text"]["body"]
        with self.lock:
            message_id = f"wamid.TEST{next(self._message_ids)}"
            self.record(
                SentMessage(
                    "whatsapp",
                    to,
                    body,
                    None,
                    None,
                    dict(request.headers),
                    template=template,
                    message_id=message_id,
                )
            )
            status = self.whatsapp_callbacks
        if status is not None and self.whatsapp_webhook is not None:
            self._callbacks.put((message_id, status, doc["to"]))
        answer = {"messaging_product": "whatsapp", "messages": [{"id": message_id}]}
        return Response(json.dumps(answer), content_type="application/json")

    def _call_back(self) -> None:
        """Meta's status callbacks, in order, after the send was answered."""
        with httpx.Client(timeout=10, limits=LIVE) as client:
            while (item := self._callbacks.get()) is not None:
                message_id, status, to = item
                url = self.whatsapp_webhook
                if url is None:
                    continue
                body = json.dumps(status_payload(message_id, status, to)).encode()
                try:
                    answer = client.post(url, content=body, headers=signed_headers(body))
                    code = answer.status_code
                except httpx.HTTPError:
                    code = 0
                with self.lock:
                    self.callbacks_posted.append((message_id, status, code))

    def record(self, message: SentMessage) -> None:
        """Keep a delivered message, unless told not to (the caller holds the lock)."""
        if self.keep_messages:
            self.sent.append(message)


# Meta's app secret and verify token of the test stack (providers.env()).
WHATSAPP_APP_SECRET = "whatsapp-app-secret-for-tests"
WHATSAPP_VERIFY_TOKEN = "whatsapp-verify-token-for-tests"
WABA_ID = "102290129340398"
# The SMS gateway's token for posting delivery reports to notify.
SMS_REPORT_TOKEN = "sms-report-token-for-tests"


def signed_headers(body: bytes, secret: str = WHATSAPP_APP_SECRET) -> dict[str, str]:
    """The headers Meta sends with a webhook body."""
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={signature}"}


def _webhook(value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA_ID,
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": WHATSAPP_PHONE_NUMBER_ID,
                            },
                            **value,
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }


def inbound_payload(
    sender: str, text: str, message_id: str, *, name: str = "Warga", timestamp: int | None = None
) -> dict[str, Any]:
    """A text message from `sender` (E.164) as the Cloud API delivers it."""
    wa_id = sender.lstrip("+")
    sent = timestamp if timestamp is not None else int(time.time())
    return _webhook(
        {
            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
            "messages": [
                {
                    "from": wa_id,
                    "id": message_id,
                    "timestamp": str(sent),
                    "text": {"body": text},
                    "type": "text",
                }
            ],
        }
    )


def status_payload(
    message_id: str, status: str, recipient: str, *, error_code: int | None = None
) -> dict[str, Any]:
    """A status callback (sent / delivered / read / failed) of a message."""
    item: dict[str, Any] = {
        "id": message_id,
        "status": status,
        "timestamp": str(int(time.time())),
        "recipient_id": recipient.lstrip("+"),
    }
    if status != "failed":
        item["conversation"] = {"id": "CONVERSATION_ID", "origin": {"type": "service"}}
        item["pricing"] = {"billable": True, "pricing_model": "CBP", "category": "service"}
    else:
        item["errors"] = [
            {
                "code": error_code or 131026,
                "title": "Message undeliverable",
                "error_data": {"details": "Message Undeliverable."},
            }
        ]
    return _webhook({"statuses": [item]})


class SmtpHandler:
    """aiosmtpd handler: scripted refusals at RCPT, every accepted mail kept."""

    def __init__(self, providers: Providers) -> None:
        self.providers = providers

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        code = self.providers.take_scripted(address)
        if code is not None:
            return f"{code} scripted refusal"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        with self.providers.lock:
            for rcpt in envelope.rcpt_tos:
                self.providers.record(
                    SentMessage(
                        "email",
                        rcpt,
                        text,
                        str(message["Subject"]),
                        str(message["Message-ID"]),
                        {k: str(v) for k, v in message.items()},
                    )
                )
        return "250 Message accepted"
