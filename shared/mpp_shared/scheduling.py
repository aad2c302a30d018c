"""What the services' timer schedulers (SLA clocks, pickup windows, complaint
deadlines) share: the loop that fires what is due and sleeps until the next
moment, and the span a fired timer's events are written under.

A scheduler says how to fire one batch in one transaction (`fire_batch`) and
how to find when its next timer comes due (`next_due_query`); exactly-once
firing is its own business (SKIP LOCKED and marks in the transaction that
writes the outbox).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar

import asyncpg
from opentelemetry import metrics, trace
from opentelemetry.propagate import extract, inject
from opentelemetry.util.types import Attributes

from mpp_shared import clock
from mpp_shared.db import DATABASE_UNAVAILABLE
from mpp_shared.runtime import Runtime

log = logging.getLogger(__name__)


def trace_carrier() -> dict[str, str]:
    """The current trace context, to store with a timer when it is set."""
    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier


@contextlib.contextmanager
def linked_root_span(
    tracer: trace.Tracer, name: str, stored: Mapping[str, Any], attributes: Attributes = None
) -> Iterator[trace.Span]:
    """A root span of its own, linked to where the timer was set (`stored`
    holds its `traceparent` / `tracestate`): days may lie between the two,
    too long for one trace."""
    started = trace.get_current_span(
        extract({k: v for k in ("traceparent", "tracestate") if (v := stored[k])})
    ).get_span_context()
    with tracer.start_as_current_span(
        name,
        context=trace.set_span_in_context(trace.INVALID_SPAN),
        links=[trace.Link(started)] if started.is_valid else None,
        attributes=attributes,
    ) as span:
        yield span


class TimerScheduler(ABC):
    """Fires due timers; any number may run side by side."""

    name: ClassVar[str]  # in logs and the background task's name
    # The earliest moment still to fire, NULL when nothing is (index lookups only).
    next_due_query: ClassVar[str]
    # The counter of events fired, by "kind": (meter, counter, description).
    metric: ClassVar[tuple[str, str, str]]
    # Every kind it counts: each starts at 0, so the first one fired is an
    # increase an alert sees, not the birth of a series.
    kinds: ClassVar[tuple[str, ...]]

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        now: Callable[[], datetime] = clock.now,
        interval: float = 5.0,
        batch_size: int = 100,
    ) -> None:
        self.pool = pool
        self.now = now
        self.interval = interval
        self.batch_size = batch_size
        self.fired_total = 0
        self._stop = asyncio.Event()
        meter, counter, description = self.metric
        self.fired_counter = metrics.get_meter(meter).create_counter(
            counter, unit="{event}", description=description
        )
        for kind in self.kinds:
            self.fired_counter.add(0, {"kind": kind})

    @classmethod
    def task(cls, interval: float) -> Callable[[Runtime], Awaitable[None]]:
        """The background task `create_service_app(background=...)` runs."""

        async def run(runtime: Runtime) -> None:
            await cls(runtime.pool, interval=interval).run()

        run.__name__ = f"{cls.name.replace(' ', '_')}_scheduler"
        return run

    @abstractmethod
    async def fire_batch(self, now: datetime) -> tuple[int, int]:
        """Fire up to `batch_size` due units in one transaction; returns (events
        written, units claimed). Claiming fewer than `batch_size` means
        nothing more is due (or the rest is held by another instance)."""

    async def next_due(self) -> datetime | None:
        """The earliest moment still to fire, None when nothing is."""
        result: datetime | None = await self.pool.fetchval(self.next_due_query)
        return result

    def stop(self) -> None:
        self._stop.set()

    async def tick(self) -> int:
        """Fire everything due now; returns how many events were written."""
        fired = 0
        while True:
            count, claimed = await self.fire_batch(self.now())
            fired += count
            self.fired_total += count
            if claimed < self.batch_size:
                return fired

    async def run(self) -> None:
        """Tick, then sleep until the next timer comes due (at most `interval`),
        until stopped or cancelled; an outage of the database is logged and
        retried."""
        failures = 0
        while not self._stop.is_set():
            try:
                await self.tick()
                wait = self._until(await self.next_due())
                failures = 0
            except Exception as exc:
                failures += 1
                wait = min(0.25 * 2**failures, self.interval)
                if isinstance(exc, DATABASE_UNAVAILABLE):
                    log.warning("%s scheduler: database unavailable (%s), retrying", self.name, exc)
                else:
                    log.exception("%s scheduler: tick failed, retrying", self.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), wait)

    def _until(self, next_due: datetime | None) -> float:
        if next_due is None:
            return self.interval
        # Something due but not fired is held by another instance: look again soon.
        seconds = (next_due - self.now()).total_seconds()
        return min(max(seconds, 0.05), self.interval)
