"""Helpers for the delivery-guarantee tests: a private topic per test, a test
event type, an effects table, and a way to run a consumer until a condition."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from mpp_shared import migrate
from mpp_shared.db import create_pool
from mpp_shared.events import CloudEvent, EventData, build_event
from mpp_shared.messaging.consumer import EventConsumer, EventHandler
from mpp_shared.messaging.outbox import OutboxRelay, enqueue
from mpp_shared.settings import ServiceSettings


class ProbeHappenedV1(EventData, register=False):
    """An event type that exists only in these tests (kept out of the registry)."""

    event_type = "mpp.test.probe_happened.v1"
    topic = "test.probes"

    probe: str
    seq: int
    poison: bool = False


EFFECTS_DDL = """
CREATE TABLE effects (id bigserial PRIMARY KEY, event_id uuid NOT NULL, probe text NOT NULL, seq int NOT NULL)
"""


async def record_effect(conn: asyncpg.Connection, event: CloudEvent) -> None:
    data = ProbeHappenedV1.model_validate(event.data)
    if data.poison:
        raise ValueError(f"cannot handle probe {data.probe}")
    # No unique constraint on purpose: a second effect would show as a second row.
    await conn.execute(
        "INSERT INTO effects (event_id, probe, seq) VALUES ($1, $2, $3)",
        event.id,
        data.probe,
        data.seq,
    )


class Kit:
    def __init__(self, dsn: str, bootstrap: str) -> None:
        suffix = uuid.uuid4().hex[:10]
        self.topic = f"test.probes.{suffix}"
        self.settings = ServiceSettings(
            service_name=f"itest-{suffix}",
            database_url=dsn,
            kafka_bootstrap_servers=bootstrap,
            consumer_max_attempts=3,
            consumer_retry_backoff=0.01,
            outbox_batch_size=100,
            consumer_rebalance_timeout_ms=2000,
            consumer_session_timeout_ms=3000,
        )
        self.pool: asyncpg.Pool
        self.admin: AIOKafkaAdminClient
        self.producers: list[AIOKafkaProducer] = []

    async def __aenter__(self) -> Kit:
        self.pool = await create_pool(self.settings.database_url)
        async with self.pool.acquire() as conn:
            await migrate.apply_migrations(conn, {"shared": migrate.SHARED_MIGRATIONS})
            await conn.execute(EFFECTS_DDL)
        self.admin = AIOKafkaAdminClient(bootstrap_servers=self.settings.kafka_bootstrap_servers)
        await self.admin.start()
        await self.admin.create_topics(
            [
                NewTopic(t, num_partitions=3, replication_factor=1)
                for t in (self.topic, self.topic + ".dlq")
            ]
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        for producer in self.producers:
            await producer.stop()
        await self.admin.close()
        await self.pool.close()

    async def producer(self) -> AIOKafkaProducer:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap_servers, acks="all"
        )
        await producer.start()
        self.producers.append(producer)
        return producer

    def probe_event(self, probe: str, seq: int, *, poison: bool = False) -> CloudEvent:
        return build_event(
            ProbeHappenedV1(probe=probe, seq=seq, poison=poison), source="/test", subject=probe
        )

    async def enqueue(self, events: list[CloudEvent], *, key: str) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            for event in events:
                await enqueue(conn, event, topic=self.topic, key=key)

    async def relay(self) -> OutboxRelay:
        return OutboxRelay(
            pool=self.pool,
            producer=await self.producer(),
            admin=self.admin,
            settings=self.settings,
            service=self.settings.service_name,
        )

    def consumer(
        self,
        group: str,
        cls: type[EventConsumer] = EventConsumer,
        handler: EventHandler = record_effect,
        **kw: Any,
    ) -> EventConsumer:
        return cls(
            name=group,
            topics=[self.topic],
            handlers={ProbeHappenedV1.event_type: handler},
            pool=self.pool,
            dlq_producer=kw.pop("dlq_producer"),
            settings=self.settings,
        )

    async def effects(self) -> list[asyncpg.Record]:
        return list(await self.pool.fetch("SELECT * FROM effects ORDER BY id"))

    async def read_topic(self, topic: str, expected: int, timeout: float = 20.0) -> list[Any]:
        """Every message on `topic`, as an outside reader would see it."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic) or set()
        consumer.assign([TopicPartition(topic, p) for p in partitions])
        messages: list[Any] = []
        try:
            deadline = time.monotonic() + timeout
            while len(messages) < expected and time.monotonic() < deadline:
                batch = await consumer.getmany(timeout_ms=300)
                for records in batch.values():
                    messages.extend(records)
            # Anything beyond `expected` that is already there counts too.
            batch = await consumer.getmany(timeout_ms=300)
            for records in batch.values():
                messages.extend(records)
        finally:
            await consumer.stop()
        return messages


async def run_until(
    consumer: EventConsumer, condition: Callable[[], Awaitable[bool]], timeout: float = 30.0
) -> None:
    """Run `consumer` until `condition` holds, then stop it (its shutdown commits)."""
    task = asyncio.create_task(consumer.run())
    try:
        deadline = time.monotonic() + timeout
        while not await condition():
            if task.done():
                task.result()
            if time.monotonic() > deadline:
                raise TimeoutError("condition not reached")
            await asyncio.sleep(0.05)
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 20)


def now() -> datetime:
    return datetime.now(UTC)
