"""Outbox and inbox on a real PostgreSQL and a real broker: nothing lost,
no effect twice, poison parked on the dead-letter topic."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord

from mpp_devstack.embedded import TansuBroker
from mpp_shared.events import CloudEvent
from mpp_shared.messaging.consumer import EventConsumer
from mpp_shared.messaging.kafka import ensure_topics
from tests.integration.delivery_kit import Kit, record_effect, run_until


async def test_rows_committed_out_of_id_order_are_all_published(database: str, servers) -> None:
    async with Kit(database, servers.bootstrap) as kit:
        relay = await kit.relay()
        late = kit.probe_event("late", 1)
        early = kit.probe_event("early", 2)
        # The first transaction takes the lower id but commits last.
        async with kit.pool.acquire() as slow_conn:
            slow_tx = slow_conn.transaction()
            await slow_tx.start()
            from mpp_shared.messaging.outbox import enqueue

            await enqueue(slow_conn, late, topic=kit.topic, key="a")
            await kit.enqueue([early], key="b")
            assert await relay.publish_batch() == 1  # only what is committed
            await slow_tx.commit()
        assert await relay.publish_batch() == 1  # the late one is not skipped
        assert await relay.publish_batch() == 0
        ids = [json.loads(m.value)["id"] for m in await kit.read_topic(kit.topic, expected=2)]
        assert sorted(ids) == sorted([str(late.id), str(early.id)])


async def test_events_of_one_key_arrive_in_commit_order(database: str, servers) -> None:
    async with Kit(database, servers.bootstrap) as kit:
        for seq in range(60):
            await kit.enqueue([kit.probe_event("ordered", seq)], key="same-aggregate")
        relay = await kit.relay()
        while await relay.publish_batch():
            pass
        messages = await kit.read_topic(kit.topic, expected=60)
        seqs = [
            json.loads(m.value)["data"]["seq"] for m in sorted(messages, key=lambda m: m.offset)
        ]
        assert {m.partition for m in messages} == {messages[0].partition}
        assert seqs == list(range(60))


async def test_relay_stopped_between_publish_and_mark_leads_to_one_effect(
    database: str, servers
) -> None:
    async with Kit(database, servers.bootstrap) as kit:
        events = [kit.probe_event(f"p{i}", i) for i in range(20)]
        await kit.enqueue(events, key="k")
        crashed = await kit.relay()
        rows = await crashed.fetch_unpublished()
        await crashed.send(rows)  # published ... and the process dies before marking
        assert (
            await kit.pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 20
        )

        restarted = await kit.relay()
        assert await restarted.publish_batch() == 20  # at least once: all again
        assert (
            await kit.pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
        )
        assert len(await kit.read_topic(kit.topic, expected=40)) == 40

        consumer = kit.consumer("effects", dlq_producer=await kit.producer())

        async def all_seen() -> bool:
            return consumer.handled_total == 20 and len(await kit.effects()) == 20

        await run_until(consumer, all_seen)
        effects = await kit.effects()
        assert sorted(e["seq"] for e in effects) == list(range(20))
        assert len({e["event_id"] for e in effects}) == 20


class _CrashesBeforeCommit(EventConsumer):
    """Handles events but dies before any offset commit reaches the broker."""

    processed = 0

    async def process_batch(self, records: list[ConsumerRecord[Any, Any]]) -> None:
        type(self).processed += len(records)
        await super().process_batch(records)

    async def commit_done(self, partitions: set[TopicPartition] | None) -> None:
        return None


class _Counting(EventConsumer):
    processed = 0

    async def process_batch(self, records: list[ConsumerRecord[Any, Any]]) -> None:
        type(self).processed += len(records)
        await super().process_batch(records)


async def test_consumer_crash_before_offset_commit_redelivers_and_changes_nothing(
    database: str, servers
) -> None:
    async with Kit(database, servers.bootstrap) as kit:
        await kit.enqueue([kit.probe_event(f"c{i}", i) for i in range(10)], key="k")
        relay = await kit.relay()
        await relay.publish_batch()
        dlq = await kit.producer()

        first = kit.consumer("crashy", _CrashesBeforeCommit, dlq_producer=dlq)

        async def ten_effects() -> bool:
            return len(await kit.effects()) == 10

        await run_until(first, ten_effects)
        assert _CrashesBeforeCommit.processed == 10

        second = kit.consumer("crashy", _Counting, dlq_producer=dlq)

        async def redelivered() -> bool:
            return _Counting.processed >= 10

        await run_until(second, redelivered)
        assert _Counting.processed == 10  # the same ten events came again ...
        assert second.handled_total == 0  # ... and none was handled a second time
        assert len(await kit.effects()) == 10
        assert await kit.pool.fetchval("SELECT count(*) FROM inbox WHERE consumer = 'crashy'") == 10


async def test_a_type_without_handler_is_passed_over_by_its_header_undecoded(
    database: str, servers
) -> None:
    """The relay names each event's type in the `ce_type` header; a consumer
    passes over a type it has no handler for without decoding it (here a
    body that would otherwise be parked as malformed)."""
    async with Kit(database, servers.bootstrap) as kit:
        producer = await kit.producer()
        await producer.send_and_wait(
            kit.topic,
            value=b"{not json",
            key=b"k",
            headers=[("ce_type", b"mpp.something.else.v1")],
        )
        good = kit.probe_event("good", 1)
        await kit.enqueue([good], key="k")
        await (await kit.relay()).publish_batch()
        published = [
            m for m in await kit.read_topic(kit.topic, expected=2) if m.value != b"{not json"
        ]
        assert dict(published[0].headers)["ce_type"] == good.type.encode()

        consumer = kit.consumer("by-header", dlq_producer=producer)

        async def good_handled() -> bool:
            return any(e["probe"] == "good" for e in await kit.effects())

        await run_until(consumer, good_handled)
        assert consumer.dead_lettered_total == 0
        assert [e["probe"] for e in await kit.effects()] == ["good"]


async def test_poison_events_are_parked_on_dlq_and_the_partition_keeps_flowing(
    database: str, servers
) -> None:
    async with Kit(database, servers.bootstrap) as kit:
        producer = await kit.producer()
        await producer.send_and_wait(kit.topic, value=b"{not json", key=b"k")
        poison = kit.probe_event("poison", 1, poison=True)
        good = kit.probe_event("good", 2)
        await kit.enqueue([poison, good], key="k")
        await (await kit.relay()).publish_batch()

        consumer = kit.consumer("dlq-test", dlq_producer=producer)

        async def good_handled() -> bool:
            return any(e["probe"] == "good" for e in await kit.effects())

        await run_until(consumer, good_handled)
        assert consumer.dead_lettered_total == 2
        parked = await kit.read_topic(kit.topic + ".dlq", expected=2)
        assert len(parked) == 2
        errors = {dict(m.headers)["mpp-error"].decode() for m in parked}
        assert any("malformed event" in e for e in errors)
        assert any("cannot handle probe poison" in e for e in errors)
        assert all(dict(m.headers)["mpp-original-topic"].decode() == kit.topic for m in parked)
        outcome = await kit.pool.fetchval(
            "SELECT outcome FROM inbox WHERE event_id = $1", poison.id
        )
        assert outcome == "dead_lettered"
        assert [e["probe"] for e in await kit.effects()] == ["good"]


async def test_a_broker_restarted_empty_is_never_told_an_offset_from_before(
    database: str, tmp_path: Path
) -> None:
    """The broker dies right after an event was handled, before its offset was
    committed, and comes back empty. The group it forgot rejoins; the commit the
    consumer still owes belongs to the old log and must not reach the new one,
    or the consumer would start past the events the new log holds."""
    broker = TansuBroker(log_path=tmp_path / "broker.log")
    broker.start()
    try:
        async with Kit(database, broker.bootstrap) as kit:
            producer = await kit.producer()

            async def send(seq: int) -> None:
                event = kit.probe_event(f"p{seq}", seq)
                await producer.send_and_wait(kit.topic, event.to_bytes(), key=b"one-key")

            async def forget_everything_after(conn: asyncpg.Connection, event: CloudEvent) -> None:
                await record_effect(conn, event)
                if event.data["seq"] == 4:
                    await _restart_empty(broker, kit.topic)

            consumer = kit.consumer(
                "amnesia", handler=forget_everything_after, dlq_producer=producer
            )
            task = asyncio.create_task(consumer.run())
            try:
                for seq in range(1, 5):
                    await send(seq)
                await _until(lambda: _seqs(kit), {1, 2, 3, 4}, 30)
                # The new log starts at offset 0, below the offset owed for seq 4.
                for seq in (5, 6):
                    await send(seq)
                await _until(lambda: _seqs(kit), {1, 2, 3, 4, 5, 6}, 30)
            finally:
                consumer.stop()
                await asyncio.wait_for(task, 20)
            assert sorted(r["seq"] for r in await kit.effects()) == [1, 2, 3, 4, 5, 6]
    finally:
        broker.stop()


async def test_the_relay_looks_at_the_broker_memory_again_only_after_a_new_connection(
    database: str, tmp_path: Path
) -> None:
    """Asking the broker for its topics before every batch costs a round trip
    per batch: the relay asks again only when its producer's connections
    changed (a restarted broker is always a new connection), so a broker
    that came back empty is still seen before the next batch is sent."""
    broker = TansuBroker(log_path=tmp_path / "broker.log")
    broker.start()
    try:
        async with Kit(database, broker.bootstrap) as kit:
            relay = await kit.relay()
            looks = 0
            look = relay.check_broker_memory

            async def counted() -> bool:
                nonlocal looks
                looks += 1
                return await look()

            relay.check_broker_memory = counted  # type: ignore[method-assign]
            for seq in range(4):
                await kit.enqueue([kit.probe_event("steady", seq)], key="k")
                assert await relay.publish_batch() == 1
            # The first batch looked (and made the marker); its send replaced
            # the bootstrap connection by one to the partition's leader, so
            # the second looked once more; then nothing changed.
            assert looks == 2

            await asyncio.to_thread(broker.kill)
            await asyncio.to_thread(broker.start)
            await kit.enqueue([kit.probe_event("after", 9)], key="k")
            published = await relay.publish_batch()
            assert looks == 3
            # It found the marker gone: the topics are made again and the
            # window republished, the new row with it.
            assert published == 5
            assert relay.marker_topic in await kit.admin.list_topics()
    finally:
        broker.stop()


async def test_a_commit_kept_by_a_broker_restarted_empty_is_not_trusted(
    database: str, tmp_path: Path
) -> None:
    """The broker dies right after an event was handled and comes back empty
    (a new cluster); the consumer's commit for it reaches the new broker before
    the consumer learns its group is gone, and the broker keeps it. The new
    log holds, below that offset, an event the consumer never saw (published
    while the relays republished their window): it must still be handled."""
    broker = TansuBroker(log_path=tmp_path / "broker.log")
    broker.start()
    try:
        async with Kit(database, broker.bootstrap) as kit:
            producer = await kit.producer()
            events = {seq: kit.probe_event(f"p{seq}", seq) for seq in range(1, 7)}

            async def send(seq: int) -> None:
                await producer.send_and_wait(kit.topic, events[seq].to_bytes(), key=b"one-key")

            async def forget_everything_after(conn: asyncpg.Connection, event: CloudEvent) -> None:
                await record_effect(conn, event)
                if event.data["seq"] == 4 and not restarted:
                    restarted.append(True)
                    await _restart_empty(broker, kit.topic)
                    # The new log: a new event at offset 0, then the window republished.
                    for seq in (5, 1, 2, 3, 4):
                        await send(seq)
                    # The commit the consumer sent for seq 4 as the broker came
                    # back, and which the broker kept (made here so the test
                    # does not hang on that moment's timing).
                    await _commit_outside_the_group("amnesia-kept", broker.bootstrap, kit.topic, 4)

            restarted: list[bool] = []
            consumer = kit.consumer(
                "amnesia-kept", handler=forget_everything_after, dlq_producer=producer
            )
            task = asyncio.create_task(consumer.run())
            try:
                for seq in range(1, 5):
                    await send(seq)
                await _until(lambda: _seqs(kit), {1, 2, 3, 4, 5}, 45)
                await send(6)
                await _until(lambda: _seqs(kit), {1, 2, 3, 4, 5, 6}, 30)
            finally:
                consumer.stop()
                await asyncio.wait_for(task, 20)
            assert sorted(r["seq"] for r in await kit.effects()) == [1, 2, 3, 4, 5, 6]
    finally:
        broker.stop()


async def _restart_empty(broker: TansuBroker, topic: str) -> None:
    """Kill the broker and start it again on the same port, empty, with `topic`
    and its dead-letter twin made again."""
    await asyncio.to_thread(broker.kill)
    await asyncio.to_thread(broker.start)
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
    await admin.start()
    try:
        await ensure_topics(admin, [topic, topic + ".dlq"], partitions=3, replication=1)
    finally:
        await admin.close()


async def _commit_outside_the_group(group: str, bootstrap: str, topic: str, offset: int) -> None:
    """Commit `offset` for `group` on every partition of `topic` holding data,
    from a client that never joins the group."""
    client = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await client.start()
    try:
        partitions = [TopicPartition(topic, p) for p in client.partitions_for_topic(topic) or ()]
        if not partitions:
            await client._client.force_metadata_update()
            partitions = [
                TopicPartition(topic, p) for p in client.partitions_for_topic(topic) or ()
            ]
        client.assign(partitions)
        ends = await client.end_offsets(partitions)
        await client.commit({tp: offset for tp, end in ends.items() if end > offset})
    finally:
        await client.stop()


async def _seqs(kit: Kit) -> set[int]:
    return {r["seq"] for r in await kit.effects()}


async def _until(read: Callable[[], Awaitable[set[int]]], wanted: set[int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while (found := await read()) != wanted:
        assert time.monotonic() < deadline, f"handled {sorted(found)}, expected {sorted(wanted)}"
        await asyncio.sleep(0.1)
