"""The running system for end-to-end tests: the four services as real
processes on the test servers, an OTLP receiver collecting their spans, and
an outside reader of the topics (like another OPD's system)."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from aiosmtpd.controller import Controller
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from mpp_shared.auth import mint_token
from mpp_shared.events.topics import Topic
from mpp_shared.settings import DEV_JWT_SECRET
from mpp_shared.stack.embedded import free_port
from mpp_shared.stack.stack import Stack
from tests.conftest import Servers


@dataclass(frozen=True)
class ExportedSpan:
    service: str
    name: str
    trace_id: str
    kind: int
    attributes: dict[str, Any]


@dataclass
class OtlpReceiver:
    """A real OTLP/HTTP endpoint: the services' exporters post protobuf here."""

    server: HTTPServer
    spans: list[ExportedSpan] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def handle_traces(self, request: Request) -> Response:
        export = ExportTraceServiceRequest()
        export.ParseFromString(request.get_data())
        found = []
        for resource_spans in export.resource_spans:
            attrs = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    found.append(
                        ExportedSpan(
                            service=attrs.get("service.name", ""),
                            name=span.name,
                            trace_id=span.trace_id.hex(),
                            kind=span.kind,
                            attributes={
                                a.key: a.value.string_value or a.value.int_value
                                for a in span.attributes
                            },
                        )
                    )
        with self.lock:
            self.spans.extend(found)
        return Response(
            ExportTraceServiceResponse().SerializeToString(), content_type="application/x-protobuf"
        )

    def find(self, predicate: Callable[[ExportedSpan], bool]) -> list[ExportedSpan]:
        with self.lock:
            return [s for s in self.spans if predicate(s)]


@pytest.fixture(scope="session")
def otlp() -> Iterator[OtlpReceiver]:
    server = HTTPServer(host="127.0.0.1", port=0)
    receiver = OtlpReceiver(server)
    server.expect_request("/v1/traces", method="POST").respond_with_handler(receiver.handle_traces)
    server.expect_request("/v1/metrics", method="POST").respond_with_data(b"")
    server.expect_request("/v1/logs", method="POST").respond_with_data(b"")
    server.start()
    yield receiver
    server.clear()
    server.stop()


@dataclass
class SentMessage:
    channel: str  # sms | whatsapp | email
    to: str  # E.164 (with +) or e-mail address
    body: str
    subject: str | None
    reference: str | None  # the notification id the provider was given
    headers: dict[str, str]


@dataclass
class Providers:
    """Real servers on loopback standing in for the district's providers: an
    HTTP SMS gateway and the WhatsApp Cloud API (pytest-httpserver) and an
    SMTP server (aiosmtpd). `script` makes a recipient's next calls fail with
    the given HTTP statuses (SMS / WhatsApp) or SMTP codes (e-mail)."""

    http: HTTPServer
    smtp: Any  # aiosmtpd Controller
    smtp_port: int
    sent: list[SentMessage] = field(default_factory=list)
    refused: list[tuple[str, int]] = field(default_factory=list)
    scripts: dict[str, list[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

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

    def env(self) -> dict[str, str]:
        base = f"http://127.0.0.1:{self.http.port}"
        return {
            "SMS_GATEWAY_URL": f"{base}/sms/send",
            "SMS_GATEWAY_TOKEN": "gateway-test-token",
            "WHATSAPP_API_URL": f"{base}/whatsapp/v21.0",
            "WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
            "WHATSAPP_ACCESS_TOKEN": "whatsapp-test-token",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.smtp_port),
            "SMTP_STARTTLS": "false",
        }

    def handle_sms(self, request: Request) -> Response:
        doc = json.loads(request.get_data())
        code = self.take_scripted(doc["to"])
        if code is not None:
            return Response(json.dumps({"error": f"scripted {code}"}), status=code)
        with self.lock:
            self.sent.append(
                SentMessage(
                    "sms", doc["to"], doc["text"], None, doc.get("reference"), dict(request.headers)
                )
            )
            n = len(self.sent)
        return Response(json.dumps({"message_id": f"gw-{n}"}), content_type="application/json")

    def handle_whatsapp(self, request: Request) -> Response:
        doc = json.loads(request.get_data())
        to = "+" + doc["to"]
        code = self.take_scripted(to)
        if code is not None:
            error = {"error": {"message": "scripted", "type": "OAuthException", "code": 100}}
            return Response(json.dumps(error), status=code, content_type="application/json")
        with self.lock:
            self.sent.append(
                SentMessage("whatsapp", to, doc["text"]["body"], None, None, dict(request.headers))
            )
            n = len(self.sent)
        answer = {"messaging_product": "whatsapp", "messages": [{"id": f"wamid.TEST{n}"}]}
        return Response(json.dumps(answer), content_type="application/json")


class _SmtpHandler:
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
                self.providers.sent.append(
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


@pytest.fixture(scope="session")
def providers() -> Iterator[Providers]:
    http = HTTPServer(host="127.0.0.1", port=0)
    port = free_port()
    found = Providers(http=http, smtp=None, smtp_port=port)
    http.expect_request("/sms/send", method="POST").respond_with_handler(found.handle_sms)
    http.expect_request(
        "/whatsapp/v21.0/106540352242922/messages", method="POST"
    ).respond_with_handler(found.handle_whatsapp)
    http.start()
    found.smtp = Controller(_SmtpHandler(found), hostname="127.0.0.1", port=port)
    found.smtp.start()
    yield found
    found.smtp.stop()
    http.clear()
    http.stop()


@pytest.fixture(scope="session")
def stack(
    servers: Servers,
    otlp: OtlpReceiver,
    providers: Providers,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "OTEL_METRIC_EXPORT_INTERVAL": "5000",
        "OUTBOX_POLL_INTERVAL": "0.2",
        **providers.env(),
        # Fast retries; quiet hours off (the quiet-hours test turns them on).
        "DELIVERY_POLL_INTERVAL": "0.2",
        "DELIVERY_BACKOFF_BASE": "0.4",
        "WEBHOOK_POLL_INTERVAL": "0.2",
        "WEBHOOK_BACKOFF_BASE": "0.4",
        "WEBHOOK_DISABLE_AFTER": "3",
        "QUIET_HOURS_START": "00:00",
        "QUIET_HOURS_END": "00:00",
    }
    if servers.broker is not None:
        env["CONSUMER_REBALANCE_TIMEOUT_MS"] = "2000"
    running = Stack(
        workdir=Path(tmp_path_factory.mktemp("stack")),
        fixed_ports=False,
        database_url=servers.dsn,
        kafka_bootstrap=servers.bootstrap,
        db_prefix=f"e2e_{uuid.uuid4().hex[:6]}_",
        extra_env=env,
    )
    try:
        running.start_services()
        yield running
    finally:
        running.stop()


def token(*roles: str, subject: str | None = None, counter: str | None = "MPP-01") -> str:
    return mint_token(
        DEV_JWT_SECRET, subject=subject or f"officer-{roles[0]}", roles=list(roles), counter=counter
    )


def auth(*roles: str, **kw: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(*roles, **kw)}"}


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


async def eventually(check: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1) -> Any:
    """Poll until `check` returns something truthy (awaiting it if needed)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")


@dataclass
class OutsideReader:
    """Another OPD's system: its own consumer group on every shared topic."""

    messages: list[Any] = field(default_factory=list)

    def events(self, subject_filter: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        found = []
        for message in list(self.messages):
            try:
                doc = json.loads(message.value)
            except ValueError:
                continue
            if subject_filter(doc):
                found.append(doc)
        return found


@pytest.fixture(scope="session")
async def opd_reader(stack: Stack, servers: Servers) -> AsyncIterator[OutsideReader]:
    reader = OutsideReader()
    consumer = AIOKafkaConsumer(
        *[t.value for t in Topic],
        bootstrap_servers=servers.bootstrap,
        group_id=f"opd-dukcapil-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=True,
        rebalance_timeout_ms=2000,
    )
    await consumer.start()

    async def pump() -> None:
        while True:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                reader.messages.extend(records)

    task = asyncio.create_task(pump())
    await eventually(lambda: consumer.assignment(), timeout=30)
    yield reader
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await consumer.stop()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `scan_last` (e.g. the personal-data scan of everything the
    run produced) run after every other test, in their collected order."""
    last = [item for item in items if item.get_closest_marker("scan_last") is not None]
    if last:
        items[:] = [item for item in items if item.get_closest_marker("scan_last") is None] + last
