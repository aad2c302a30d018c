"""The outbox relay's throughput: rows committed at once into intake's
outbox, timed from the commit until the relay has published them all, once
the stack is idle."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient

from mpp_devstack.stack import SERVICES, Stack
from mpp_shared.db import with_database
from mpp_shared.events.envelope import CloudEvent
from mpp_shared.messaging.kafka import ensure_topics
from mpp_shared.messaging.outbox import WAKE_CHANNEL
from mpp_shared.settings import ServiceSettings
from tests.bench.machine import ProcessSampler
from tests.support.polling import poll_until

BENCH_TOPIC = "mpp.bench"
OUTBOX_COLUMNS = ["event_id", "topic", "key", "event_type", "payload", "traceparent", "tracestate"]


async def unpublished(dsn: str) -> int:
    """Outbox rows not yet published in the database of `dsn`."""
    conn = await asyncpg.connect(dsn)
    try:
        query = "SELECT count(*) FROM outbox WHERE published_at IS NULL"
        return int(await conn.fetchval(query))
    finally:
        await conn.close()


async def wait_quiet(
    stack: Stack, sampler: ProcessSampler, within: float = 120.0, cores: float = 0.25
) -> float:
    """Wait until every outbox is drained and the stack uses < `cores` CPU, or
    `within` seconds passed; returns the seconds waited.

    After the HTTP load the other services still consume its events (and their
    own cascades); the relay measurement must not share the CPU with that.
    """
    assert stack.database_url
    database_url = stack.database_url
    names = [*SERVICES, "postgres", "broker"]

    async def quiet() -> bool:
        backlog = 0
        for name in SERVICES:
            backlog += await unpublished(with_database(database_url, stack.db_prefix + name))
        before = sampler.cpu_seconds()
        await asyncio.sleep(1.0)
        after = sampler.cpu_seconds()
        used = sum(after.get(n, 0.0) - before.get(n, 0.0) for n in names)
        return backlog == 0 and used < cores

    started = time.monotonic()
    await poll_until(quiet, within, interval=0)  # never quiet: measured all the same
    return time.monotonic() - started


@dataclass
class RelayResult:
    events: int
    published: int
    seconds: float
    insert_seconds: float
    finished: bool

    @property
    def events_per_second(self) -> float:
        return self.published / self.seconds if self.seconds > 0 else 0.0


async def _ensure_bench_topic(bootstrap: str) -> None:
    settings = ServiceSettings()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-admin")
    await admin.start()
    try:
        await ensure_topics(
            admin,
            [BENCH_TOPIC],
            partitions=settings.kafka_topic_partitions,
            replication=settings.kafka_replication_factor,
        )
    finally:
        await admin.close()


def _outbox_rows(events: int, keys: int) -> list[tuple[object, ...]]:
    """`events` outbox rows on the bench topic, spread over `keys` keys."""
    rows: list[tuple[object, ...]] = []
    for i in range(events):
        event_id = uuid.uuid4()
        key = f"bench-{i % keys:04d}"
        event = CloudEvent(
            id=event_id, source="/mpp/bench", type="mpp.bench.ping.v1", subject=key, data={"seq": i}
        )
        rows.append((event_id, BENCH_TOPIC, key, event.type, event.to_bytes(), None, None))
    return rows


async def run_relay(stack: Stack, events: int, keys: int, give_up_after: float) -> RelayResult:
    """Commit `events` rows into intake's outbox in one transaction; time
    until the relay has published them all (or `give_up_after` seconds)."""
    assert stack.database_url and stack.kafka_bootstrap
    await _ensure_bench_topic(stack.kafka_bootstrap)
    rows = _outbox_rows(events, keys)
    conn = await asyncpg.connect(with_database(stack.database_url, stack.db_prefix + "intake"))
    try:
        t0 = time.perf_counter()
        async with conn.transaction():
            await conn.copy_records_to_table("outbox", records=rows, columns=OUTBOX_COLUMNS)
            # Wakes the relay on commit, as `enqueue` does.
            await conn.execute("SELECT pg_notify($1, '')", WAKE_CHANNEL)
        committed = time.perf_counter()
        left, observed_at = events, committed

        async def all_published() -> bool:
            nonlocal left, observed_at
            left = int(
                await conn.fetchval(
                    "SELECT count(*) FROM outbox WHERE published_at IS NULL AND topic = $1",
                    BENCH_TOPIC,
                )
            )
            observed_at = time.perf_counter()
            return left == 0

        # Unfinished after `give_up_after`: the result says how far it got.
        await poll_until(all_published, give_up_after, interval=0.05)
        return RelayResult(
            events=events,
            published=events - left,
            seconds=observed_at - committed,
            insert_seconds=committed - t0,
            finished=left == 0,
        )
    finally:
        await conn.close()
