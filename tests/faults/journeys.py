"""The load a fault case runs under: a steady stream of whole journeys.

``JourneyLoad(stack, *, rate=4.0, request_timeout=20.0)``
    Starts ``rate`` complete journeys per second: submit (unique NIK and phone,
    one Idempotency-Key per journey, reused on every retry) -> verify -> wait
    for the documents job -> in_production -> produced -> ready_for_pickup ->
    picked_up. A refused call (503, 502/504, connection error, timeout) is
    retried with backoff and the same key; a 409 whose current state is at or
    past the wanted one counts as done (the first try went through). A 500 or
    any other surprise is recorded in ``load.unexpected`` and the journey keeps
    trying. ``start()``, ``await stop()`` (no new journeys), ``await
    drain(timeout)`` (stop, then wait until every started journey is picked up;
    AssertionError naming the stuck ones). Figures: ``accepted`` (application id
    -> ``Journey``), ``started``, ``refusals`` (kind -> count),
    ``slowest_refusal`` (seconds the slowest 503 took), ``hangs`` (calls that
    timed out client-side), ``unexpected``, ``completed``, ``drain_seconds``,
    ``latencies`` (seconds, every answered HTTP call).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import httpx

from tests.faults.harness import FaultStack
from tests.support.auth import auth
from tests.support.http import LIVE
from tests.support.identities import nik, phone

PICKUP_POINT = "KEC-PARE"
JobState = Literal["queued", "in_production", "produced", "ready_for_pickup", "picked_up"]
STEPS: tuple[JobState, ...] = (
    "queued",
    "in_production",
    "produced",
    "ready_for_pickup",
    "picked_up",
)
# Where a journey stands: before its job exists, then its job's state.
JourneyState = Literal["new", "submitted", "verified"] | JobState


@dataclass
class Journey:
    index: int
    key: str
    nik: str
    phone: str
    application_id: str | None = None
    tracking_code: str | None = None
    job_id: str | None = None
    state: JourneyState = "new"
    done: bool = False
    error: str | None = None


_RETRYABLE = {502, 503, 504}


class JourneyLoad:
    """A steady stream of complete journeys; see the module docstring."""

    # Loads started and not yet drained. A case that fails before it drains
    # its load leaves it running on the session's event loop; the faults
    # conftest ends those after each case (`end_leftovers`), so one failure
    # does not load and confuse every case after it.
    running: ClassVar[set[JourneyLoad]] = set()

    def __init__(
        self, stack: FaultStack, *, rate: float = 4.0, request_timeout: float = 20.0
    ) -> None:
        self.stack = stack
        self.rate = rate
        self.request_timeout = request_timeout
        self.journeys: list[Journey] = []
        self.accepted: dict[str, Journey] = {}
        self.refusals: Counter[str] = Counter()
        self.unexpected: list[str] = []
        self.hangs: list[str] = []
        self.slowest_refusal = 0.0
        self.drain_seconds = 0.0
        self.latencies: list[float] = []  # seconds, every answered HTTP call
        self._tasks: set[asyncio.Task[None]] = set()
        self._starter: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self._headers = {
            role: auth(role) for role in ("frontdesk", "verifier", "production", "pickup")
        }

    @property
    def started(self) -> int:
        return len(self.journeys)

    @property
    def completed(self) -> int:
        return sum(1 for j in self.journeys if j.done)

    def start(self) -> None:
        assert self._starter is None, "already started"
        self._client = httpx.AsyncClient(
            timeout=self.request_timeout,
            # Idle connections dropped as every test client drops them (LIVE).
            limits=httpx.Limits(max_connections=200, keepalive_expiry=LIVE.keepalive_expiry),
        )
        self._starter = asyncio.create_task(self._start_journeys())
        JourneyLoad.running.add(self)

    async def _start_journeys(self) -> None:
        interval = 1.0 / self.rate
        next_at = time.monotonic()
        while True:
            journey = self._new_journey()
            task = asyncio.create_task(self._run(journey))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    def _new_journey(self) -> Journey:
        journey = Journey(
            index=len(self.journeys), key=str(uuid.uuid4()), nik=nik(), phone=phone().typed
        )
        self.journeys.append(journey)
        return journey

    async def stop(self) -> None:
        if self._starter is not None:
            self._starter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._starter

    @classmethod
    async def end_leftovers(cls) -> int:
        """Cancel every load still running (its journeys, its client); how many."""
        leftovers = list(cls.running)
        for load in leftovers:
            await load.stop()
            tasks = list(load._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if load._client is not None:
                await load._client.aclose()
            cls.running.discard(load)
        return len(leftovers)

    async def drain(self, timeout: float = 90.0) -> None:
        """No new journeys; wait until every started one is picked up."""
        JourneyLoad.running.discard(self)
        await self.stop()
        started = time.monotonic()
        pending = [t for t in self._tasks if not t.done()]
        if pending:
            _done, still = await asyncio.wait(pending, timeout=timeout)
            for task in still:
                task.cancel()
            await asyncio.gather(*still, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
        self.drain_seconds = time.monotonic() - started
        stuck = [j for j in self.journeys if not j.done]
        if stuck:
            listing = "; ".join(
                f"#{j.index} {j.application_id} at {j.state}" + (f" ({j.error})" if j.error else "")
                for j in stuck[:20]
            )
            raise AssertionError(f"{len(stuck)} journeys did not finish in {timeout}s: {listing}")

    # one journey

    async def _run(self, j: Journey) -> None:
        try:
            await self._submit(j)
            await self._verify(j)
            await self._await_job(j)
            for target in STEPS[1:]:
                await self._move(j, target)
            j.done = True
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the journey is reported stuck with its reason
            j.error = f"{type(exc).__name__}: {exc}"

    async def _call(self, what: str, method: str, url: str, **kw: Any) -> httpx.Response:
        """One call until it is not refused: retried with backoff on 5xx/503,
        connection errors and timeouts. A 500 is recorded as unexpected."""
        assert self._client is not None
        wait = 0.2
        while True:
            started = time.monotonic()
            try:
                answer = await self._client.request(method, url, **kw)
            except httpx.TimeoutException:
                self.hangs.append(f"{what}: no answer within {self.request_timeout}s")
                self.refusals["timeout"] += 1
            except httpx.TransportError as exc:
                self.refusals[type(exc).__name__] += 1
            else:
                took = time.monotonic() - started
                self.latencies.append(took)
                if answer.status_code in _RETRYABLE:
                    self.refusals[str(answer.status_code)] += 1
                    self.slowest_refusal = max(self.slowest_refusal, took)
                elif answer.status_code >= 500:
                    self.refusals[str(answer.status_code)] += 1
                    self.unexpected.append(f"{what}: {answer.status_code} {answer.text[:200]}")
                else:
                    return answer
            await asyncio.sleep(wait * (0.5 + random.random()))
            wait = min(wait * 2, 2.0)

    async def _submit(self, j: Journey) -> None:
        body = {
            "service_code": "ktp_el",
            "nik": j.nik,
            "full_name": "Budi Santoso",
            "phone": j.phone,
            "channel": "mpp_desk",
            "pickup_point": "MPP",
            "documents": ["kartu_keluarga", "bukti_usia_17"],
        }
        headers = {**self._headers["frontdesk"], "Idempotency-Key": j.key}
        answer = await self._call(
            "submit",
            "POST",
            f"{self.stack.url('intake')}/v1/applications",
            json=body,
            headers=headers,
        )
        if answer.status_code != 201:
            self.unexpected.append(f"submit: {answer.status_code} {answer.text[:200]}")
            raise RuntimeError(f"submission refused: {answer.status_code}")
        doc = answer.json()
        j.application_id, j.tracking_code, j.state = doc["id"], doc["tracking_code"], "submitted"
        self.accepted[doc["id"]] = j

    async def _verify(self, j: Journey) -> None:
        answer = await self._call(
            "verify",
            "POST",
            f"{self.stack.url('intake')}/v1/applications/{j.application_id}/verification",
            json={"decision": "verified"},
            headers=self._headers["verifier"],
        )
        if not (
            answer.status_code == 200
            or (answer.status_code == 409 and answer.json().get("current_state") == "verified")
        ):
            self.unexpected.append(f"verify: {answer.status_code} {answer.text[:200]}")
            raise RuntimeError(f"verification refused: {answer.status_code}")
        j.state = "verified"

    async def _await_job(self, j: Journey) -> None:
        while True:
            answer = await self._call(
                "job",
                "GET",
                f"{self.stack.url('documents')}/v1/jobs",
                params={"application_id": j.application_id},
                headers=self._headers["production"],
            )
            if answer.status_code != 200:
                self.unexpected.append(f"job lookup: {answer.status_code} {answer.text[:200]}")
            else:
                items = answer.json()["items"]
                if items:
                    j.job_id, j.state = items[0]["id"], items[0]["state"]
                    return
            await asyncio.sleep(0.25)

    async def _move(self, j: Journey, target: JobState) -> None:
        if STEPS.index(j.state) >= STEPS.index(target):
            return
        change: dict[str, Any] = {"to": target}
        role = "production"
        if target == "ready_for_pickup":
            change["pickup_point"] = PICKUP_POINT
        if target == "picked_up":
            change["collector_nik"] = j.nik
            role = "pickup"
        answer = await self._call(
            f"move to {target}",
            "POST",
            f"{self.stack.url('documents')}/v1/jobs/{j.job_id}/transitions",
            json=change,
            headers=self._headers[role],
        )
        if answer.status_code == 200:
            j.state = target
            return
        if answer.status_code == 409:
            current = answer.json().get("current_state")
            if current in STEPS and STEPS.index(current) >= STEPS.index(target):
                j.state = current  # an earlier try went through; its answer was lost
                return
        self.unexpected.append(f"move to {target}: {answer.status_code} {answer.text[:200]}")
        raise RuntimeError(f"transition to {target} refused: {answer.status_code}")
