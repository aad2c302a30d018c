"""Replaying the dead-letter topic on a real broker and PostgreSQL: a parked
event is handled exactly once after the fix, a second replay changes nothing,
other consumers of the topic are not touched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from aiokafka.structs import ConsumerRecord

from mpp_shared.events import CloudEvent
from mpp_shared.messaging.consumer import EventConsumer, EventHandler
from mpp_shared.messaging.replay import REPLAY_FOR_HEADER, replay_dlq
from tests.integration.delivery_kit import Kit, ProbeHappenedV1, record_effect, run_until


async def record_effect_fixed(conn: asyncpg.Connection, event: CloudEvent) -> None:
    """The handler after the fix: poison probes are handled like any other."""
    data = ProbeHappenedV1.model_validate(event.data)
    await conn.execute(
        "INSERT INTO effects (event_id, probe, seq) VALUES ($1, $2, $3)",
        event.id,
        data.probe,
        data.seq,
    )


async def record_bystander(conn: asyncpg.Connection, event: CloudEvent) -> None:
    await conn.execute("INSERT INTO bystander_effects (event_id) VALUES ($1)", event.id)


class _Counting(EventConsumer):
    """Counts every record it sees, handled or ignored as a repeat."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.seen = 0

    async def process_batch(self, records: list[ConsumerRecord[Any, Any]]) -> None:
        self.seen += len(records)
        await super().process_batch(records)


def _consumer(kit: Kit, group: str, handler: EventHandler, dlq_producer: Any) -> _Counting:
    return _Counting(
        name=group,
        topics=[kit.topic],
        handlers={ProbeHappenedV1.event_type: handler},
        pool=kit.pool,
        dlq_producer=dlq_producer,
        settings=kit.settings,
    )


async def _effects_of(kit: Kit, probe: str) -> int:
    return int(await kit.pool.fetchval("SELECT count(*) FROM effects WHERE probe = $1", probe))


async def test_parked_event_replayed_after_the_fix_is_handled_exactly_once(
    database: str, servers
) -> None:
    async with Kit(database, servers.bootstrap) as kit:
        await kit.pool.execute("CREATE TABLE bystander_effects (event_id uuid NOT NULL)")
        dlq_topic = kit.topic + ".dlq"
        producer = await kit.producer()
        poison = kit.probe_event("poison", 1, poison=True)
        after = [kit.probe_event(f"after{i}", i) for i in range(3)]
        await kit.enqueue([poison, *after], key="one-aggregate")
        await producer.send_and_wait(kit.topic, value=b"{not json", key=b"one-aggregate")
        await (await kit.relay()).publish_batch()

        # The buggy consumer parks the poison event, the partition keeps flowing;
        # a bystander group (another service) handles everything fine.
        buggy = _consumer(kit, "replay-test", record_effect, producer)
        bystander = _consumer(kit, "bystander", record_bystander, producer)

        async def flowed() -> bool:
            return all([await _effects_of(kit, f"after{i}") == 1 for i in range(3)])

        await run_until(buggy, flowed)

        async def bystander_done() -> bool:
            return bystander.handled_total == 4

        await run_until(bystander, bystander_done)
        assert buggy.dead_lettered_total == 2  # the poison event and the malformed record
        assert await _effects_of(kit, "poison") == 0

        # Replay, handler now fixed.
        said: list[str] = []
        report = await replay_dlq(servers.bootstrap, dlq_topic, say=said.append)
        assert [p.event_id for p in report.replayed] == [poison.id]
        assert report.replayed[0].consumer == "replay-test"
        assert report.position_saved
        # The malformed record, parked by both groups, is reported, never replayed.
        assert [p.consumer for p, _ in report.unreplayable] == ["replay-test", "bystander"]
        assert any(str(poison.id) in line and ProbeHappenedV1.event_type in line for line in said)
        assert all("malformed" in line for line in said[-3:-1])
        assert "replayed 1" in said[-1] and "not replayable 2" in said[-1]

        replayed = [
            m
            for m in await kit.read_topic(kit.topic, expected=6)
            if any(k == REPLAY_FOR_HEADER for k, _ in m.headers)
        ]
        assert len(replayed) == 1
        headers = dict(replayed[0].headers)
        assert headers[REPLAY_FOR_HEADER] == b"replay-test"
        assert "mpp-error" not in headers  # the dead-letter headers stay behind
        assert replayed[0].key == b"one-aggregate"
        assert json.loads(replayed[0].value)["id"] == str(poison.id)

        fixed = _consumer(kit, "replay-test", record_effect_fixed, producer)

        async def poison_handled() -> bool:
            return await _effects_of(kit, "poison") == 1

        await run_until(fixed, poison_handled)
        assert fixed.handled_total == 1
        outcome = await kit.pool.fetchval(
            "SELECT outcome FROM inbox WHERE consumer = 'replay-test' AND event_id = $1", poison.id
        )
        assert outcome == "handled"

        # The bystander sees the replayed record and changes nothing.
        bystander_again = _consumer(kit, "bystander", record_bystander, producer)

        async def bystander_saw_it() -> bool:
            return bystander_again.seen >= 1

        await run_until(bystander_again, bystander_saw_it)
        assert bystander_again.handled_total == 0
        assert await kit.pool.fetchval("SELECT count(*) FROM bystander_effects") == 4

        # Replay again: the position says nothing is left ...
        again = await replay_dlq(servers.bootstrap, dlq_topic, say=said.append)
        assert again.read == 0 and again.replayed == []
        # ... and forcing it by event id is absorbed by the inbox.
        forced = await replay_dlq(servers.bootstrap, dlq_topic, event_ids={poison.id}, say=print)
        assert [p.event_id for p in forced.replayed] == [poison.id]
        assert not forced.position_saved
        fixed_again = _consumer(kit, "replay-test", record_effect_fixed, producer)

        async def saw_forced_replay() -> bool:
            return fixed_again.seen >= 1

        await run_until(fixed_again, saw_forced_replay)
        assert fixed_again.handled_total == 0
        assert await _effects_of(kit, "poison") == 1
        assert len(await kit.effects()) == 4


async def test_replay_before_the_fix_parks_again_and_a_later_replay_still_works(
    database: str, servers
) -> None:
    async with Kit(database, servers.bootstrap) as kit:
        dlq_topic = kit.topic + ".dlq"
        producer = await kit.producer()
        poison = kit.probe_event("poison", 1, poison=True)
        await kit.enqueue([poison], key="k")
        await (await kit.relay()).publish_batch()

        async def parked(n: int) -> Any:
            async def check() -> bool:
                return buggy.dead_lettered_total == n

            return check

        buggy = _consumer(kit, "early-replay", record_effect, producer)
        await run_until(buggy, await parked(1))

        # Dry run: tells, sends nothing, keeps the position.
        dry = await replay_dlq(servers.bootstrap, dlq_topic, dry_run=True, say=print)
        assert [p.event_id for p in dry.replayed] == [poison.id]
        assert not dry.position_saved
        # Filters: parked before `since` is left out.
        later = await replay_dlq(
            servers.bootstrap, dlq_topic, since=datetime.now(UTC) + timedelta(hours=1), say=print
        )
        assert later.replayed == [] and later.filtered == 1

        # Replayed too early (the handler is still broken): parked once more.
        first = await replay_dlq(servers.bootstrap, dlq_topic, say=print)
        assert [p.event_id for p in first.replayed] == [poison.id]
        buggy = _consumer(kit, "early-replay", record_effect, producer)
        await run_until(buggy, await parked(1))
        assert await _effects_of(kit, "poison") == 0
        assert len(await kit.read_topic(dlq_topic, expected=2)) == 2

        # The re-parked record is past the saved position: the next replay takes it.
        second = await replay_dlq(servers.bootstrap, dlq_topic, say=print)
        assert [p.event_id for p in second.replayed] == [poison.id]
        assert second.replayed[0].offset > first.replayed[0].offset
        fixed = _consumer(kit, "early-replay", record_effect_fixed, producer)

        async def handled() -> bool:
            return await _effects_of(kit, "poison") == 1

        await run_until(fixed, handled)
        assert await _effects_of(kit, "poison") == 1


async def test_command_line(database: str, servers) -> None:
    async with Kit(database, servers.bootstrap) as kit:
        dlq_topic = kit.topic + ".dlq"
        producer = await kit.producer()
        poison = kit.probe_event("poison", 1, poison=True)
        await kit.enqueue([poison], key="k")
        await (await kit.relay()).publish_batch()
        buggy = _consumer(kit, "cli-test", record_effect, producer)

        async def parked() -> bool:
            return buggy.dead_lettered_total == 1

        await run_until(buggy, parked)

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "mpp_shared.messaging.replay", *args],
                capture_output=True,
                text=True,
                timeout=60,
                env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": servers.bootstrap},
            )

        dry = run("--topic", dlq_topic, "--event-id", str(poison.id), "--dry-run")
        assert dry.returncode == 0, dry.stderr
        assert f"would replay {poison.id} {ProbeHappenedV1.event_type}" in dry.stdout
        assert "cannot handle probe poison" in dry.stdout

        wrong = run("--topic", kit.topic)
        assert wrong.returncode == 2
        assert "not a dead-letter topic" in wrong.stderr
        bad_id = run("--topic", dlq_topic, "--event-id", "nope")
        assert bad_id.returncode == 2
        assert "not an event id" in bad_id.stderr

        real = run("--topic", dlq_topic)
        assert real.returncode == 0, real.stderr
        assert "replayed 1" in real.stdout and "position saved" in real.stdout
        assert "replayed 0" in run("--topic", dlq_topic).stdout
