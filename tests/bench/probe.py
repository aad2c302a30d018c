"""The commit-to-consume probe: an outside system's consumer (its own
group) timing each event from its CloudEvent `time` to its receipt; given an
event type and a field of its data, it also notes when the first event of
that type for each value of the field arrived (the citizen's message
delivered for an application)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener

from tests.support.polling import poll_until


class _Assigned(ConsumerRebalanceListener):
    def __init__(self, event: asyncio.Event) -> None:
        self.event = event

    async def on_partitions_revoked(self, revoked: Any) -> None:
        pass

    async def on_partitions_assigned(self, assigned: Any) -> None:
        if assigned:
            self.event.set()


class EventProbe:
    """An outside system's consumer (own group) timing events from creation to receipt."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        event_type: str | None = None,
        key_field: str | None = None,
    ) -> None:
        self.topic, self.event_type, self.key_field = topic, event_type, key_field
        # Wall-clock receipt of the first event of `event_type` per `key_field` value.
        self.first_by_key: dict[str, float] = {}
        self.group = f"bench-opd-{uuid.uuid4().hex[:8]}"
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=self.group,
            client_id="bench-opd",
            enable_auto_commit=False,
            auto_offset_reset="latest",
            # The services' consumers use the same fetch wait.
            fetch_max_wait_ms=50,
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
            metadata_max_age_ms=5_000,
        )
        # (event time, latency seconds) per unique event id.
        self.samples: dict[str, tuple[float, float]] = {}
        self.duplicates = 0
        self.unparsable = 0
        self._assigned = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self, assign_within: float = 60.0) -> None:
        await self.consumer.start()
        self.consumer.subscribe([self.topic], listener=_Assigned(self._assigned))
        self._task = asyncio.create_task(self._loop(), name="bench-probe")
        await asyncio.wait_for(self._assigned.wait(), assign_within)
        # Resolve "latest" now, so that every event produced from here on is seen.
        for tp in self.consumer.assignment():
            await self.consumer.position(tp)

    async def _loop(self) -> None:
        while True:
            batch = await self.consumer.getmany(timeout_ms=200)
            received = time.time()
            for records in batch.values():
                for record in records:
                    try:
                        doc = json.loads(record.value)
                        created = datetime.fromisoformat(doc["time"]).timestamp()
                        event_id = str(doc["id"])
                    except (ValueError, KeyError, TypeError):
                        self.unparsable += 1
                        continue
                    if self.event_type is not None and doc.get("type") != self.event_type:
                        continue
                    if self.key_field is not None:
                        key = str((doc.get("data") or {}).get(self.key_field))
                        self.first_by_key.setdefault(key, received)
                    if event_id in self.samples:
                        self.duplicates += 1
                        continue
                    self.samples[event_id] = (created, received - created)

    async def wait_for(self, count: int, within: float, idle: float = 10.0) -> None:
        """Until `count` events were received, `within` s passed, or nothing came
        for `idle` s; the figures then say how many came."""
        received, changed_at = len(self.samples), time.monotonic()

        def arrived_or_idle() -> bool:
            nonlocal received, changed_at
            now = time.monotonic()
            if len(self.samples) != received:
                received, changed_at = len(self.samples), now
            return received >= count or now - changed_at > idle

        await poll_until(arrived_or_idle, within, interval=0.2)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.consumer.stop(), 10)
