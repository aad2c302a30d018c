"""Benchmark of the whole system on one machine (`make bench`).

    python -m tests.bench.run [--concurrency 32] [--duration 20] [--warmup 3]
                              [--relay-events 20000] [--json PATH]

Starts the embedded stack (PostgreSQL, the Tansu broker, the four services) in
a temporary directory with tracing on at the default sampling (spans are
created; none is exported unless OTEL_EXPORTER_OTLP_ENDPOINT is set), then
measures:

1. saturation: intake `POST /v1/applications` requests/s and p50/p99 latency
   with N closed-loop keep-alive clients (one aiohttp session; by default in
   a separate process, see `--loadgen`);
2. commit-to-consume latency of `mpp.applications` during that load, seen by
   an outside consumer group (CloudEvent `time` -> receipt);
3. what users feel: an open loop at a fixed rate (`--rate`, by default half
   the saturation just measured), p50/p99/p99.9 of the counter POST counted
   from the moment each request was due, and end to end, from that moment
   to the `mpp.notification.delivered.v1` of the application (the citizen's
   message handed to the provider), p50/p99;
4. machine CPU milliseconds per accepted application, per process and in
   total, in both windows;
5. the anchor (`tests.bench.anchor`): a minimal FastAPI + asyncpg endpoint
   writing the application and an outbox row, traced like the services,
   started on the stack's PostgreSQL and driven by the same closed loop;
   the counter's saturation is printed as a ratio of the anchor's;
6. outbox relay throughput: N rows committed at once into intake's outbox,
   timed from the commit until the relay has published them all;
7. peak RSS of each service process (children included), sampled throughout;
8. database statements per application in the open loop, per service
   (`tests.bench.statements`: pg_stat_statements, preloaded in its server).

Notify runs without quiet hours and with no SMS rate limit here: the
benchmark measures the system, not the night or the gateway's contract (the
messages go to the log provider).

Prints the figures beside their targets. Exits 0 whatever the figures; only a
stack that fails to start or dies during the run gives a non-zero exit code.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import logging
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from mpp_devstack.embedded import free_port
from mpp_devstack.stack import Stack
from mpp_shared.db import ensure_database, with_database
from mpp_shared.events.topics import Topic
from mpp_shared.settings import ServiceSettings
from tests.bench import statements
from tests.bench.loadgen import LoadParams, LoadResult, process_entry, run_load
from tests.bench.machine import CpuDuringLoad, CpuWindow, ProcessSampler, machine_info
from tests.bench.probe import EventProbe
from tests.bench.relay import BENCH_TOPIC, RelayResult, run_relay, wait_quiet
from tests.bench.report import Anchor, OpenLoop, build_report, print_report
from tests.support.auth import token
from tests.support.polling import poll_until

log = logging.getLogger("bench")


class StackFailure(RuntimeError):
    """The stack could not start or a process of it died: exit non-zero."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m tests.bench.run",
        description="Throughput, latency and memory figures of the embedded MPP stack.",
    )
    p.add_argument("--concurrency", type=int, default=32, help="HTTP clients (default 32)")
    p.add_argument(
        "--rate",
        type=float,
        default=None,
        help="open-loop requests/s (default: half the measured saturation; 0 skips it)",
    )
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
    p.add_argument(
        "--no-anchor",
        dest="anchor",
        action="store_false",
        help="skip the anchor (a minimal FastAPI + asyncpg + outbox endpoint)",
    )
    p.add_argument("--sample-interval", type=float, default=0.5, help="RSS sampling period (s)")
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    p.add_argument("--keep-workdir", action="store_true", help="keep the temp dir (logs, data)")
    return p.parse_args(argv)


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
                    return value
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


async def measure_http(
    stack: Stack,
    args: argparse.Namespace,
    sampler: ProcessSampler,
    probe: EventProbe,
    rate: float | None = None,
    first_resident: int = 0,
) -> tuple[LoadResult, CpuDuringLoad]:
    """The HTTP load (closed loop, or open at `rate`), the CPU it took, and
    its events' arrival at the probe."""
    settings = ServiceSettings()
    params = LoadParams(
        url=f"{stack.services['intake'].url}/v1/applications",
        token=token(
            "frontdesk",
            subject="bench-frontdesk",
            secret=settings.jwt_secret,
            issuer=settings.jwt_issuer,
        ),
        concurrency=args.concurrency,
        warmup=args.warmup,
        duration=args.duration,
        rate=rate,
        first_resident=first_resident,
    )
    shape = f"{args.concurrency} clients" if rate is None else f"open loop at {rate:.1f}/s"
    print(
        f"HTTP load: {shape}, {args.warmup:g} s warm-up + "
        f"{args.duration:g} s measured ({args.loadgen})...",
        flush=True,
    )
    assert stack.database_url is not None
    server, prefix = stack.database_url, stack.db_prefix
    window = CpuWindow(
        sampler, args.warmup, args.duration, lambda: statements.per_service(server, prefix)
    )
    # This process alone: the stack's processes are its children.
    sampler.track("bench (this process)", os.getpid(), is_service=False, include_children=False)
    load = await run_http_load(params, args.loadgen, sampler, window.on_start)
    cpu = await window.result()
    check_alive(stack)
    print("waiting for the events of the load to reach the probe...", flush=True)
    await probe.wait_for(load.created_total, within=60)
    return load, cpu


ANCHOR_DATABASE = "bench_anchor"
# The open loop's residents come after the closed loop's.
OPEN_LOOP_FIRST_RESIDENT = 1_000_000
DELIVERED = "mpp.notification.delivered.v1"


async def measure_open_loop(
    stack: Stack, args: argparse.Namespace, sampler: ProcessSampler, rate: float
) -> OpenLoop:
    """The open loop at `rate`, and each created application's message
    delivered, seen on the notifications topic by an outside consumer."""
    assert stack.kafka_bootstrap
    print("waiting for the stack to be idle before the open loop...", flush=True)
    await wait_quiet(stack, sampler)
    probe = EventProbe(stack.kafka_bootstrap, Topic.APPLICATIONS.value)
    delivered = EventProbe(
        stack.kafka_bootstrap, Topic.NOTIFICATIONS.value, DELIVERED, "application_id"
    )
    await probe.start()
    await delivered.start()
    try:
        load, cpu = await measure_http(
            stack, args, sampler, probe, rate=rate, first_resident=OPEN_LOOP_FIRST_RESIDENT
        )
        print("waiting for the citizens' messages of the open loop...", flush=True)
        expected = set(load.due_wall)
        await poll_until(lambda: expected <= set(delivered.first_by_key), 60, interval=0.2)
    finally:
        await delivered.stop()
        await probe.stop()
    return OpenLoop(load=load, cpu=cpu, delivered_wall=dict(delivered.first_by_key))


def start_anchor(database_url: str, port: int, log_path: Path) -> subprocess.Popen[bytes]:
    with open(log_path, "ab") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.bench.anchor",
                str(port),
                with_database(database_url, ANCHOR_DATABASE),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop_anchor(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


async def measure_anchor(stack: Stack, args: argparse.Namespace, sampler: ProcessSampler) -> Anchor:
    """The anchor's saturation and CPU, with the stack idle beside it."""
    assert stack.database_url
    await ensure_database(stack.database_url, ANCHOR_DATABASE)
    port = free_port()
    log_path = stack.workdir / "logs" / "anchor.log"
    proc = await asyncio.to_thread(start_anchor, stack.database_url, port, log_path)
    try:
        url = f"http://127.0.0.1:{port}"

        async def up() -> bool:
            try:
                async with httpx.AsyncClient() as client:
                    return (await client.get(f"{url}/health")).status_code == 200
            except httpx.HTTPError:
                return False

        started, _ = await poll_until(up, 30, interval=0.2)
        if not started:
            raise StackFailure(f"the anchor did not start; see {log_path}")
        sampler.track("anchor", proc.pid, is_service=False)
        print("waiting for the stack to be idle before the anchor...", flush=True)
        await wait_quiet(stack, sampler)
        params = LoadParams(
            url=f"{url}/v1/applications",
            token="none",
            concurrency=args.concurrency,
            warmup=args.warmup,
            duration=args.duration,
        )
        print(
            f"anchor: {args.concurrency} clients, {args.warmup:g} s warm-up + "
            f"{args.duration:g} s measured...",
            flush=True,
        )
        window = CpuWindow(sampler, args.warmup, args.duration)
        load = await run_http_load(params, args.loadgen, sampler, window.on_start)
        return Anchor(load=load, cpu=await window.result())
    finally:
        await asyncio.to_thread(stop_anchor, proc)


async def bench(stack: Stack, args: argparse.Namespace, sampler: ProcessSampler) -> dict[str, Any]:
    assert stack.kafka_bootstrap
    print("starting the commit-to-consume probe (own consumer group)...", flush=True)
    probe = EventProbe(stack.kafka_bootstrap, Topic.APPLICATIONS.value)
    await probe.start()
    try:
        load, cpu = await measure_http(stack, args, sampler, probe)
    finally:
        await probe.stop()
    saturation = len(load.latencies) / load.window_seconds if load.window_seconds else 0.0
    rate = saturation / 2 if args.rate is None else args.rate
    open_loop = await measure_open_loop(stack, args, sampler, rate) if rate > 0 else None
    anchor = await measure_anchor(stack, args, sampler) if args.anchor else None

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
        cpu.cores,
        cpu.machine_busy,
        quiet,
        open_loop,
        anchor,
    )


# Notify without quiet hours and without the SMS gateway's rate limit (see above).
BENCH_ENV = {
    "QUIET_HOURS_START": "00:00",
    "QUIET_HOURS_END": "00:00",
    "SMS_RATE_PER_SECOND": "1000000",
}


def start_stack(stack: Stack, sampler: ProcessSampler) -> None:
    """Servers, then services, each tracked by the sampler; StackFailure if
    the stack does not start."""
    try:
        stack.start_servers()
        if stack.postgres is not None:
            stack.database_url = statements.load_extension(stack.postgres)
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


def run(args: argparse.Namespace, stack: Stack, sampler: ProcessSampler) -> None:
    """Start the stack, measure, print (and write) the figures."""
    print(f"starting the embedded stack in {stack.workdir}...", flush=True)
    started = time.monotonic()
    start_stack(stack, sampler)
    print(f"stack ready in {time.monotonic() - started:.1f} s", flush=True)
    report = asyncio.run(bench(stack, args, sampler))
    print_report(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str) + "\n")
        print(f"figures written to {args.json}")


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
    stack = Stack(workdir=workdir, fixed_ports=False, extra_env=BENCH_ENV)
    sampler = ProcessSampler(args.sample_interval)
    failed = False
    try:
        run(args, stack, sampler)
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
