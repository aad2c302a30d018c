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
    stop_at = measure_from + params.duration

    latencies: list[float] = []
    errors: Counter[str] = Counter()
    samples: list[str] = []
    totals = {"created": 0, "answered": 0, "in_flight": 0}

    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, headers=headers
    ) as session:

        async def worker(index: int) -> None:
            n = index
            perf = time.perf_counter
            while True:
                started = perf()
                if started >= stop_at:
                    return
                body = bodies[n % len(bodies)]
                n += params.concurrency
                text = ""
                try:
                    async with session.post(params.url, data=body) as resp:
                        payload = await resp.read()
                        status = resp.status
                    outcome = "201" if status == 201 else f"HTTP {status}"
                    if status != 201:
                        text = payload[:300].decode(errors="replace")
                except Exception as exc:  # counted, never fatal for the benchmark
                    outcome = type(exc).__name__
                    text = str(exc)[:300]
                ended = perf()
                totals["answered"] += 1
                if outcome == "201":
                    totals["created"] += 1
                if ended > stop_at:
                    totals["in_flight"] += 1
                elif ended >= measure_from:
                    if outcome == "201":
                        latencies.append(ended - started)
                    else:
                        errors[outcome] += 1
                if text and len(samples) < 5:
                    samples.append(f"{outcome}: {text}")

        await asyncio.gather(*(worker(i) for i in range(params.concurrency)))

    return LoadResult(
        window_start_wall=wall_start + params.warmup,
        window_end_wall=wall_start + params.warmup + params.duration,
        window_seconds=params.duration,
        latencies=latencies,
        errors=dict(errors),
        created_total=totals["created"],
        answered_total=totals["answered"],
        in_flight_at_end=totals["in_flight"],
        error_samples=samples,
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
