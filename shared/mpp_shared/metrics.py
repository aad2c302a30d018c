"""Metrics read from the database: gauges whose value is a query's answer
(applications per stage, open jobs per point, overdue complaints per OPD, the
outbox's backlog and the age of its oldest row) and the service's readiness.

A metric callback cannot wait on the database, so a background task of the
runtime (`Runtime._refresh_metrics`) runs every query each
`metrics_refresh_interval` seconds and the gauges report the last answers. A
query that fails drops its series until it answers again: a stale reading
would look like a healthy one. Every replica reports the same database-wide
values; dashboards and alerts take `max` over the instances of a service.

Counters of what happens (applications submitted, documents ready, messages
sent ...) live next to the code that makes it happen and are added to only
once its transaction committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import asyncpg
from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions

from mpp_shared import clock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SnapshotGauge:
    """A gauge whose readings are the rows of `query`: the column `value` is
    the reading, every other column a label."""

    name: str
    description: str
    query: str
    unit: str = ""
    # The query's $1 is the service's "now" (mpp_shared.clock), for queries
    # that compare with the business clock rather than the database's.
    uses_now: bool = False


# The outbox of every service (mpp_shared/migrations/001_plumbing.sql).
OUTBOX_GAUGES = (
    SnapshotGauge(
        "mpp.outbox.backlog",
        "Outbox rows not yet published to the broker",
        "SELECT count(*) AS value FROM outbox WHERE published_at IS NULL",
        "{event}",
    ),
    SnapshotGauge(
        "mpp.outbox.oldest_age",
        "Age of the oldest outbox row not yet published (0 when none waits)",
        "SELECT coalesce(extract(epoch FROM clock_timestamp() - min(created_at)), 0)::float8"
        " AS value FROM outbox WHERE published_at IS NULL",
        "s",
    ),
)


@dataclass
class Snapshots:
    """The last answers of a service's snapshot gauges, and its readiness."""

    service: str
    gauges: Sequence[SnapshotGauge]
    meter: metrics.Meter | None = None  # the process's meter provider's unless given
    _readings: dict[str, list[tuple[float, dict[str, str]]]] = field(default_factory=dict)
    _ready: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        meter = self.meter or metrics.get_meter("mpp.snapshots")
        for gauge in self.gauges:
            meter.create_observable_gauge(
                gauge.name,
                callbacks=[self._observe(gauge.name)],
                unit=gauge.unit,
                description=gauge.description,
            )
        meter.create_observable_gauge(
            "mpp.service.ready",
            callbacks=[
                lambda _options: [
                    metrics.Observation(value, {"check": check})
                    for check, value in list(self._ready.items())
                ]
            ],
            description="1 when the readiness check (database, migrations, broker) passes, else 0",
        )

    def _observe(self, name: str) -> Callable[[CallbackOptions], Iterable[metrics.Observation]]:
        def callback(_options: CallbackOptions) -> Iterable[metrics.Observation]:
            return [
                metrics.Observation(value, {"service": self.service, **labels})
                for value, labels in list(self._readings.get(name, []))
            ]

        return callback

    async def refresh(self, pool: asyncpg.Pool) -> None:
        for gauge in self.gauges:
            try:
                arguments = (clock.now(),) if gauge.uses_now else ()
                async with pool.acquire(timeout=5) as conn:
                    rows = await conn.fetch(gauge.query, *arguments, timeout=5)
            except Exception as exc:
                log.warning("metric %s not read: %s", gauge.name, type(exc).__name__)
                self._readings.pop(gauge.name, None)
                continue
            self._readings[gauge.name] = [_reading(row) for row in rows]

    def record_readiness(self, checks: Mapping[str, str]) -> None:
        self._ready = {check: int(state == "ok") for check, state in checks.items()}


def _reading(row: asyncpg.Record) -> tuple[float, dict[str, str]]:
    labels = {key: "none" if value is None else str(value) for key, value in row.items()}
    return float(labels.pop("value")), labels
