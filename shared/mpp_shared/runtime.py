"""Service runtime: what every service process runs beside its HTTP API
(`mpp_shared.service` builds the app around it).

On start-up: telemetry, database pool (waiting for the database), migrations,
broker clients, topics, the outbox relay, the consumers, the audit sealer and
the service's own background tasks. On shutdown: cancel the background tasks,
stop consuming, commit, flush the relay, close everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from mpp_shared import migrate
from mpp_shared.audit_sealer import audit_sealer
from mpp_shared.db import create_pool
from mpp_shared.events.topics import ALL_TOPICS
from mpp_shared.messaging.consumer import EventConsumer, EventHandler
from mpp_shared.messaging.kafka import ensure_topics, make_admin, make_producer
from mpp_shared.messaging.outbox import OutboxRelay
from mpp_shared.metrics import OUTBOX_GAUGES, SnapshotGauge, Snapshots
from mpp_shared.settings import ServiceSettings

log = logging.getLogger(__name__)


@dataclass
class ConsumerSpec:
    topics: list[str]
    handlers: Mapping[str, EventHandler]
    group: str | None = None  # defaults to the service name


# A service's own long-running task (e.g. a scheduler), started once the
# runtime is up (pool, migrations, relay) and cancelled first on shutdown, so
# it must leave nothing half done when cancelled (work in transactions).
BackgroundTask = Callable[["Runtime"], Awaitable[None]]


@dataclass
class Runtime:
    settings: ServiceSettings
    migrations_dir: Path
    consumer_specs: list[ConsumerSpec] = field(default_factory=list)
    background: Sequence[BackgroundTask] = ()
    # The service's own gauges read from its database (mpp_shared.metrics).
    gauges: Sequence[SnapshotGauge] = ()
    # What /health/ready shows beside its checks, e.g. notify's channels.
    readiness_info: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    pool: asyncpg.Pool = field(init=False)
    relay: OutboxRelay = field(init=False)
    consumers: list[EventConsumer] = field(init=False, default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(init=False, default_factory=list)
    _background_tasks: list[asyncio.Task[None]] = field(init=False, default_factory=list)

    @property
    def migration_sources(self) -> dict[str, Path]:
        return {
            "shared": migrate.SHARED_MIGRATIONS,
            self.settings.service_name: self.migrations_dir,
        }

    async def start(self) -> None:
        s = self.settings
        self.pool = await _retry(
            "database",
            lambda: create_pool(
                s.database_url,
                min_size=s.database_pool_min,
                max_size=s.database_pool_max,
                command_timeout=s.database_command_timeout,
            ),
        )
        async with self.pool.acquire() as conn:
            await migrate.apply_migrations(conn, self.migration_sources)
        self.producer = make_producer(s, f"{s.service_name}-relay")
        self.admin = make_admin(s, f"{s.service_name}-admin")
        await _retry("broker", self.producer.start)
        await _retry("broker admin", self.admin.start)
        await ensure_topics(
            self.admin,
            ALL_TOPICS,
            partitions=s.kafka_topic_partitions,
            replication=s.kafka_replication_factor,
        )
        self.relay = OutboxRelay(
            pool=self.pool,
            producer=self.producer,
            admin=self.admin,
            settings=s,
            service=s.service_name,
        )
        self._tasks.append(asyncio.create_task(self.relay.run(), name="outbox-relay"))
        for spec in self.consumer_specs:
            consumer = EventConsumer(
                name=spec.group or s.service_name,
                topics=spec.topics,
                handlers=spec.handlers,
                pool=self.pool,
                dlq_producer=self.producer,
                settings=s,
            )
            self.consumers.append(consumer)
            self._tasks.append(
                asyncio.create_task(consumer.run(), name=f"consumer-{consumer.name}")
            )
        snapshots = Snapshots(s.service_name, [*OUTBOX_GAUGES, *self.gauges])
        # Every service seals its own audit trail (mpp_shared.audit_sealer).
        for hook in [*self.background, audit_sealer, _metrics_refresher(snapshots)]:
            name = getattr(hook, "__name__", "background")
            self._background_tasks.append(
                asyncio.create_task(self._run_background(name, hook), name=name)
            )

    async def _run_background(self, name: str, hook: BackgroundTask) -> None:
        try:
            await hook(self)
        except Exception:
            log.exception("background task %s stopped with an error", name)

    async def stop(self) -> None:
        for task in self._background_tasks:
            task.cancel()
        await asyncio.gather(*self._background_tasks, return_exceptions=True)
        for consumer in self.consumers:
            consumer.stop()
        self.relay.stop()
        if self._tasks:
            _done, still = await asyncio.wait(self._tasks, timeout=8)
            for task in still:
                task.cancel()
            await asyncio.gather(*still, return_exceptions=True)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.producer.stop(), 5)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.admin.close(), 5)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.pool.close(), 5)

    async def readiness(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            async with self.pool.acquire(timeout=2) as conn:
                left = await migrate.pending(conn, self.migration_sources)
            checks["database"] = "ok"
            checks["migrations"] = "ok" if not left else f"pending: {', '.join(left)}"
        except Exception as exc:
            checks["database"] = f"unreachable: {type(exc).__name__}"
        try:
            await asyncio.wait_for(self.admin.list_topics(), 2)
            checks["broker"] = "ok"
        except Exception as exc:
            checks["broker"] = f"unreachable: {type(exc).__name__}"
        return checks


def _metrics_refresher(snapshots: Snapshots) -> BackgroundTask:
    async def refresh_metrics(runtime: Runtime) -> None:
        while True:
            await snapshots.refresh(runtime.pool)
            snapshots.record_readiness(await runtime.readiness())
            await asyncio.sleep(runtime.settings.metrics_refresh_interval)

    return refresh_metrics


async def _retry(what: str, start: Any, seconds: float = 60.0) -> Any:
    deadline = time.monotonic() + seconds
    delay = 0.2
    while True:
        try:
            return await start()
        except Exception as exc:
            if time.monotonic() > deadline:
                raise
            log.warning("waiting for %s: %s", what, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
