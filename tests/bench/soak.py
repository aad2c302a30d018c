"""Soak: whole journeys at a steady rate for a long time, with random kills.

    make soak SOAK_ARGS="--minutes 10 --rate 4 --kill-every 60"

Starts a stack of its own (the fault suite's harness: embedded PostgreSQL,
Tansu, the four services, a fake SMS gateway and OPD webhook receiver), runs
journeys (submit -> verify -> production -> pickup) at `--rate` per second,
SIGKILLs a random service every `--kill-every` seconds and starts it again,
samples each service's resident memory every `--sample-every` seconds, then
drains the load and checks the invariants (every accepted request reached
its final state, every effect happened once). Prints throughput, latency
percentiles of the HTTP calls, refusals during the kills, the invariant
result and memory over time. Exit status 1 when an invariant fails.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from mpp_devstack.stack import SERVICES
from tests.faults.harness import FaultStack
from tests.faults.invariants import check_invariants
from tests.faults.journeys import JourneyLoad


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


@dataclass
class SoakRun:
    """What a soak saw: memory samples and kills (seconds since the start)."""

    memory: list[tuple[float, dict[str, float | None]]] = field(default_factory=list)
    kills: list[tuple[float, str]] = field(default_factory=list)
    elapsed: float = 0.0
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


def print_summary(args: argparse.Namespace, load: JourneyLoad, run: SoakRun) -> None:
    latencies = load.latencies
    print()
    print(
        f"soak: {args.minutes} min at {args.rate}/s, {len(run.kills)} kills ({run.elapsed:.0f} s)"
    )
    print(f"journeys accepted {len(load.accepted)}, completed {load.completed}")
    print(f"throughput: {load.completed / run.elapsed:.2f} journeys/s")
    if latencies:
        print(
            f"HTTP calls {len(latencies)}: p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
            f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms, "
            f"max {max(latencies) * 1000:.0f} ms"
        )
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


async def soak(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="mpp-soak-"))
    stack = FaultStack(workdir, keep_spans=False)  # spans exported, as in production, not kept
    print(f"starting the stack in {workdir} ...", flush=True)
    await asyncio.to_thread(stack.start)
    run = SoakRun()
    load = JourneyLoad(stack, rate=args.rate)
    started = time.monotonic()
    try:
        load.start()
        await sample_and_kill(stack, load, args, run)
        print("draining ...", flush=True)
        await load.drain(timeout=args.drain_timeout)
        run.elapsed = time.monotonic() - started
        try:
            await check_invariants(stack, load, settle=90.0)
        except AssertionError as exc:
            run.invariant = f"BROKEN:\n{exc}"
    finally:
        await asyncio.to_thread(stack.stop)
    print_summary(args, load, run)
    return 0 if run.invariant == "held" and not load.unexpected else 1


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
