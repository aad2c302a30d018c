"""HTTP load generator of the benchmark, on one keep-alive aiohttp session.

`run_load` drives `POST /v1/applications` in one of two ways:

- closed loop (`rate` None): `concurrency` worker coroutines, one pooled
  connection each; every worker sends its next request as soon as the
  previous answer is read. This finds the saturation rate.
- open loop (`rate` requests/s): request i is due at start + i / rate and is
  sent then, whether or not earlier answers came back (as many connections
  as are in flight). Its latency is counted from the moment it was due, not
  from when it could be sent: a stall of the server shows in every request
  that should have gone out meanwhile (no coordinated omission). The id of
  each application created in the window is kept with that moment, to time
  what follows from it (the citizen's message).

Requests completing during the warm-up are not counted; after the warm-up,
every request completing inside the measurement window is.

A 503 with `Retry-After` (the service's admission control turning the excess
away) is neither an answer nor an error: it is counted as refused, and the
same request is sent again after the seconds it says (times 1 to 1.5, so the
refused do not all come back at once), unless that is past the window. An
answered request's latency runs from the moment its last try was due, so
the answered p50/p99 are those of the calls the service took; the refusals
are reported beside them.

`process_entry` runs the same generator in its own process (spawned by
`tests.bench.run`), so the client's event loop never shares a thread with the
benchmark's Kafka consumer and samplers; only the CPU cores are shared.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import aiohttp

# Valid NIKs: kecamatan 350604, a birth date DDMMYY and a 4-digit serial. Each
# request is a different resident (one active application per NIK and service
# is the rule), with every required paper handed in.
NIK_REGION = "350604"


def resident_nik(i: int) -> str:
    serial = i % 9999 + 1
    day = (i // 9999) % 28 + 1
    month = (i // (9999 * 28)) % 12 + 1
    return f"{NIK_REGION}{day:02d}{month:02d}66{serial:04d}"


def request_bodies(count: int = 50_000, first: int = 0) -> list[bytes]:
    """Pre-encoded request bodies, one resident each (from resident `first`
    on), so the client spends no time on JSON."""
    return [
        json.dumps(
            {
                "service_code": "ktp_el",
                "nik": resident_nik(first + i),
                "full_name": "Budi Santoso",
                "phone": "081234567890",
                "channel": "mpp_desk",
                "pickup_point": "MPP",
                "documents": ["kartu_keluarga", "bukti_usia_17"],
            }
        ).encode()
        for i in range(count)
    ]


@dataclass
class LoadParams:
    url: str
    token: str
    concurrency: int
    warmup: float
    duration: float
    request_timeout: float = 30.0
    # Open loop at this many requests/s; None: closed loop with `concurrency` clients.
    rate: float | None = None
    # The first resident of the run: runs on one stack use different residents
    # (one active application per resident and service).
    first_resident: int = 0


@dataclass
class LoadResult:
    # Wall-clock (time.time) bounds of the measurement window, to compare
    # with the CloudEvent `time` of the events the requests produced.
    window_start_wall: float
    window_end_wall: float
    # Length of the measurement window in seconds (monotonic clock).
    window_seconds: float
    # Latency in seconds of every 201 answer completed inside the window.
    latencies: list[float] = field(default_factory=list)
    # Everything that was not a 201 inside the window: "HTTP <status>" or an
    # exception class name, with counts.
    errors: dict[str, int] = field(default_factory=dict)
    # 201 answers over the whole run, warm-up included (= events expected).
    created_total: int = 0
    # Requests answered (any outcome) over the whole run.
    answered_total: int = 0
    # Requests still unanswered when the window closed (their answers are not counted).
    in_flight_at_end: int = 0
    # A sample of non-201 answer bodies, to explain errors.
    error_samples: list[str] = field(default_factory=list)
    # 503 + Retry-After (admission control) inside the window, and over the
    # whole run; each was sent again after Retry-After.
    refused: int = 0
    refused_total: int = 0
    # Open loop: the rate asked for, and for each application created in the
    # window the wall-clock moment its request was due.
    rate: float | None = None
    due_wall: dict[str, float] = field(default_factory=dict)


@dataclass
class Tally:
    """What the workers counted; `record` is called once per answered request."""

    measure_from: float  # perf_counter bounds of the measurement window
    stop_at: float
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    created: int = 0
    answered: int = 0
    in_flight: int = 0
    refused: int = 0
    refused_total: int = 0
    # perf_counter -> wall clock, and the due moment of each application
    # created in the window (open loop).
    wall_offset: float = 0.0
    due_wall: dict[str, float] = field(default_factory=dict)

    def record(
        self, outcome: str, started: float, ended: float, text: str, created_id: str = ""
    ) -> None:
        self.answered += 1
        if outcome == "201":
            self.created += 1
        if ended > self.stop_at:
            self.in_flight += 1
        elif ended >= self.measure_from:
            if outcome == "201":
                self.latencies.append(ended - started)
                if created_id:
                    self.due_wall[created_id] = started + self.wall_offset
            else:
                self.errors[outcome] += 1
        if text and len(self.samples) < 5:
            self.samples.append(f"{outcome}: {text}")

    def record_refusal(self, ended: float) -> None:
        """A 503 with Retry-After: not an answer, not an error."""
        self.refused_total += 1
        if self.measure_from <= ended <= self.stop_at:
            self.refused += 1

    async def retry_after(self, seconds: float) -> float | None:
        """Wait out a refusal; the moment the retry is due, or None when that
        is past the window (the request is given up)."""
        due = time.perf_counter() + seconds * (1.0 + random.random() / 2)
        if due >= self.stop_at:
            return None
        await asyncio.sleep(due - time.perf_counter())
        return due


REFUSED = "refused"


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After in seconds (the services send whole seconds); None if absent or a date."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


async def _post(
    session: aiohttp.ClientSession, url: str, body: bytes, want_id: bool = False
) -> tuple[str, str]:
    """One request: its outcome ("201", REFUSED, "HTTP <status>" or an
    exception class name) and, unless it is a 201, the start of what explains
    it (for REFUSED: the Retry-After seconds); for a 201 with `want_id`, the
    created application's id."""
    try:
        async with session.post(url, data=body) as resp:
            payload = await resp.read()
            status = resp.status
            retry_after = retry_after_seconds(resp.headers.get("Retry-After"))
    except Exception as exc:  # counted, never fatal for the benchmark
        return type(exc).__name__, str(exc)[:300]
    if status == 201:
        return "201", str(json.loads(payload).get("id", "")) if want_id else ""
    if status == 503 and retry_after is not None:
        return REFUSED, str(retry_after)
    return f"HTTP {status}", payload[:300].decode(errors="replace")


async def _closed_loop(
    session: aiohttp.ClientSession, params: LoadParams, bodies: list[bytes], tally: Tally
) -> None:
    async def worker(index: int) -> None:
        n = index
        perf = time.perf_counter
        while True:
            started = perf()
            if started >= tally.stop_at:
                return
            body = bodies[n % len(bodies)]
            n += params.concurrency
            outcome, text = await _post(session, params.url, body)
            while outcome == REFUSED:
                tally.record_refusal(perf())
                if (due := await tally.retry_after(float(text))) is None:
                    return
                started = due
                outcome, text = await _post(session, params.url, body)
            tally.record(outcome, started, perf(), text)

    await asyncio.gather(*(worker(i) for i in range(params.concurrency)))


async def _open_loop(
    session: aiohttp.ClientSession,
    params: LoadParams,
    bodies: list[bytes],
    tally: Tally,
    start: float,
) -> None:
    assert params.rate
    interval = 1.0 / params.rate
    perf = time.perf_counter
    running: set[asyncio.Task[None]] = set()

    async def one(n: int, due: float) -> None:
        body = bodies[n % len(bodies)]
        outcome, text = await _post(session, params.url, body, want_id=True)
        while outcome == REFUSED:
            tally.record_refusal(perf())
            if (retry_due := await tally.retry_after(float(text))) is None:
                return
            due = retry_due
            outcome, text = await _post(session, params.url, body, want_id=True)
        if outcome == "201":
            tally.record(outcome, due, perf(), "", created_id=text)
        else:
            tally.record(outcome, due, perf(), text)

    n = 0
    while (due := start + n * interval) < tally.stop_at:
        if (wait := due - perf()) > 0:
            await asyncio.sleep(wait)
        task = asyncio.create_task(one(n, due))
        running.add(task)
        task.add_done_callback(running.discard)
        n += 1
    if running:
        await asyncio.gather(*running)


async def run_load(params: LoadParams) -> LoadResult:
    bodies = request_bodies(first=params.first_resident)
    headers = {
        "Authorization": f"Bearer {params.token}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    # The open loop opens as many connections as requests are in flight.
    limit = params.concurrency if params.rate is None else 0
    connector = aiohttp.TCPConnector(limit=limit, limit_per_host=limit, ttl_dns_cache=None)
    timeout = aiohttp.ClientTimeout(total=params.request_timeout)

    perf_start = time.perf_counter()
    wall_start = time.time()
    measure_from = perf_start + params.warmup
    tally = Tally(
        measure_from=measure_from,
        stop_at=measure_from + params.duration,
        wall_offset=wall_start - perf_start,
    )

    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, headers=headers
    ) as session:
        if params.rate is None:
            await _closed_loop(session, params, bodies, tally)
        else:
            await _open_loop(session, params, bodies, tally, perf_start)

    return LoadResult(
        window_start_wall=wall_start + params.warmup,
        window_end_wall=wall_start + params.warmup + params.duration,
        window_seconds=params.duration,
        latencies=tally.latencies,
        errors=dict(tally.errors),
        created_total=tally.created,
        answered_total=tally.answered,
        in_flight_at_end=tally.in_flight,
        error_samples=tally.samples,
        refused=tally.refused,
        refused_total=tally.refused_total,
        rate=params.rate,
        due_wall=tally.due_wall,
    )


def _loop_factory() -> Any:
    # uvloop keeps the client lean when it is installed (it is, with uvicorn).
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop
    return uvloop.new_event_loop


def process_entry(conn: Connection, params: LoadParams) -> None:
    """Child-process entry: run the load, send the result (or the error) back."""
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            conn.send(("ready", os.getpid()))
            result = runner.run(run_load(params))
        conn.send(("result", result))
    except BaseException as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        conn.close()
