"""Replay parked events from a `<topic>.dlq` back onto their original topic.

    python -m mpp_shared.messaging.replay --topic mpp.applications.dlq \
        [--since 2026-11-23T08:00:00+07:00] [--event-id ID ...] [--dry-run]

What a replay sends: the parked record's original value, key and headers
(content type, `traceparent` / `tracestate`, so the new attempt joins the
request's trace), without the dead-letter headers, plus `mpp-replay-for`
(the consumer that parked it) and `mpp-replayed-from` (dlq/partition/offset).
The consumer named in `mpp-replay-for` handles the event again although its
inbox remembers it as dead-lettered; every other consumer of the topic has it
as handled already and ignores the repeat.

Position: without filters, a replay takes every record parked since the last
unfiltered replay and then records how far it got (as the committed offsets
of the consumer group `mpp-dlq-replay`), so running it twice replays nothing
the second time. With `--event-id` or `--since` it picks from everything the
DLQ still holds and leaves that position alone; replaying an event that was
already handled again changes nothing (inboxes). Malformed records are
reported and never replayed: sending them again cannot make them parse.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from mpp_shared.events.envelope import parse_event
from mpp_shared.messaging.kafka import connection
from mpp_shared.settings import ServiceSettings

REPLAY_GROUP = "mpp-dlq-replay"
# Set by the replay on the republished record; read by the consumer.
REPLAY_FOR_HEADER = "mpp-replay-for"
REPLAYED_FROM_HEADER = "mpp-replayed-from"
# Headers the dead-lettering adds; a replay drops them.
DLQ_HEADERS = frozenset(
    {
        "mpp-error",
        "mpp-original-topic",
        "mpp-original-partition",
        "mpp-original-offset",
        "mpp-consumer",
        REPLAY_FOR_HEADER,
        REPLAYED_FROM_HEADER,
    }
)


@dataclass(frozen=True)
class ParkedRecord:
    partition: int
    offset: int
    parked_at: datetime
    original_topic: str | None
    consumer: str | None
    error: str
    event_id: uuid.UUID | None  # None: the value is not a valid event
    event_type: str | None
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]

    @property
    def where(self) -> str:
        return f"{self.partition}@{self.offset}"


@dataclass
class ReplayReport:
    topic: str
    dry_run: bool
    read: int = 0
    replayed: list[ParkedRecord] = field(default_factory=list)
    filtered: int = 0
    unreplayable: list[tuple[ParkedRecord, str]] = field(default_factory=list)
    position_saved: bool = False


def _header(headers: Sequence[tuple[str, bytes]], name: str) -> str | None:
    """The last value of a header (a re-parked record carries older ones too)."""
    value = None
    for key, raw in headers:
        if key == name:
            value = raw.decode(errors="replace")
    return value


def parked_record(record: Any) -> ParkedRecord:
    headers = list(record.headers or [])
    try:
        event = parse_event(record.value)
        event_id: uuid.UUID | None = event.id
        event_type: str | None = event.type
    except ValueError:
        event_id = event_type = None
    return ParkedRecord(
        partition=record.partition,
        offset=record.offset,
        parked_at=datetime.fromtimestamp(record.timestamp / 1000, UTC),
        original_topic=_header(headers, "mpp-original-topic"),
        consumer=_header(headers, "mpp-consumer"),
        error=_header(headers, "mpp-error") or "",
        event_id=event_id,
        event_type=event_type,
        key=record.key,
        value=record.value,
        headers=headers,
    )


def replay_headers(parked: ParkedRecord) -> list[tuple[str, bytes]]:
    kept = [(k, v) for k, v in parked.headers if k not in DLQ_HEADERS]
    dlq = f"{parked.original_topic}.dlq"
    kept.append((REPLAYED_FROM_HEADER, f"{dlq}/{parked.partition}/{parked.offset}".encode()))
    if parked.consumer:
        kept.append((REPLAY_FOR_HEADER, parked.consumer.encode()))
    return kept


async def _read_parked(
    consumer: AIOKafkaConsumer, topic: str, *, from_position: bool
) -> tuple[list[Any], dict[TopicPartition, int]]:
    """Records from the start (or the saved position) up to the end as it is now."""
    partitions = consumer.partitions_for_topic(topic)
    if not partitions:
        await consumer._client.force_metadata_update()
        partitions = consumer.partitions_for_topic(topic)
    if not partitions:
        raise LookupError(f"topic {topic} does not exist on the broker")
    tps = [TopicPartition(topic, p) for p in sorted(partitions)]
    consumer.assign(tps)
    ends: dict[TopicPartition, int] = await consumer.end_offsets(tps)
    starts: dict[TopicPartition, int] = await consumer.beginning_offsets(tps)
    for tp in tps:
        start = starts[tp]
        if from_position:
            committed = await consumer.committed(tp)
            if committed is not None:
                start = max(start, committed)
        consumer.seek(tp, start)
    records: list[Any] = []
    left = {tp for tp in tps if await consumer.position(tp) < ends[tp]}
    while left:
        batches = await consumer.getmany(*left, timeout_ms=1000)
        for tp, batch in batches.items():
            records.extend(r for r in batch if r.offset < ends[tp])
        left = {tp for tp in left if await consumer.position(tp) < ends[tp]}
    return sorted(records, key=lambda r: (r.partition, r.offset)), ends


def _choose(
    records: Sequence[Any],
    report: ReplayReport,
    since: datetime | None,
    event_ids: set[uuid.UUID] | None,
) -> list[ParkedRecord]:
    """The parked records to replay; counts the filtered ones and notes the
    unreplayable ones in `report`."""
    chosen: list[ParkedRecord] = []
    for record in records:
        parked = parked_record(record)
        if since is not None and parked.parked_at < since:
            report.filtered += 1
        elif event_ids and parked.event_id not in event_ids:
            report.filtered += 1
        elif parked.event_id is None:
            report.unreplayable.append((parked, "malformed event, sending it again cannot help"))
        elif not parked.original_topic:
            report.unreplayable.append((parked, "no mpp-original-topic header"))
        else:
            chosen.append(parked)
    return chosen


async def _republish(producer: AIOKafkaProducer, chosen: list[ParkedRecord]) -> None:
    """Send every chosen record back to its original topic; returns once the
    broker acknowledged them all."""
    await producer.start()
    try:
        pending = [
            await producer.send(
                p.original_topic or "",
                value=p.value,
                key=p.key,
                headers=replay_headers(p),
            )
            for p in chosen
        ]
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def replay_dlq(
    bootstrap: str,
    topic: str,
    *,
    since: datetime | None = None,
    event_ids: set[uuid.UUID] | None = None,
    dry_run: bool = False,
    group: str = REPLAY_GROUP,
    say: Callable[[str], None] = print,
    login: Mapping[str, Any] | None = None,
) -> ReplayReport:
    """Republish parked records of the dead-letter `topic`; see the module docstring."""
    if not topic.endswith(".dlq"):
        raise ValueError(f"{topic} is not a dead-letter topic (its name ends in .dlq)")
    filtered_run = since is not None or bool(event_ids)
    report = ReplayReport(topic=topic, dry_run=dry_run)
    login = login or {}  # an authenticated cluster's login and CA (kafka.connection)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        **login,
        group_id=group,
        client_id="mpp-dlq-replay",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        request_timeout_ms=10_000,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, **login, client_id="mpp-dlq-replay", acks="all", linger_ms=2
    )
    await consumer.start()
    try:
        records, ends = await _read_parked(consumer, topic, from_position=not filtered_run)
        report.read = len(records)
        chosen = _choose(records, report, since, event_ids)
        if chosen and not dry_run:
            await _republish(producer, chosen)
        report.replayed = chosen
        if not dry_run and not filtered_run:
            # Only after the broker acknowledged every replayed record: a crash
            # before this replays them again next time, which inboxes absorb.
            await consumer.commit({tp: OffsetAndMetadata(end, "") for tp, end in ends.items()})
            report.position_saved = True
    finally:
        await consumer.stop()
    _print_report(report, say)
    return report


def _print_report(report: ReplayReport, say: Callable[[str], None]) -> None:
    verb = "would replay" if report.dry_run else "replayed"
    for p in report.replayed:
        first_error = p.error.splitlines()[0] if p.error else ""
        say(
            f"{verb} {p.event_id} {p.event_type} from {report.topic} {p.where} "
            f"to {p.original_topic} for {p.consumer or '(any consumer)'}; parked with: {first_error}"
        )
    for p, reason in report.unreplayable:
        say(f"not replayed {report.topic} {p.where} ({p.original_topic}): {reason}")
    by_type: dict[str, int] = {}
    for p in report.replayed:
        by_type[p.event_type or "?"] = by_type.get(p.event_type or "?", 0) + 1
    types = ", ".join(f"{t} x{n}" for t, n in sorted(by_type.items())) or "none"
    say(
        f"{report.topic}: read {report.read}, {verb} {len(report.replayed)} ({types}), "
        f"left out by filters {report.filtered}, not replayable {len(report.unreplayable)}"
        + ("; position saved" if report.position_saved else "")
    )


def _iso(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an ISO date-time (e.g. 2026-11-23T08:00:00+07:00)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _event_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an event id (a UUID)") from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mpp_shared.messaging.replay",
        description="Put parked events from a dead-letter topic back onto their original topic.",
    )
    parser.add_argument("--topic", required=True, help="the dead-letter topic, e.g. mpp.sla.dlq")
    parser.add_argument(
        "--since", type=_iso, help="only records parked at or after this ISO date-time"
    )
    parser.add_argument(
        "--event-id", type=_event_id, nargs="+", default=[], help="only these event ids"
    )
    parser.add_argument("--dry-run", action="store_true", help="show what would be replayed")
    parser.add_argument(
        "--bootstrap", help="Kafka bootstrap servers (default: KAFKA_BOOTSTRAP_SERVERS)"
    )
    args = parser.parse_args(argv)
    settings = ServiceSettings()
    bootstrap = args.bootstrap or settings.kafka_bootstrap_servers
    login = {k: v for k, v in connection(settings).items() if k != "bootstrap_servers"}
    try:
        asyncio.run(
            replay_dlq(
                bootstrap,
                args.topic,
                since=args.since,
                event_ids=set(args.event_id),
                dry_run=args.dry_run,
                login=login,
            )
        )
    except (ValueError, LookupError) as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
