"""Soak: whole journeys at a steady rate for a long time, with random kills.

    make soak SOAK_ARGS="--minutes 10 --rate 4 --kill-every 60"

Starts a stack of its own (the fault suite's harness: embedded PostgreSQL,
Tansu, the four services, a fake SMS gateway and OPD webhook receiver;
their spans go to a collector in a process of its own,
`tests.bench.span_sink`), runs
journeys (submit -> verify -> production -> pickup) at `--rate` per second,
SIGKILLs a random service every `--kill-every` seconds and starts it again,
samples each service's resident memory every `--sample-every` seconds, then
drains the load and checks the invariants (every accepted request reached
its final state, every effect happened once). Prints throughput, latency
percentiles of the answered HTTP calls, the calls refused with 503 +
Retry-After (admission control, or a database out of reach) apart from them,
refusals during the kills, the journeys lost, the invariant result and
memory over time. Exit status 1 when an invariant fails or a journey is lost.

A refused call is sent again, with the same Idempotency-Key where it has
one, after the Retry-After seconds times 1 to 1.5 (`SoakLoad`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import random
import ssl
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from mpp_devstack.stack import SERVICES
from tests.bench.loadgen import retry_after_seconds
from tests.bench.span_sink import SpanSink
from tests.faults.harness import FaultStack
from tests.faults.invariants import check_invariants
from tests.faults.journeys import Journey, JourneyLoad
from tests.support.http import LIVE


def rss_mib(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class SoakLoad(JourneyLoad):
    """The fault suite's journeys, honouring 503 + Retry-After: a refused
    call waits the seconds the service asked for (times 1 to 1.5) and is
    sent again unchanged (same Idempotency-Key). `latencies` holds the
    answered calls only; the refused are counted in `refused` (by the
    answer's code: overloaded, unavailable) with their own latencies.
    `on_the_wire` times the answered calls from their request's first byte
    sent to their answer's headers read.

    The journeys stand for many citizens and officers, not for one program:
    each journey has its own client and connections (`_run`). One client
    shared by every journey (even one allowed 2,000 connections) held calls
    for seconds in its connection pool after a restarted service's backlog,
    and timed that as the services' latency."""

    def __init__(self, stack: FaultStack, *, rate: float) -> None:
        super().__init__(stack, rate=rate)
        self.refused: Counter[str] = Counter()
        self.refused_latencies: list[float] = []
        self.on_the_wire: list[float] = []
        self.connecting: list[float] = []  # answered calls that opened a connection
        # Answered calls over SLOW_CALL, by call and status, and where their
        # time went: in httpx before its connection pool, waiting in the
        # pool, connecting, on the wire, after the answer's headers
        # (seconds, summed).
        self.slow: Counter[str] = Counter()
        self.slow_phases: dict[str, list[float]] = {}
        # When they started, in seconds from the load's start (`started_at`).
        self.slow_seconds: Counter[int] = Counter()
        self.started_at = 0.0

    def start(self) -> None:
        super().start()
        self.started_at = time.monotonic()

    def _note_slow(
        self, what: str, status: int, started: float, took: float, wire: dict[str, float]
    ) -> None:
        key = f"{what.split(' ')[0]} {status}"
        self.slow[key] += 1
        self.slow_seconds[int(started - self.started_at)] += 1
        sent, answered = wire.get(SENT, started + took), wire.get(ANSWERED, started + took)
        handed = wire.get(HANDED, started)
        # A new connection: the pool's wait ends as its TCP connect starts.
        connecting, connected = wire.get(CONNECTING, sent), wire.get(CONNECTED, sent)
        phases = self.slow_phases.setdefault(key, [0.0] * 5)
        phases[0] += handed - started
        phases[1] += connecting - handed
        phases[2] += connected - connecting
        phases[3] += answered - sent
        phases[4] += started + took - answered

    async def _run(self, j: Journey) -> None:
        # Each journey its own client and connections, as each citizen and
        # officer has: no journey waits for another's connection.
        async with httpx.AsyncClient(
            timeout=self.request_timeout,
            limits=LIVE,
            verify=_TLS,
            event_hooks={"request": [_handed], "response": []},
        ) as client:
            _journey_client.set(client)
            await super()._run(j)

    async def _call(self, what: str, method: str, url: str, **kw: Any) -> httpx.Response:
        client = _journey_client.get()
        backoff = 0.2  # after a failed connection, a timeout or a 5xx without Retry-After
        while True:
            started = time.monotonic()
            wire: dict[str, float] = {}

            async def trace(
                event: str, _info: dict[str, Any], wire: dict[str, float] = wire
            ) -> None:
                if event in TIMED:
                    wire[event] = time.monotonic()

            try:
                answer = await client.request(method, url, **kw, extensions={"trace": trace})
            except httpx.TimeoutException:
                self.hangs.append(f"{what}: no answer within {self.request_timeout}s")
                self.refusals["timeout"] += 1
            except httpx.TransportError as exc:
                self.refusals[type(exc).__name__] += 1
            else:
                took = time.monotonic() - started
                retry_after = retry_after_seconds(answer.headers.get("Retry-After"))
                if answer.status_code == 503 and retry_after is not None:
                    self.refused[_code(answer)] += 1
                    self.refused_latencies.append(took)
                    await asyncio.sleep(retry_after * (1.0 + random.random() / 2))
                    continue
                self.latencies.append(took)
                if took > SLOW_CALL:
                    self._note_slow(what, answer.status_code, started, took, wire)
                if SENT in wire and ANSWERED in wire:
                    self.on_the_wire.append(wire[ANSWERED] - wire[SENT])
                if CONNECTING in wire and CONNECTED in wire:
                    self.connecting.append(wire[CONNECTED] - wire[CONNECTING])
                if answer.status_code in (502, 503, 504):
                    self.refusals[str(answer.status_code)] += 1
                    self.slowest_refusal = max(self.slowest_refusal, took)
                elif answer.status_code >= 500:
                    self.refusals[str(answer.status_code)] += 1
                    self.unexpected.append(f"{what}: {answer.status_code} {answer.text[:200]}")
                else:
                    return answer
            await asyncio.sleep(backoff * (0.5 + random.random()))
            backoff = min(backoff * 2, 2.0)


# The journey's own client (`SoakLoad._run`).
_journey_client: contextvars.ContextVar[httpx.AsyncClient] = contextvars.ContextVar("client")
# The services answer plain HTTP on loopback: one TLS context for every
# journey's client instead of loading the CA bundle for each.
_TLS = ssl.create_default_context()


async def _handed(request: httpx.Request) -> None:
    trace = request.extensions.get("trace")
    if trace is not None:
        await trace(HANDED, {})


# The request handed to the connection pool (`_handed`, a request hook).
HANDED = "client.request_hook"
# httpcore's trace events: the request's headers start out, the answer's are read.
SENT = "http11.send_request_headers.started"
ANSWERED = "http11.receive_response_headers.complete"
# An answered call slower than this is listed by what it was (`SoakLoad.slow`).
SLOW_CALL = 2.0
# A new connection's TCP connect, before its first request.
CONNECTING = "connection.connect_tcp.started"
CONNECTED = "connection.connect_tcp.complete"
TIMED = (HANDED, SENT, ANSWERED, CONNECTING, CONNECTED)


def _code(answer: httpx.Response) -> str:
    try:
        return str(answer.json().get("code", "503"))
    except ValueError:
        return "503"


@dataclass
class SoakRun:
    """What a soak saw: memory samples and kills (seconds since the start),
    and where waiting happens: the soak's own event-loop lag and each
    service's /health/live round trip (never refused, so its time is the
    service's event loop being busy, plus this process's lag)."""

    memory: list[tuple[float, dict[str, float | None]]] = field(default_factory=list)
    kills: list[tuple[float, str]] = field(default_factory=list)
    client_lag: list[float] = field(default_factory=list)
    probe: dict[str, list[float]] = field(default_factory=dict)
    elapsed: float = 0.0
    client_cpu: float = 0.0  # CPU seconds of this process (the clients)
    invariant: str = "held"


async def sample_and_kill(
    stack: FaultStack, load: JourneyLoad, args: argparse.Namespace, run: SoakRun
) -> None:
    """For `args.minutes`: sample memory every `args.sample_every` seconds and
    SIGKILL (then restart) a random service every `args.kill_every` seconds."""
    rng = random.Random(args.seed)
    started = time.monotonic()
    end = started + args.minutes * 60
    next_kill = started + args.kill_every if args.kill_every > 0 else float("inf")
    next_sample = started
    while time.monotonic() < end:
        now = time.monotonic()
        if now >= next_sample:
            sample = {
                name: rss_mib(proc.process.pid if proc.process else None)
                for name, proc in stack.services.items()
            }
            run.memory.append((now - started, sample))
            print(
                f"{now - started:7.0f} s  journeys {load.started:6d} started "
                f"{load.completed:6d} done  "
                + "  ".join(f"{n} {v:.0f} MiB" for n, v in sample.items() if v is not None),
                flush=True,
            )
            next_sample = now + args.sample_every
        if now >= next_kill:
            victim = rng.choice(SERVICES)
            run.kills.append((now - started, victim))
            print(f"{now - started:7.0f} s  SIGKILL {victim}", flush=True)
            await stack.restart(victim)
            next_kill = time.monotonic() + args.kill_every
        await asyncio.sleep(1.0)


async def pulse(stack: FaultStack, run: SoakRun, every: float = 0.5) -> None:
    """Until cancelled: the soak's event-loop lag and a /health/live round
    trip to each service, every `every` seconds."""
    async with httpx.AsyncClient(timeout=30.0) as client:
        while True:
            asked = time.monotonic()
            await asyncio.sleep(every)
            run.client_lag.append(time.monotonic() - asked - every)
            for name in SERVICES:
                started = time.monotonic()
                try:
                    await client.get(f"{stack.url(name)}/health/live")
                except httpx.TransportError:
                    continue  # killed or restarting
                run.probe.setdefault(name, []).append(time.monotonic() - started)


def _p(values: list[float], share: float) -> str:
    return f"{percentile(values, share) * 1000:.0f} ms" if values else "-"


def print_summary(args: argparse.Namespace, load: SoakLoad, run: SoakRun) -> None:
    latencies = load.latencies
    print()
    print(
        f"soak: {args.minutes} min at {args.rate}/s, {len(run.kills)} kills ({run.elapsed:.0f} s)"
    )
    print(f"journeys accepted {len(load.accepted)}, completed {load.completed}")
    print(f"throughput: {load.completed / run.elapsed:.2f} journeys/s")
    if latencies:
        print(
            f"answered HTTP calls {len(latencies)}: "
            f"p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
            f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms, "
            f"max {max(latencies) * 1000:.0f} ms"
        )
    wire = load.on_the_wire
    if wire:
        print(
            f"  of which on the wire (request sent -> answer's headers): "
            f"p50 {_p(wire, 0.5)}, p99 {_p(wire, 0.99)}"
        )
    if load.connecting:
        print(
            f"  {len(load.connecting)} of them opened a connection first (TCP connect): "
            f"p50 {_p(load.connecting, 0.5)}, p99 {_p(load.connecting, 0.99)}, "
            f"max {_p(load.connecting, 1.0)}"
        )
    for key, n in load.slow.most_common(6):
        client, pool, connect, on_wire, after = (t / n for t in load.slow_phases[key])
        print(
            f"  over {SLOW_CALL:g} s: {n} x {key}, on average {client:.1f} s in httpx before "
            f"its pool, {pool:.1f} s waiting in the pool, {connect:.1f} s connecting, "
            f"{on_wire:.1f} s on the wire, {after:.1f} s after the answer's headers"
        )
    if load.slow_seconds:
        print(
            f"  the calls over {SLOW_CALL:g} s started at (second of the load: calls) "
            + ", ".join(f"{t}: {n}" for t, n in sorted(load.slow_seconds.items()))
        )
    refused = load.refused_latencies
    print(
        f"refused with 503 + Retry-After {sum(load.refused.values())} "
        f"({', '.join(f'{k} {n}' for k, n in sorted(load.refused.items())) or 'none'})"
        + (
            f": answered in p50 {percentile(refused, 0.5) * 1000:.0f} ms, "
            f"p99 {percentile(refused, 0.99) * 1000:.0f} ms"
            if refused
            else ""
        )
    )
    print(f"journeys lost (accepted, never picked up): {lost(load)}")
    print(
        f"soak client: event-loop lag p50 {_p(run.client_lag, 0.5)}, "
        f"p99 {_p(run.client_lag, 0.99)}, max {_p(run.client_lag, 1.0)}; CPU {run.client_cpu:.0f} s"
    )
    for name, trips in run.probe.items():
        print(f"  {name:<10} /health/live round trip p50 {_p(trips, 0.5)}, p99 {_p(trips, 0.99)}")
    print(f"refusals during faults: {dict(load.refusals)}; unexpected: {len(load.unexpected)}")
    for line in load.unexpected[:10]:
        print(f"  {line}")
    print(f"kills: {', '.join(f'{t:.0f}s {n}' for t, n in run.kills) or 'none'}")
    print("memory (MiB) over time:")
    for name in SERVICES:
        values = [v for _t, m in run.memory if (v := m.get(name)) is not None]
        if values:
            print(
                f"  {name:<10} first {values[0]:.0f}  median {statistics.median(values):.0f}  "
                f"max {max(values):.0f}  last {values[-1]:.0f}"
            )
    print(f"invariants: {run.invariant}")


def lost(load: JourneyLoad) -> int:
    return sum(1 for j in load.accepted.values() if not j.done)


async def soak(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="mpp-soak-"))
    # Spans exported as in production, to a collector in a process of its own.
    sink = SpanSink()
    stack = FaultStack(workdir, keep_spans=False, extra_env=sink.env())
    print(f"starting the stack in {workdir} ...", flush=True)
    await asyncio.to_thread(stack.start)
    run = SoakRun()
    load = SoakLoad(stack, rate=args.rate)
    started = time.monotonic()
    cpu_started = time.process_time()
    pulsing = asyncio.create_task(pulse(stack, run))
    try:
        load.start()
        await sample_and_kill(stack, load, args, run)
        print("draining ...", flush=True)
        try:
            await load.drain(timeout=args.drain_timeout)
        except AssertionError as exc:  # stuck journeys: reported, then the invariants
            run.invariant = f"BROKEN:\n{exc}"
        run.elapsed = time.monotonic() - started
        run.client_cpu = time.process_time() - cpu_started
        pulsing.cancel()
        try:
            await check_invariants(stack, load, settle=90.0)
        except AssertionError as exc:
            run.invariant = f"BROKEN:\n{exc}" + (
                "" if run.invariant == "held" else f"\n{run.invariant}"
            )
    finally:
        await asyncio.to_thread(stack.stop)
        sink.stop()
    print_summary(args, load, run)
    return 0 if run.invariant == "held" and not load.unexpected and not lost(load) else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=4.0, help="journeys started per second")
    parser.add_argument("--kill-every", type=float, default=60.0, help="seconds; 0 = no kills")
    parser.add_argument("--sample-every", type=float, default=15.0)
    parser.add_argument("--drain-timeout", type=float, default=180.0)
    parser.add_argument("--seed", type=int, default=None)
    sys.exit(asyncio.run(soak(parser.parse_args())))


if __name__ == "__main__":
    main()
