"""Another OPD's system, as the services see it from outside: its webhook
endpoint (`OpdEndpoint`, served by the providers' server) and its own
consumer group on every shared topic (`OutsideReader`)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from werkzeug import Request, Response

from mpp_shared.events.topics import Topic
from tests.support.polling import eventually

# A signed delivery older than this is refused, as the docs tell OPDs to.
SIGNATURE_MAX_AGE = 300


@dataclass
class OpdEndpoint:
    """An OPD's webhook endpoint at `url`.

    Each accepted delivery is counted by (X-MPP-Delivery-Id, X-MPP-Event-Id)
    in `deliveries`, every call in `calls`. With `secret` it checks each
    signature and timestamp itself, as the docs tell OPDs to: a forged or
    stale call is answered 401 and listed in `forged`. Setting `status` to
    anything but 200 makes it fail calls with that status (`failed_calls`).
    With `keep_events` it keeps each accepted event (`received`, `of`).
    Once `gone`, every call is answered 503, as an endpoint nobody serves."""

    url: str
    secret: str | None = None
    keep_events: bool = True
    status: int = 200
    gone: bool = False
    calls: int = 0
    failed_calls: int = 0
    deliveries: Counter[tuple[str, str]] = field(default_factory=Counter)
    received: list[dict[str, Any]] = field(default_factory=list)
    forged: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, request: Request) -> Response:
        body = request.get_data()
        with self.lock:
            self.calls += 1
            if self.gone:
                return Response(status=503)
            if self.secret is not None and not self._authentic(request, body):
                return Response(status=401)
            if self.status != 200:
                self.failed_calls += 1
                return Response(status=self.status)
            event_id = request.headers["X-MPP-Event-Id"]
            if self.keep_events:
                doc = json.loads(body)
                assert event_id == doc["id"]
                assert request.headers["X-MPP-Event-Type"] == doc["type"]
                self.received.append(doc)
            self.deliveries[(request.headers.get("X-MPP-Delivery-Id", ""), event_id)] += 1
        return Response(status=204)

    def _authentic(self, request: Request, body: bytes) -> bool:
        """Signature and timestamp checked; a refusal is listed in `forged`."""
        assert self.secret is not None
        timestamp = request.headers["X-MPP-Timestamp"]
        expected = hmac.new(
            self.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(request.headers["X-MPP-Signature"], f"v1={expected}"):
            self.forged.append(request.headers.get("X-MPP-Delivery-Id", "?"))
            return False
        if abs(time.time() - int(timestamp)) > SIGNATURE_MAX_AGE:
            self.forged.append("stale")
            return False
        return True

    def of(self, application_id: str) -> list[dict[str, Any]]:
        """The events received about `application_id` (with `keep_events`)."""
        with self.lock:
            return [d for d in self.received if d["data"].get("application_id") == application_id]

    def snapshot(self) -> dict[tuple[str, str], int]:
        with self.lock:
            return dict(self.deliveries)


async def stop_reading(consumer: AIOKafkaConsumer) -> None:
    """Stop a test's reader whose work is done. A last fetch the broker
    answers late (a busy machine) makes aiokafka's stop end in a request
    timeout and a cancelled retry, which says nothing of the system under test."""
    with contextlib.suppress(KafkaError, TimeoutError, asyncio.CancelledError):
        await asyncio.wait_for(consumer.stop(), 60)


@dataclass
class OutsideReader:
    """Another OPD's system: its own consumer group on every shared topic,
    collecting every record it is handed in `messages`."""

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

    @classmethod
    @contextlib.asynccontextmanager
    async def reading(cls, bootstrap: str, group_prefix: str) -> AsyncIterator[OutsideReader]:
        """A reader whose group (`group_prefix` and a random suffix) has its
        partitions assigned, reading from the earliest offsets until the
        block ends."""
        reader = cls()
        consumer = AIOKafkaConsumer(
            *[t.value for t in Topic],
            bootstrap_servers=bootstrap,
            group_id=f"{group_prefix}-{uuid.uuid4().hex[:6]}",
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
        try:
            await eventually(lambda: consumer.assignment(), timeout=30)
            yield reader
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await stop_reading(consumer)
