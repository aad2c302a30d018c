"""HTTP load generator of the benchmark: closed-loop clients on one keep-alive session.

`run_load` drives `POST /v1/applications` with `concurrency` worker coroutines
sharing a single aiohttp ClientSession (one pooled connection per worker).
Every worker sends its next request as soon as the previous answer is read.
Requests completing during the warm-up are not counted; after the warm-up,
every request completing inside the measurement window is.

`process_entry` runs the same generator in its own process (spawned by
`tests.bench.run`), so the client's event loop never shares a thread with the
benchmark's Kafka consumer and samplers; only the CPU cores are shared.
"""

from __future__ import annotations

import asyncio
import json
import os
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


def request_bodies(count: int = 50_000) -> list[bytes]:
    """Pre-encoded request bodies, one resident each, so the client spends no time on JSON."""
    return [
        json.dumps(
            {
                "service_code": "ktp_el",
                "nik": resident_nik(i),
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

    def record(self, outcome: str, started: float, ended: float, text: str) -> None:
        self.answered += 1
        if outcome == "201":
            self.created += 1
        if ended > self.stop_at:
            self.in_flight += 1
        elif ended >= self.measure_from:
            if outcome == "201":
                self.latencies.append(ended - started)
            else:
                self.errors[outcome] += 1
        if text and len(self.samples) < 5:
            self.samples.append(f"{outcome}: {text}")


async def _post(session: aiohttp.ClientSession, url: str, body: bytes) -> tuple[str, str]:
    """One request: its outcome ("201", "HTTP <status>" or an exception class
    name) and, unless it is a 201, the start of what explains it."""
    try:
        async with session.post(url, data=body) as resp:
            payload = await resp.read()
            status = resp.status
    except Exception as exc:  # counted, never fatal for the benchmark
        return type(exc).__name__, str(exc)[:300]
    if status == 201:
        return "201", ""
    return f"HTTP {status}", payload[:300].decode(errors="replace")


async def run_load(params: LoadParams) -> LoadResult:
    bodies = request_bodies()
    headers = {
        "Authorization": f"Bearer {params.token}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    connector = aiohttp.TCPConnector(
        limit=params.concurrency, limit_per_host=params.concurrency, ttl_dns_cache=None
    )
    timeout = aiohttp.ClientTimeout(total=params.request_timeout)

    perf_start = time.perf_counter()
    wall_start = time.time()
    measure_from = perf_start + params.warmup
    tally = Tally(measure_from=measure_from, stop_at=measure_from + params.duration)

    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, headers=headers
    ) as session:

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
                tally.record(outcome, started, perf(), text)

        await asyncio.gather(*(worker(i) for i in range(params.concurrency)))

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
