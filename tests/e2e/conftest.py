"""The running system for end-to-end tests: the four services as real
processes on the test servers, an OTLP receiver collecting their spans, and
an outside reader of the topics (like another OPD's system)."""

from __future__ import annotations

import asyncio
import contextlib
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
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from mpp_shared.auth import mint_token
from mpp_shared.events.topics import Topic
from mpp_shared.settings import DEV_JWT_SECRET
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


@pytest.fixture(scope="session")
def stack(
    servers: Servers, otlp: OtlpReceiver, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "OTEL_METRIC_EXPORT_INTERVAL": "5000",
        "OUTBOX_POLL_INTERVAL": "0.2",
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
