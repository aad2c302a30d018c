"""Benchmark of the whole system on one machine (`make bench`).

    python -m tests.bench.run [--concurrency 32] [--duration 20] [--warmup 3]
                              [--relay-events 20000] [--json PATH]

Starts the embedded stack (PostgreSQL, the Tansu broker, the four services) in
a temporary directory with tracing on at the default sampling (spans are
created; none is exported unless OTEL_EXPORTER_OTLP_ENDPOINT is set), then
measures:

1. intake `POST /v1/applications`: requests/s and p50/p99 latency with N
   closed-loop keep-alive clients (one aiohttp session; by default in a
   separate process, see `--loadgen`);
2. commit-to-consume latency of `mpp.applications` during that load, seen by
   an outside consumer group (CloudEvent `time` -> receipt);
3. outbox relay throughput: N rows committed at once into intake's outbox,
   timed from the commit until the relay has published them all;
4. peak RSS of each service process (children included), sampled throughout.

Prints the figures beside their targets. Exits 0 whatever the figures; only a
stack that fails to start or dies during the run gives a non-zero exit code.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import json
import logging
import multiprocessing
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import psutil
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener
from aiokafka.admin import AIOKafkaAdminClient

from mpp_shared.auth import mint_token
from mpp_shared.db import with_database
from mpp_shared.events.envelope import CloudEvent
from mpp_shared.events.topics import Topic
from mpp_shared.messaging.kafka import ensure_topics
from mpp_shared.messaging.outbox import WAKE_CHANNEL
from mpp_shared.settings import ServiceSettings
from mpp_shared.stack.stack import SERVICES, Stack
from tests.bench.loadgen import LoadParams, LoadResult, process_entry, run_load

log = logging.getLogger("bench")

BENCH_TOPIC = "mpp.bench"
MiB = 1024 * 1024

# Targets of the architecture.
TARGET_RPS = 1000.0
TARGET_HTTP_P99_MS = 50.0
TARGET_RELAY_EPS = 2000.0
TARGET_C2C_P99_MS = 1000.0
TARGET_RSS_MIB = 200.0


class StackFailure(RuntimeError):
    """The stack could not start or a process of it died: exit non-zero."""


# --------------------------------------------------------------------------- args


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m tests.bench.run",
        description="Throughput, latency and memory figures of the embedded MPP stack.",
    )
    p.add_argument("--concurrency", type=int, default=32, help="HTTP clients (default 32)")
    p.add_argument("--duration", type=float, default=20.0, help="measured seconds (default 20)")
    p.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds first (default 3)")
    p.add_argument(
        "--relay-events", type=int, default=20000, help="outbox rows for the relay (default 20000)"
    )
    p.add_argument("--relay-keys", type=int, default=100, help="distinct keys (default 100)")
    p.add_argument(
        "--relay-timeout", type=float, default=180.0, help="give up on the relay after (s)"
    )
    p.add_argument(
        "--loadgen",
        choices=["process", "inline"],
        default="process",
        help="run the HTTP clients in a separate process (default) or in this one",
    )
    p.add_argument("--sample-interval", type=float, default=0.5, help="RSS sampling period (s)")
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    p.add_argument("--keep-workdir", action="store_true", help="keep the temp dir (logs, data)")
    return p.parse_args(argv)


# --------------------------------------------------------------------------- helpers


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of `values`; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "physical_cores": psutil.cpu_count(logical=False),
        "memory_gib": round(psutil.virtual_memory().total / 1024**3, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError):
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        info["cgroup_cpu_limit"] = "none" if quota == "max" else f"{int(quota) / int(period):g}"
    return info


def telemetry_info() -> dict[str, str]:
    return {
        "tracing": "on (OTEL_SDK_DISABLED unset)",
        "sampler": os.environ.get("OTEL_TRACES_SAMPLER", "default (parentbased_always_on)"),
        "exporter_endpoint": os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        or "none (spans created, not exported)",
    }


# --------------------------------------------------------------------------- process sampling


@dataclass
class Tracked:
    name: str
    pid: int
    is_service: bool
    include_children: bool = True
    peak_rss: int = 0
    peak_children: int = 0
    process: psutil.Process | None = field(default=None, repr=False)


class ProcessSampler(threading.Thread):
    """Samples RSS (process + children) of the stack's processes every `interval`.

    A thread, so that sampling goes on while the event loop is busy.
    """

    def __init__(self, interval: float) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self.interval = interval
        self.tracked: dict[str, Tracked] = {}
        self.samples = 0
        self._halt = threading.Event()
        self._lock = threading.Lock()

    def track(
        self, name: str, pid: int, *, is_service: bool, include_children: bool = True
    ) -> None:
        with contextlib.suppress(psutil.Error):
            entry = Tracked(name, pid, is_service, include_children, process=psutil.Process(pid))
            with self._lock:
                self.tracked[name] = entry

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval)

    def sample(self) -> None:
        with self._lock:
            entries = list(self.tracked.values())
        for entry in entries:
            assert entry.process is not None
            try:
                rss = entry.process.memory_info().rss
                children = entry.process.children(recursive=True) if entry.include_children else []
            except psutil.Error:
                continue
            for child in children:
                with contextlib.suppress(psutil.Error):
                    rss += child.memory_info().rss
            entry.peak_rss = max(entry.peak_rss, rss)
            entry.peak_children = max(entry.peak_children, len(children))
        self.samples += 1

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds (user + system) used so far by each tracked process tree."""
        out: dict[str, float] = {}
        with self._lock:
            entries = list(self.tracked.values())
        for entry in entries:
            assert entry.process is not None
            try:
                procs = [entry.process]
                if entry.include_children:
                    procs += entry.process.children(recursive=True)
            except psutil.Error:
                continue
            total = 0.0
            for proc in procs:
                with contextlib.suppress(psutil.Error):
                    t = proc.cpu_times()
                    total += t.user + t.system
            out[entry.name] = total
        return out

    def stop(self) -> None:
        self._halt.set()
        if self.is_alive():
            self.join(5)
        self.sample()


# --------------------------------------------------------------------------- Kafka probe


class _Assigned(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, event: asyncio.Event) -> None:
        self.event = event

    async def on_partitions_revoked(self, revoked: Any) -> None:
        pass

    async def on_partitions_assigned(self, assigned: Any) -> None:
        if assigned:
            self.event.set()


class EventProbe:
    """An outside system's consumer (own group) timing events from creation to receipt."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
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
                    if event_id in self.samples:
                        self.duplicates += 1
                        continue
                    self.samples[event_id] = (created, received - created)

    async def wait_for(self, count: int, within: float, idle: float = 10.0) -> None:
        """Until `count` events were received, `within` s passed, or nothing came for `idle` s."""
        deadline = time.monotonic() + within
        last_n, last_change = len(self.samples), time.monotonic()
        while len(self.samples) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            if len(self.samples) != last_n:
                last_n, last_change = len(self.samples), time.monotonic()
            elif time.monotonic() - last_change > idle:
                break

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.consumer.stop(), 10)


# --------------------------------------------------------------------------- phases


async def run_http_load(
    params: LoadParams, mode: str, sampler: ProcessSampler, on_start: Any
) -> LoadResult:
    """Run the load inline or in a spawned process; `on_start()` is called as it begins."""
    if mode == "inline":
        on_start()
        return await run_load(params)
    ctx = multiprocessing.get_context("spawn")
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=process_entry, args=(sender, params), name="bench-loadgen")
    proc.start()
    sender.close()
    loop = asyncio.get_running_loop()
    limit = params.warmup + params.duration + params.request_timeout + 60
    deadline = time.monotonic() + limit
    try:
        while True:
            ready = await loop.run_in_executor(None, receiver.poll, 0.5)
            if ready:
                try:
                    kind, value = receiver.recv()
                except EOFError as exc:
                    raise RuntimeError(f"load generator exited with {proc.exitcode}") from exc
                if kind == "ready":
                    sampler.track("load generator", int(value), is_service=False)
                    on_start()
                elif kind == "result":
                    return value  # type: ignore[no-any-return]
                else:
                    raise RuntimeError(f"load generator failed: {value}")
            elif not proc.is_alive():
                raise RuntimeError(f"load generator exited with {proc.exitcode}")
            if time.monotonic() > deadline:
                raise RuntimeError("load generator did not finish in time")
    finally:
        proc.join(10)
        if proc.is_alive():
            proc.terminate()
            proc.join(5)
        receiver.close()


async def unpublished(dsn: str) -> int:
    """Outbox rows not yet published in the database of `dsn`."""
    conn = await asyncpg.connect(dsn)
    try:
        query = "SELECT count(*) FROM outbox WHERE published_at IS NULL"
        return int(await conn.fetchval(query))
    finally:
        await conn.close()


async def wait_quiet(
    stack: Stack, sampler: ProcessSampler, within: float = 120.0, cores: float = 0.25
) -> float:
    """Wait until every outbox is drained and the stack uses < `cores` CPU; returns seconds.

    After the HTTP load the other services still consume its events (and their
    own cascades); the relay measurement must not share the CPU with that.
    """
    assert stack.database_url
    started = time.monotonic()
    names = [*SERVICES, "postgres", "broker"]
    while time.monotonic() - started < within:
        backlog = 0
        for name in SERVICES:
            backlog += await unpublished(with_database(stack.database_url, stack.db_prefix + name))
        before = sampler.cpu_seconds()
        await asyncio.sleep(1.0)
        after = sampler.cpu_seconds()
        used = sum(after.get(n, 0.0) - before.get(n, 0.0) for n in names)
        if backlog == 0 and used < cores:
            break
    return time.monotonic() - started


@dataclass
class RelayResult:
    events: int
    published: int
    seconds: float
    insert_seconds: float
    finished: bool

    @property
    def events_per_second(self) -> float:
        return self.published / self.seconds if self.seconds > 0 else 0.0


async def run_relay(stack: Stack, events: int, keys: int, give_up_after: float) -> RelayResult:
    assert stack.database_url and stack.kafka_bootstrap
    settings = ServiceSettings()
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap, client_id="bench-admin")
    await admin.start()
    try:
        await ensure_topics(
            admin,
            [BENCH_TOPIC],
            partitions=settings.kafka_topic_partitions,
            replication=settings.kafka_replication_factor,
        )
    finally:
        await admin.close()

    rows = []
    for i in range(events):
        event_id = uuid.uuid4()
        key = f"bench-{i % keys:04d}"
        event = CloudEvent(
            id=event_id, source="/mpp/bench", type="mpp.bench.ping.v1", subject=key, data={"seq": i}
        )
        rows.append((event_id, BENCH_TOPIC, key, event.type, event.to_bytes(), None, None))

    conn = await asyncpg.connect(with_database(stack.database_url, stack.db_prefix + "intake"))
    try:
        t0 = time.perf_counter()
        async with conn.transaction():
            await conn.copy_records_to_table(
                "outbox",
                records=rows,
                columns=[
                    "event_id",
                    "topic",
                    "key",
                    "event_type",
                    "payload",
                    "traceparent",
                    "tracestate",
                ],
            )
            # Wakes the relay on commit, as `enqueue` does.
            await conn.execute("SELECT pg_notify($1, '')", WAKE_CHANNEL)
        committed = time.perf_counter()
        left = events
        while True:
            left = int(
                await conn.fetchval(
                    "SELECT count(*) FROM outbox WHERE published_at IS NULL AND topic = $1",
                    BENCH_TOPIC,
                )
            )
            now = time.perf_counter()
            if left == 0 or now - committed > give_up_after:
                break
            await asyncio.sleep(0.05)
        return RelayResult(
            events=events,
            published=events - left,
            seconds=now - committed,
            insert_seconds=committed - t0,
            finished=left == 0,
        )
    finally:
        await conn.close()


def _busy_seconds(before: Any, after: Any) -> float:
    """Machine-wide busy CPU seconds between two psutil.cpu_times() readings."""
    total = sum(after) - sum(before)
    idle = (after.idle - before.idle) + (
        getattr(after, "iowait", 0.0) - getattr(before, "iowait", 0.0)
    )
    return float(total - idle)


def check_alive(stack: Stack) -> None:
    for name, proc in stack.services.items():
        if proc.process is None or proc.process.poll() is not None:
            code = proc.process.returncode if proc.process is not None else None
            raise StackFailure(
                f"service {name} is not running (exit code {code}); see {proc.log_path}"
            )
    if stack.broker is not None and (
        stack.broker.process is None or stack.broker.process.poll() is not None
    ):
        raise StackFailure("the broker is not running")


# --------------------------------------------------------------------------- report


def verdict(met: bool | None) -> str:
    if met is None:
        return "n/a"
    return "met" if met else "NOT MET"


def fmt_ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f} ms"


def build_report(
    args: argparse.Namespace,
    machine: dict[str, Any],
    load: LoadResult,
    probe: EventProbe,
    relay: RelayResult | None,
    sampler: ProcessSampler,
    cpu_during_load: dict[str, float],
    machine_busy_cores: float,
    quiet_seconds: float,
) -> dict[str, Any]:
    rps = len(load.latencies) / load.window_seconds if load.window_seconds else 0.0
    p50 = percentile(load.latencies, 50)
    p99 = percentile(load.latencies, 99)

    in_window = [
        lat
        for created, lat in probe.samples.values()
        if load.window_start_wall <= created <= load.window_end_wall
    ]
    c2c_p50 = percentile(in_window, 50)
    c2c_p99 = percentile(in_window, 99)
    c2c_max = max(in_window) if in_window else None

    services = {
        name: round(t.peak_rss / MiB, 1) for name, t in sampler.tracked.items() if t.is_service
    }
    others = {
        name: round(t.peak_rss / MiB, 1) for name, t in sampler.tracked.items() if not t.is_service
    }
    return {
        "parameters": {
            "concurrency": args.concurrency,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "relay_events": args.relay_events,
            "relay_keys": args.relay_keys,
            "loadgen": args.loadgen,
            "sample_interval_s": args.sample_interval,
        },
        "machine": machine,
        "telemetry": telemetry_info(),
        "http": {
            "requests_per_second": round(rps, 1),
            "created_in_window": len(load.latencies),
            "p50_ms": None if p50 is None else round(p50 * 1000, 2),
            "p99_ms": None if p99 is None else round(p99 * 1000, 2),
            "max_ms": round(max(load.latencies) * 1000, 2) if load.latencies else None,
            "errors_in_window": load.errors,
            "error_samples": load.error_samples,
            "created_total_with_warmup": load.created_total,
            "in_flight_at_end": load.in_flight_at_end,
        },
        "commit_to_consume": {
            "events_in_window": len(in_window),
            "events_received_total": len(probe.samples),
            "events_expected_total": load.created_total,
            "duplicates": probe.duplicates,
            "unparsable": probe.unparsable,
            "p50_ms": None if c2c_p50 is None else round(c2c_p50 * 1000, 1),
            "p99_ms": None if c2c_p99 is None else round(c2c_p99 * 1000, 1),
            "max_ms": None if c2c_max is None else round(c2c_max * 1000, 1),
        },
        "relay": None
        if relay is None
        else {
            "events": relay.events,
            "published": relay.published,
            "seconds": round(relay.seconds, 3),
            "events_per_second": round(relay.events_per_second, 1),
            "insert_seconds": round(relay.insert_seconds, 3),
            "finished": relay.finished,
            "quiet_wait_seconds": round(quiet_seconds, 1),
        },
        "peak_rss_mib": services,
        "peak_rss_mib_other": others,
        "rss_samples": sampler.samples,
        "cpu_during_load": {
            "machine_busy_cores": round(machine_busy_cores, 2),
            "cores_used": {k: round(v, 2) for k, v in cpu_during_load.items()},
        },
        "verdicts": {
            "http_rps": rps >= TARGET_RPS,
            "http_p99": p99 is not None and p99 * 1000 <= TARGET_HTTP_P99_MS,
            "relay_eps": relay is not None
            and relay.finished
            and relay.events_per_second >= TARGET_RELAY_EPS,
            "commit_to_consume_p99": c2c_p99 is not None and c2c_p99 * 1000 < TARGET_C2C_P99_MS,
            **{f"rss_{n}": v <= TARGET_RSS_MIB for n, v in services.items()},
        },
    }


def print_report(r: dict[str, Any]) -> None:
    m, p, h, c, rl, v = (
        r["machine"],
        r["parameters"],
        r["http"],
        r["commit_to_consume"],
        r["relay"],
        r["verdicts"],
    )
    line = "=" * 86
    print()
    print(line)
    print("MPP benchmark - embedded stack: PostgreSQL, Tansu, intake/documents/complaints/notify")
    print(line)
    print(
        f"machine   : {m.get('cpu_model', '?')}; {m['logical_cpus']} logical CPUs "
        f"({m['usable_cpus']} usable, cgroup limit {m.get('cgroup_cpu_limit', 'n/a')}), "
        f"{m['memory_gib']} GiB RAM"
    )
    print(f"            {m['platform']}, Python {m['python']}")
    t = r["telemetry"]
    print(f"telemetry : tracing {t['tracing']}; sampler {t['sampler']}")
    print(f"            exporter {t['exporter_endpoint']}")
    print(
        f"parameters: --concurrency {p['concurrency']} --duration {p['duration_s']:g} "
        f"--warmup {p['warmup_s']:g} --relay-events {p['relay_events']} "
        f"--relay-keys {p['relay_keys']} --loadgen {p['loadgen']} "
        f"--sample-interval {p['sample_interval_s']:g}"
    )
    print(
        "            HTTP: POST /v1/applications, closed loop, 1 aiohttp session, keep-alive, "
        f"load generator {'in its own process' if p['loadgen'] == 'process' else 'in-process'}"
    )
    print(line)
    rows: list[tuple[str, str, str, str]] = []

    def row(label: str, figure: str, target: str = "", ok: bool | None = None) -> None:
        rows.append((label, figure, target, verdict(ok) if target else ""))

    row(
        "intake POST requests/s (201 only)",
        f"{h['requests_per_second']:.1f}/s",
        ">= 1,000/s",
        v["http_rps"],
    )
    row("intake POST latency p50", fmt_ms(None if h["p50_ms"] is None else h["p50_ms"] / 1000))
    row(
        "intake POST latency p99",
        fmt_ms(None if h["p99_ms"] is None else h["p99_ms"] / 1000),
        "<= 50 ms",
        v["http_p99"],
    )
    row("intake POST latency max", fmt_ms(None if h["max_ms"] is None else h["max_ms"] / 1000))
    errors = ", ".join(f"{k}: {n}" for k, n in sorted(h["errors_in_window"].items())) or "none"
    row("intake POST errors in window", errors)
    if rl is not None:
        row(
            "outbox relay events/s",
            f"{rl['events_per_second']:.1f}/s"
            + ("" if rl["finished"] else f" (unfinished: {rl['published']}/{rl['events']})"),
            ">= 2,000/s",
            v["relay_eps"],
        )
        row("  relay: events, commit->all published", f"{rl['events']} in {rl['seconds']:.2f} s")
    row(
        "commit-to-consume p50",
        fmt_ms(None if c["p50_ms"] is None else c["p50_ms"] / 1000),
    )
    row(
        "commit-to-consume p99",
        fmt_ms(None if c["p99_ms"] is None else c["p99_ms"] / 1000),
        "< 1 s",
        v["commit_to_consume_p99"],
    )
    row("commit-to-consume max", fmt_ms(None if c["max_ms"] is None else c["max_ms"] / 1000))
    row(
        "  events timed (window) / received / expected",
        f"{c['events_in_window']} / {c['events_received_total']} / {c['events_expected_total']}",
    )
    for name, mib in r["peak_rss_mib"].items():
        row(f"peak RSS {name}", f"{mib:.1f} MiB", "<= 200 MiB", v[f"rss_{name}"])
    for name, mib in r["peak_rss_mib_other"].items():
        # PostgreSQL's shared buffers are counted once per backend in this sum.
        label = "postgres, all backends summed" if name == "postgres" else name
        row(f"peak RSS {label} (info)", f"{mib:.1f} MiB")

    widths = [
        max(len(x[i]) for x in [*rows, ("figure", "value", "target", "verdict")]) for i in range(4)
    ]
    header = ("figure", "value", "target", "verdict")
    print("  ".join(h_.ljust(w) for h_, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for x in rows:
        print("  ".join(col.ljust(w) for col, w in zip(x, widths, strict=True)).rstrip())
    print(line)
    cpu = r["cpu_during_load"]
    shares = ", ".join(f"{k} {v_:.2f}" for k, v_ in cpu["cores_used"].items())
    print(
        f"CPU in the measured HTTP window: {cpu['machine_busy_cores']:.2f} of "
        f"{r['machine']['logical_cpus']} cores busy; cores used by:"
    )
    print(f"  {shares}")
    if h["error_samples"]:
        print("error samples:")
        for s in h["error_samples"]:
            print(f"  {s}")
    print(
        "notes: commit-to-consume = consumer receipt - CloudEvent `time` (set inside the\n"
        "       request's transaction, before commit), for events created in the window;\n"
        "       RSS includes child processes (none expected), sampled every "
        f"{p['sample_interval_s']:g} s ({r['rss_samples']} samples)."
    )
    if rl is not None:
        print(
            f"       relay: {rl['events']} rows COPY'd in one transaction "
            f"({rl['insert_seconds']:.2f} s), after {rl['quiet_wait_seconds']:.0f} s waiting\n"
            "       for the stack to be idle (outboxes empty, < 0.25 core busy)."
        )
    print(line)


# --------------------------------------------------------------------------- main


async def bench(stack: Stack, args: argparse.Namespace, sampler: ProcessSampler) -> dict[str, Any]:
    assert stack.kafka_bootstrap
    settings = ServiceSettings()
    token = mint_token(
        settings.jwt_secret,
        subject="bench-frontdesk",
        roles=["frontdesk"],
        counter="MPP-01",
        issuer=settings.jwt_issuer,
    )
    params = LoadParams(
        url=f"{stack.services['intake'].url}/v1/applications",
        token=token,
        concurrency=args.concurrency,
        warmup=args.warmup,
        duration=args.duration,
    )

    print("starting the commit-to-consume probe (own consumer group)...", flush=True)
    probe = EventProbe(stack.kafka_bootstrap, Topic.APPLICATIONS.value)
    await probe.start()
    try:
        print(
            f"HTTP load: {args.concurrency} clients, {args.warmup:g} s warm-up + "
            f"{args.duration:g} s measured ({args.loadgen})...",
            flush=True,
        )
        # CPU accounting for the measured window, taken from a timer so that
        # it brackets the window whichever mode runs the load.
        cpu_marks: dict[str, Any] = {}
        tasks: list[asyncio.Task[None]] = []

        async def mark_cpu() -> None:
            await asyncio.sleep(args.warmup)
            cpu_marks["before"] = sampler.cpu_seconds()
            cpu_marks["sys_before"] = psutil.cpu_times()
            cpu_marks["t0"] = time.monotonic()
            await asyncio.sleep(args.duration)
            cpu_marks["after"] = sampler.cpu_seconds()
            cpu_marks["sys_after"] = psutil.cpu_times()
            cpu_marks["t1"] = time.monotonic()

        def on_start() -> None:
            tasks.append(asyncio.create_task(mark_cpu()))

        # This process alone: the stack's processes are its children.
        sampler.track("bench (this process)", os.getpid(), is_service=False, include_children=False)
        load = await run_http_load(params, args.loadgen, sampler, on_start)
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(task, 5)
        check_alive(stack)
        cores: dict[str, float] = {}
        machine_busy = 0.0
        if "after" in cpu_marks:
            span = cpu_marks["t1"] - cpu_marks["t0"]
            for name, used in cpu_marks["after"].items():
                cores[name] = (used - cpu_marks["before"].get(name, 0.0)) / span
            machine_busy = _busy_seconds(cpu_marks["sys_before"], cpu_marks["sys_after"]) / span
            cores["other processes on the machine"] = max(0.0, machine_busy - sum(cores.values()))
        print("waiting for the events of the load to reach the probe...", flush=True)
        await probe.wait_for(load.created_total, within=60)
    finally:
        await probe.stop()

    print("waiting for the stack to be idle before the relay measurement...", flush=True)
    quiet = await wait_quiet(stack, sampler)
    relay: RelayResult | None = None
    if args.relay_events > 0:
        print(f"outbox relay: {args.relay_events} rows on {BENCH_TOPIC}...", flush=True)
        relay = await run_relay(stack, args.relay_events, args.relay_keys, args.relay_timeout)
    check_alive(stack)
    sampler.stop()  # takes a last sample
    return build_report(
        args,
        machine_info(),
        load,
        probe,
        relay,
        sampler,
        cores,
        machine_busy,
        quiet,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # The benchmark always measures the embedded servers with tracing on.
    for name in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "OTEL_SDK_DISABLED"):
        if os.environ.pop(name, None) is not None:
            print(f"note: ignoring {name} from the environment", file=sys.stderr)

    workdir = Path(tempfile.mkdtemp(prefix="mpp-bench-"))
    keep = {"workdir": args.keep_workdir}

    def remove_workdir() -> None:
        if not keep["workdir"]:
            shutil.rmtree(workdir, ignore_errors=True)

    # Registered before the stack starts, so that it runs after the embedded
    # PostgreSQL's own exit handler (which writes into the work dir).
    atexit.register(remove_workdir)
    stack = Stack(workdir=workdir, fixed_ports=False)
    sampler = ProcessSampler(args.sample_interval)
    failed = False
    try:
        print(f"starting the embedded stack in {workdir}...", flush=True)
        started = time.monotonic()
        try:
            stack.start_servers()
            if stack.postgres is not None and stack.postgres.pid:
                sampler.track("postgres", stack.postgres.pid, is_service=False)
            if stack.broker is not None and stack.broker.process is not None:
                sampler.track("broker", stack.broker.process.pid, is_service=False)
            sampler.start()
            stack.start_services()
        except Exception as exc:
            raise StackFailure(f"the stack did not start: {exc}") from exc
        for name, proc in stack.services.items():
            assert proc.process is not None
            sampler.track(name, proc.process.pid, is_service=True)
        print(f"stack ready in {time.monotonic() - started:.1f} s", flush=True)

        report = asyncio.run(bench(stack, args, sampler))
        print_report(report)
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=2, default=str) + "\n")
            print(f"figures written to {args.json}")
        return 0
    except StackFailure as exc:
        failed = True
        print(f"STACK FAILURE: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        failed = True
        print("interrupted", file=sys.stderr)
        return 130
    except Exception:
        failed = True
        log.exception("benchmark failed")
        return 1
    finally:
        # The stack first: nothing may leave its processes running.
        try:
            stack.stop()
        finally:
            sampler.stop()
        if failed or args.keep_workdir:
            keep["workdir"] = True
            print(f"logs and data kept in {workdir}", file=sys.stderr)
        else:
            remove_workdir()


if __name__ == "__main__":
    sys.exit(main())
