"""Transactional outbox: the event is a row written in the caller's transaction;
a relay publishes rows in order per key and marks them sent.

Ordering and completeness:
- The relay never keeps an `id > last_seen` cursor: sequence values commit out
  of order, so it always asks for every row still unpublished, oldest id
  first. A row whose transaction commits late is published in a later round.
- Per key (aggregate) order holds because writers lock the aggregate row
  before inserting its event, so one aggregate's outbox ids follow its commit
  order; the producer keeps order within a partition and a failed batch is
  retried whole from its first row.
- One relay per service database is active at a time (PostgreSQL advisory
  lock); other instances wait as standbys.
- Published rows are kept for a retention window. When the broker has
  forgotten everything (the embedded broker is memory-only), the relay's
  marker topic is gone: it recreates the topics and republishes the window;
  consumers' inboxes absorb the repeats. The marker is looked at before a
  batch is sent whenever the producer's connections to the broker changed
  since the last look (a restarted broker is always a new connection), and
  every few seconds in any case, so the relay never creates a topic by
  publishing to a broker that forgot it, without asking the broker for its
  topics before every batch.
- The leader also forgets, every ten minutes, published rows older than the
  window and inbox rows older than INBOX_RETENTION_HOURS (`inbox`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import zlib
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from opentelemetry import metrics, trace
from opentelemetry.propagate import extract, inject
from opentelemetry.trace import SpanKind

from mpp_shared.events.envelope import CONTENT_TYPE, CloudEvent
from mpp_shared.events.topics import ALL_TOPICS
from mpp_shared.messaging import inbox
from mpp_shared.messaging.kafka import ensure_topics
from mpp_shared.settings import ServiceSettings
from mpp_shared.sql_rows import Row

log = logging.getLogger(__name__)
tracer = trace.get_tracer("mpp.outbox")
WAKE_CHANNEL = "mpp_outbox"  # notified by the outbox_wake_relay trigger

_INTO = "outbox (event_id, topic, key, event_type, payload, traceparent, tracestate)"
_VALUES = "$1, $2, $3, $4, $5, $6, $7"
_SELECT_UNPUBLISHED = """
SELECT id, event_id, topic, key, event_type, payload, traceparent, tracestate
FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1
"""
_MARK_PUBLISHED = "UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])"
_REOPEN_WINDOW = """
UPDATE outbox SET published_at = NULL
WHERE published_at IS NOT NULL AND created_at > now() - make_interval(secs => $1)
"""
_PURGE = """
DELETE FROM outbox
WHERE published_at IS NOT NULL AND created_at < now() - make_interval(secs => $1)
"""


async def enqueue(conn: asyncpg.Connection, event: CloudEvent, *, topic: str, key: str) -> None:
    """Write `event` to the outbox inside the caller's open transaction.

    The active trace context is stored with the row so that the relay's
    publish span joins the request's trace.
    """
    await row(event, topic=topic, key=key).insert(conn)
    # A trigger on the table wakes the relay at commit (migration 003).


def row(event: CloudEvent, *, topic: str, key: str) -> Row:
    """The outbox row `enqueue` writes, to write with the statement that
    makes the event true (`mpp_shared.sql_rows`): it exists exactly when that
    statement wrote its change. Carries the active trace context."""
    carrier: dict[str, str] = {}
    inject(carrier)
    values = (
        event.id,
        topic,
        key,
        event.type,
        event.to_bytes(),
        carrier.get("traceparent"),
        carrier.get("tracestate"),
    )
    return Row(_INTO, _VALUES, values)


class OutboxRelay:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer,
        admin: AIOKafkaAdminClient,
        settings: ServiceSettings,
        service: str,
    ) -> None:
        self.pool = pool
        self.producer = producer
        self.admin = admin
        self.settings = settings
        self.service = service
        self.marker_topic = f"_mpp.relay.{service}"
        self.lock_id = zlib.crc32(f"outbox-relay:{service}".encode())
        self.is_leader = False
        self.published_total = 0
        self._wake = asyncio.Event()
        self._stopping = False
        # The producer's broker connections at the last look at the marker,
        # and when that look was (monotonic).
        self._looked_over: tuple[Any, ...] | None = None
        self._looked_at = 0.0
        meter = metrics.get_meter("mpp.outbox")
        self._published_counter = meter.create_counter(
            "mpp.outbox.published", unit="{event}", description="events published by the relay"
        )
        self._published_counter.add(0, {"service": service})

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Elect itself leader, then publish until stopped; survives outages."""
        while not self._stopping:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self.settings.database_url, timeout=5)
                if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", self.lock_id):
                    await conn.close()
                    conn = None
                    await self._sleep(2.0)
                    continue
                self.is_leader = True
                await conn.add_listener(WAKE_CHANNEL, self._on_notify)
                await self._lead(conn)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # outage of the database or the broker
                log.warning("outbox relay interrupted: %s", exc)
                await self._sleep(1.0)
            finally:
                self.is_leader = False
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(conn.close(), 2)

    def _on_notify(self, *_args: Any) -> None:
        self._wake.set()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def _lead(self, lock_conn: asyncpg.Connection) -> None:
        next_marker_check = 0.0
        next_purge = 0.0
        while not self._stopping:
            if lock_conn.is_closed():
                raise ConnectionError("lost the relay's lock connection")
            now = time.monotonic()
            if now >= next_marker_check:
                await self.check_broker_memory()
                next_marker_check = now + self.settings.outbox_amnesia_check_interval
            if now >= next_purge:
                await self.pool.execute(_PURGE, self.settings.outbox_retention_hours * 3600)
                await inbox.purge_handled(self.pool, self.settings.inbox_retention_hours * 3600)
                next_purge = now + 600
            published = await self.publish_batch()
            if published < self.settings.outbox_batch_size:
                self._wake.clear()
                await self._sleep(self.settings.outbox_poll_interval)
                await asyncio.sleep(self.settings.outbox_linger)

    def _producer_connections(self) -> tuple[Any, ...] | None:
        """The producer's open broker connections (None: not known)."""
        conns = getattr(getattr(self.producer, "client", None), "_conns", None)
        if not isinstance(conns, dict):
            return None
        return tuple(c for c in conns.values() if c.connected())

    def _broker_may_have_forgotten(self) -> bool:
        """Whether the marker must be looked at before the next batch: the
        producer's connections are not the ones of the last look (or cannot
        be told), or that look is older than the amnesia check interval."""
        if time.monotonic() - self._looked_at >= self.settings.outbox_amnesia_check_interval:
            return True
        now, then = self._producer_connections(), self._looked_over
        return (
            now is None
            or then is None
            or len(now) != len(then)
            or any(a is not b for a, b in zip(now, then, strict=True))
        )

    async def check_broker_memory(self) -> bool:
        """Recreate topics and republish the retention window if the broker forgot.

        Returns True when a republish was triggered.
        """
        # Taken before asking: a connection made meanwhile shows as a change.
        connections = self._producer_connections()
        topics = set(await self.admin.list_topics())
        self._looked_over, self._looked_at = connections, time.monotonic()
        if self.marker_topic in topics:
            return False
        await ensure_topics(
            self.admin,
            [*ALL_TOPICS, self.marker_topic],
            partitions=self.settings.kafka_topic_partitions,
            replication=self.settings.kafka_replication_factor,
        )
        reopened = await self.pool.execute(
            _REOPEN_WINDOW, self.settings.outbox_retention_hours * 3600
        )
        log.info(
            "broker has no relay marker: topics ensured, retention window reopened (%s)", reopened
        )
        return True

    async def publish_batch(self) -> int:
        """Publish the oldest unpublished rows, then mark them sent; returns how many.

        A crash between sending and marking republishes the rows later:
        consumers' inboxes make that repeat harmless.
        """
        rows = await self.fetch_unpublished()
        if not rows:
            return 0
        # Look before sending: a broker restarted empty since the last look
        # would create the topics on first use with its own partition count
        # (Tansu: 4), and consumer groups holding the old count never read
        # the extra partition.
        if self._broker_may_have_forgotten() and await self.check_broker_memory():
            rows = await self.fetch_unpublished()  # the reopened window goes first
        await self.send(rows)
        await self.mark_published(rows)
        return len(rows)

    async def fetch_unpublished(self) -> list[asyncpg.Record]:
        return list(await self.pool.fetch(_SELECT_UNPUBLISHED, self.settings.outbox_batch_size))

    async def send(self, rows: list[asyncpg.Record]) -> None:
        """Send rows in id order and wait until the broker acknowledged them all."""
        pending = []
        for row in rows:
            parent = extract({k: v for k in ("traceparent", "tracestate") if (v := row[k])})
            with tracer.start_as_current_span(
                f"{row['topic']} publish",
                context=parent,
                kind=SpanKind.PRODUCER,
                attributes={
                    "messaging.system": "kafka",
                    "messaging.destination.name": row["topic"],
                    "messaging.message.id": str(row["event_id"]),
                    "cloudevents.event_type": row["event_type"],
                },
            ):
                carrier: dict[str, str] = {}
                inject(carrier)
                # ce_type (the CloudEvents Kafka binding's header for the
                # type) lets a consumer pass over a type it does not handle
                # without decoding the event.
                headers = [
                    ("content-type", CONTENT_TYPE.encode()),
                    ("ce_type", row["event_type"].encode()),
                ]
                headers += [(k, v.encode()) for k, v in carrier.items()]
                pending.append(
                    await self.producer.send(
                        row["topic"], value=row["payload"], key=row["key"].encode(), headers=headers
                    )
                )
        await asyncio.gather(*pending)

    async def mark_published(self, rows: list[asyncpg.Record]) -> None:
        await self.pool.execute(_MARK_PUBLISHED, [r["id"] for r in rows])
        self.published_total += len(rows)
        self._published_counter.add(len(rows), {"service": self.service})
