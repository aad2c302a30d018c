"""Idempotent consumer: effect and inbox record in one transaction, offsets
committed after the database commit, bounded retries, then the `.dlq` topic.

- Inbox keyed by (consumer, event id): a redelivered event finds its row and
  changes nothing.
- Offsets are committed explicitly per owned partition after each batch; the
  rebalance listener commits what is done before partitions are taken away.
  A commit that fails because a partition moved is harmless: the new owner
  re-reads from the last committed offset and its inbox absorbs the repeat.
- Errors of the infrastructure (database unreachable) are retried without
  limit: an outage must not push good events to the dead-letter topic. Errors
  of the event itself (malformed, failing validation, a handler bug) get
  `consumer_max_attempts` tries, then the event is parked on `<topic>.dlq`
  with its error, and the partition moves on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from aiokafka.protocol.commit import OffsetCommitRequest
from aiokafka.structs import ConsumerRecord
from opentelemetry import metrics, trace
from opentelemetry.propagate import extract
from opentelemetry.trace import SpanKind, Status, StatusCode
from pydantic import ValidationError

from mpp_shared import dbtrace
from mpp_shared.db import DATABASE_UNAVAILABLE
from mpp_shared.events.envelope import CloudEvent, parse_event
from mpp_shared.events.topics import dlq_of
from mpp_shared.messaging import inbox
from mpp_shared.messaging.cluster import read_anew_in_a_new_cluster
from mpp_shared.messaging.kafka import connection
from mpp_shared.settings import ServiceSettings

log = logging.getLogger(__name__)
tracer = trace.get_tracer("mpp.consumer")

# What a service runs for one event type: its effect, on the connection of the
# transaction that also writes the inbox row.
EventHandler = Callable[[asyncpg.Connection, CloudEvent], Awaitable[None]]

_TRANSIENT = (
    *DATABASE_UNAVAILABLE,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
)


def _cancelled_from_outside() -> bool:
    """Whether the running task itself is being cancelled (a stop), as opposed
    to a library task cancelled under it raising CancelledError in its awaiter."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def describe_error(exc: BaseException) -> str:
    """What went wrong with an event, for the `mpp-error` header, the inbox,
    the log and the span. A validation error is told by field and reason
    only: its own text repeats the offending values, which may be a citizen's
    NIK or phone number, and the parked record already carries them once."""
    if isinstance(exc, ValidationError):
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or '(event)'}: {e['msg']}"
            for e in exc.errors(include_url=False, include_input=False, include_context=False)
        )
        return f"{exc.error_count()} validation error(s) for {exc.title}: {problems}"
    return "".join(traceback.format_exception_only(exc)).strip()


def _membership_lost(consumer: AIOKafkaConsumer) -> bool:
    """aiokafka resets its generation to the 'no generation' marker when the
    coordinator does not recognise the member any more, then rejoins; the
    revoke callback of that rejoin runs in that state."""
    coordinator = getattr(consumer, "_coordinator", None)
    generation = getattr(coordinator, "generation", None)
    return generation == OffsetCommitRequest.DEFAULT_GENERATION_ID


class _CommitOnRevoke(ConsumerRebalanceListener):
    def __init__(self, owner: EventConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self.owner.commit_done(set(revoked))
        self.owner.forget(revoked)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        # Positions now come from the group's committed offsets; progress noted
        # under an earlier assignment (or another broker) must never be committed.
        self.owner.forget(assigned)
        self.owner._assignments += 1
        log.info("consumer %s assigned %s", self.owner.name, sorted(map(str, assigned)))
        await self.owner.distrust_a_new_cluster(assigned)


class EventConsumer:
    def __init__(
        self,
        *,
        name: str,
        topics: list[str],
        handlers: Mapping[str, EventHandler],
        pool: asyncpg.Pool,
        dlq_producer: AIOKafkaProducer,
        settings: ServiceSettings,
    ) -> None:
        self.name = name
        self.topics = topics
        self.handlers = handlers
        self.pool = pool
        self.dlq_producer = dlq_producer
        self.settings = settings
        self.handled_total = 0
        self.dead_lettered_total = 0
        self._done: dict[TopicPartition, int] = {}
        self._committed: dict[TopicPartition, int] = {}
        self._assignments = 0  # how many assignments the group gave so far
        self._cluster: str | None = None  # the broker cluster of the last assignment
        self._consumer: AIOKafkaConsumer | None = None
        self._stopping = False
        meter = metrics.get_meter("mpp.consumer")
        self._handled_counter = meter.create_counter("mpp.consumer.handled", unit="{event}")
        self._dlq_counter = meter.create_counter("mpp.consumer.dead_lettered", unit="{event}")
        # Zero from the start, so the first parked event shows as an increase.
        self._handled_counter.add(0, {"consumer": name})
        for topic in topics:
            self._dlq_counter.add(0, {"consumer": name, "topic": dlq_of(topic)})
        self._lag: dict[TopicPartition, int] = {}
        meter.create_observable_gauge(
            "mpp.consumer.lag",
            callbacks=[
                lambda _o: [
                    metrics.Observation(
                        lag, {"consumer": name, "topic": tp.topic, "partition": tp.partition}
                    )
                    for tp, lag in list(self._lag.items())
                ]
            ],
        )

    def _make_consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            **connection(self.settings),
            group_id=self.name,
            client_id=f"{self.name}-consumer",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=self.settings.consumer_fetch_max_wait_ms,
            max_poll_interval_ms=300_000,
            session_timeout_ms=self.settings.consumer_session_timeout_ms,
            heartbeat_interval_ms=1_000,
            rebalance_timeout_ms=self.settings.consumer_rebalance_timeout_ms,
            metadata_max_age_ms=5_000,
        )

    def stop(self) -> None:
        self._stopping = True

    def forget(self, partitions: list[TopicPartition]) -> None:
        """Drop what was noted as done on `partitions` (they were revoked or
        assigned anew): an offset from an earlier assignment committed later
        could point past records the partition's log now holds, e.g. after a
        broker that forgot everything was refilled from the outboxes."""
        for tp in partitions:
            self._done.pop(tp, None)
            self._committed.pop(tp, None)

    async def distrust_a_new_cluster(self, assigned: list[TopicPartition]) -> None:
        if self._consumer is not None:
            self._cluster = await read_anew_in_a_new_cluster(
                self._consumer, self._cluster, assigned, self.name
            )

    async def run(self) -> None:
        """Consume until stopped; restarts its client after broker failures."""
        while not self._stopping:
            consumer = self._make_consumer()
            self._consumer = consumer
            self._done.clear()  # a new client starts from the committed offsets
            self._committed.clear()
            try:
                await consumer.start()
                consumer.subscribe(self.topics, listener=_CommitOnRevoke(self))
                await self._loop(consumer)
            except asyncio.CancelledError:
                if _cancelled_from_outside():
                    raise
                # aiokafka cancels its own tasks when a connection dies under
                # them, and awaiting one raises here: a client failure, not a stop.
                log.warning("consumer %s: client cancelled under it; restarting it", self.name)
                await asyncio.sleep(1.0)
            except KafkaError as exc:
                log.warning("consumer %s: broker error %s; reconnecting", self.name, exc)
                await asyncio.sleep(1.0)
            except Exception:
                # Anything else (e.g. a transport closed under a request when the
                # connection was cut) must not end consuming for good: this task
                # is all the service has to read its topics.
                log.exception("consumer %s: unexpected error; restarting its client", self.name)
                await asyncio.sleep(1.0)
            finally:
                await self._close_client(consumer)

    async def _close_client(self, consumer: AIOKafkaConsumer) -> None:
        """Commit what is done and stop the client, whatever state it is in."""
        for step in (lambda: self.commit_done(None), lambda: consumer.stop()):
            try:
                await asyncio.wait_for(step(), 5)
            except asyncio.CancelledError:
                if _cancelled_from_outside():
                    raise
            except Exception:
                pass
        self._consumer = None

    async def _loop(self, consumer: AIOKafkaConsumer) -> None:
        while not self._stopping:
            batches = await consumer.getmany(timeout_ms=200, max_records=500)
            assignment = self._assignments  # the one these records were fetched under
            for tp, records in batches.items():
                if self._stopping or tp not in consumer.assignment():
                    continue
                await self.process_batch(records)
                if self._assignments != assignment:
                    # The group rebalanced while these were handled: offsets
                    # noted now could belong to the previous assignment, so
                    # none is noted; the records were handled all the same,
                    # and what comes again the inbox absorbs.
                    continue
                self._done[tp] = records[-1].offset + 1
                with contextlib.suppress(Exception):
                    highwater = consumer.highwater(tp)
                    if highwater is not None and tp in self._done:
                        self._lag[tp] = max(0, highwater - self._done[tp])
            if batches and self._assignments == assignment:
                await self.commit_done(set(batches))

    async def commit_done(self, partitions: set[TopicPartition] | None) -> None:
        consumer = self._consumer
        if consumer is None:
            return
        if _membership_lost(consumer):
            # The group no longer knows this member (its session expired, its
            # coordinator was lost, or the broker restarted and forgot the
            # group). A commit now would go out without a generation, which a
            # broker takes as a commit from outside any group and keeps: the
            # partition's next owner would start there, past records the log
            # holds now (after an amnesia restart, the republished ones). So
            # nothing is committed; the next owner re-reads and its inbox
            # absorbs the repeat.
            log.info("consumer %s: commit skipped (membership lost)", self.name)
            self.forget(list(self._done))
            return
        offsets = {
            tp: offset
            for tp, offset in self._done.items()
            if (partitions is None or tp in partitions) and self._committed.get(tp) != offset
        }
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
            self._committed.update(offsets)
        except (CommitFailedError, IllegalStateError, KafkaError) as exc:
            # The partition moved; its new owner re-reads and its inbox dedupes.
            log.info("consumer %s: commit skipped (%s)", self.name, exc)
        if partitions is not None:
            for tp in partitions:
                if tp not in consumer.assignment():
                    self._done.pop(tp, None)
                    self._committed.pop(tp, None)

    def _span(self, record: ConsumerRecord[Any, Any]) -> Any:
        headers = {k: v.decode(errors="replace") for k, v in (record.headers or [])}
        return tracer.start_as_current_span(
            f"{record.topic} process",
            context=extract(headers),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.destination.name": record.topic,
                "messaging.consumer.group.name": self.name,
                "messaging.kafka.message.offset": record.offset,
                "messaging.destination.partition.id": str(record.partition),
            },
        )

    async def _prepare(
        self, record: ConsumerRecord[Any, Any]
    ) -> tuple[CloudEvent, EventHandler] | None:
        """The event and its handler; None for types this consumer ignores (by
        the `ce_type` header, undecoded); a malformed one is parked at once."""
        headers = record.headers or ()
        if any(
            k == "ce_type" and v.decode("utf-8", "replace") not in self.handlers for k, v in headers
        ):
            return None
        try:
            event = parse_event(record.value)
        except ValueError as exc:
            with self._span(record) as span:
                span.set_status(Status(StatusCode.ERROR, "malformed event"))
                await self._dead_letter(record, None, f"malformed event: {describe_error(exc)}")
            return None
        handler = self.handlers.get(event.type)
        return None if handler is None else (event, handler)

    async def process_batch(self, records: list[ConsumerRecord[Any, Any]]) -> None:
        """Handle one partition's records in order.

        Fast path: all of them in one transaction (one commit instead of one
        per event). If anything in it fails, it rolls back whole and every
        record goes through the one-by-one path with its own retries and
        dead-lettering, so a poison event never holds back the others.
        """
        work = []
        for record in records:
            prepared = await self._prepare(record)
            if prepared is not None:
                work.append((record, *prepared))
        if not work:
            return
        if len(work) > 1:
            try:
                handled = 0
                async with self.pool.acquire() as conn, conn.transaction():
                    for record, event, handler in work:
                        with self._span(record) as span:
                            span.set_attribute("messaging.message.id", str(event.id))
                            span.set_attribute("cloudevents.event_type", event.type)
                            # Each event's statements on its own span (and trace).
                            async with dbtrace.statements_on(span):
                                handled += await self._claim_and_handle(
                                    conn, record, event, handler, span
                                )
                self._count_handled(handled)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.info(
                    "consumer %s: batch of %d falls back to one by one (%s)",
                    self.name,
                    len(work),
                    exc,
                )
        for record, event, handler in work:
            with self._span(record) as span:
                span.set_attribute("messaging.message.id", str(event.id))
                span.set_attribute("cloudevents.event_type", event.type)
                await self._handle_with_retries(record, event, handler, span)

    async def _claim_and_handle(
        self,
        conn: asyncpg.Connection,
        record: ConsumerRecord[Any, Any],
        event: CloudEvent,
        handler: EventHandler,
        span: Any,
    ) -> int:
        """Inbox claim and effect in the caller's transaction; 1 if handled now."""
        if not await inbox.claim(conn, self.name, record, event, "handled", None):
            span.set_attribute("mpp.duplicate", True)
            return 0
        await handler(conn, event)
        return 1

    def _count_handled(self, handled: int) -> None:
        self.handled_total += handled
        self._handled_counter.add(handled, {"consumer": self.name})

    async def _handle_with_retries(
        self, record: ConsumerRecord[Any, Any], event: CloudEvent, handler: EventHandler, span: Any
    ) -> None:
        attempt = 0
        transient_wait = self.settings.consumer_retry_backoff
        while True:
            try:
                async with self.pool.acquire() as conn, conn.transaction():
                    handled = await self._claim_and_handle(conn, record, event, handler, span)
                self._count_handled(handled)
                return
            except asyncio.CancelledError:
                raise
            except _TRANSIENT as exc:
                if self._stopping:
                    raise
                log.warning("consumer %s: database unavailable (%s); retrying", self.name, exc)
                await asyncio.sleep(transient_wait)
                transient_wait = min(transient_wait * 2, 5.0)
            except Exception as exc:
                attempt += 1
                if attempt >= self.settings.consumer_max_attempts:
                    error = describe_error(exc)
                    # Not span.record_exception: its message and stack trace
                    # would repeat a validation error's input values.
                    span.add_event(
                        "exception",
                        {"exception.type": type(exc).__qualname__, "exception.message": error},
                    )
                    span.set_status(Status(StatusCode.ERROR, "dead-lettered"))
                    await self._dead_letter(record, event, error)
                    return
                await asyncio.sleep(self.settings.consumer_retry_backoff * 2 ** (attempt - 1))

    async def _dead_letter(
        self, record: ConsumerRecord[Any, Any], event: CloudEvent | None, error: str
    ) -> None:
        headers = [
            *list(record.headers or []),
            ("mpp-error", error[:2000].encode()),
            ("mpp-original-topic", record.topic.encode()),
            ("mpp-original-partition", str(record.partition).encode()),
            ("mpp-original-offset", str(record.offset).encode()),
            ("mpp-consumer", self.name.encode()),
        ]
        await self.dlq_producer.send_and_wait(
            dlq_of(record.topic), value=record.value, key=record.key, headers=headers
        )
        log.error(
            "consumer %s parked %s:%s@%s on the dead-letter topic: %s",
            self.name,
            record.topic,
            record.partition,
            record.offset,
            error.splitlines()[0] if error else "",
        )
        self.dead_lettered_total += 1
        self._dlq_counter.add(1, {"consumer": self.name, "topic": dlq_of(record.topic)})
        if event is not None:
            # Remember it, so a redelivery does not park it a second time.
            while True:
                try:
                    async with self.pool.acquire() as conn:
                        await inbox.claim(
                            conn, self.name, record, event, "dead_lettered", error[:2000]
                        )
                    return
                except _TRANSIENT:
                    await asyncio.sleep(1.0)
