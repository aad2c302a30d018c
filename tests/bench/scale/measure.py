"""Measure the stack on a filled PostgreSQL (tests.bench.scale.fill).

In order:
1. database size per service and its biggest tables;
2. the schedulers' tick (SLA clocks, pickup window, complaint deadlines):
   each scheduler's own `tick()` timed against the filled database before the
   services start (the first tick fires what came due since the fill; the
   next ones find nothing and show the cost of looking), plus the indexed
   `next_due` lookup;
3. the stack (broker and the four services) started on that PostgreSQL;
   the read paths, each called `--samples` times one after the other: the
   public tracking GET, the officers' lists (first page and a deep page) and
   the NIK search (blind index) of intake, the jobs list, the register and
   the SLA report of documents, the queue and the complaint (Ombudsman)
   report of complaints, a message list of notify;
4. the counter POST in an open loop at `--rate` (tests.bench.loadgen), p99
   counted from when each request was due;
5. the outbox relay (tests.bench.relay).

Each figure is printed beside its target; the results go to
`<dir>/measure.json`, and when the other size's directory beside it holds
one too, the two are compared (target: every p99 at 5M within 1.5x of 100k).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from mpp_complaints.usecases.deadlines import DeadlineScheduler
from mpp_devstack.stack import Stack
from mpp_documents.usecases.pickup_window import PickupWindowScheduler
from mpp_documents.usecases.sla_clock import SlaScheduler
from mpp_shared import paging
from mpp_shared.db import with_database
from mpp_shared.scheduling import TimerScheduler
from mpp_shared.settings import ServiceSettings
from tests.bench.loadgen import LoadParams, run_load
from tests.bench.machine import ProcessSampler
from tests.bench.relay import run_relay, wait_quiet
from tests.bench.run import BENCH_ENV
from tests.bench.scale import data
from tests.support.auth import token

COUNTER_P99_TARGET_MS = 50.0
SCALE_RATIO_TARGET = 1.5
DEEP_PAGE = 2500  # x 20 rows: 50,000 rows down, present at every size measured
PAGE_SIZE = 20
QUEUE_DEEP_PAGE = 100


def _ms(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)

    def q(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    return {
        "n": len(ordered),
        "p50_ms": round(q(0.5), 2),
        "p99_ms": round(q(0.99), 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


async def database_sizes(server_dsn: str) -> dict[str, Any]:
    sizes: dict[str, Any] = {}
    for db in data.DATABASES:
        conn = await asyncpg.connect(with_database(server_dsn, f"mpp_{db}"))
        try:
            total = await conn.fetchval("SELECT pg_database_size(current_database())")
            tables = await conn.fetch(
                """
                SELECT c.relname AS table, pg_total_relation_size(c.oid) AS bytes,
                       c.reltuples::bigint AS rows
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind = 'r' AND n.nspname = 'public'
                ORDER BY pg_total_relation_size(c.oid) DESC LIMIT 4
                """
            )
        finally:
            await conn.close()
        sizes[db] = {
            "bytes": int(total),
            "tables": [
                {"table": r["table"], "bytes": int(r["bytes"]), "rows": int(r["rows"])}
                for r in tables
            ],
        }
    return sizes


async def scheduler_ticks(server_dsn: str, repeats: int = 5) -> dict[str, Any]:
    """Each scheduler's tick against the filled database (services stopped)."""
    makers: dict[str, tuple[str, Callable[[asyncpg.Pool], TimerScheduler]]] = {
        "sla_clocks": ("documents", lambda pool: SlaScheduler(pool)),
        "pickup_window": ("documents", lambda pool: PickupWindowScheduler(pool)),
        "complaint_deadlines": ("complaints", lambda pool: DeadlineScheduler(pool)),
    }
    out: dict[str, Any] = {}
    for name, (db, make) in makers.items():
        pool = await asyncpg.create_pool(
            with_database(server_dsn, f"mpp_{db}"), min_size=1, max_size=2
        )
        try:
            scheduler = make(pool)
            t0 = time.perf_counter()
            first_fired = await scheduler.tick()
            first = time.perf_counter() - t0
            idle: list[float] = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                await scheduler.tick()
                idle.append(time.perf_counter() - t0)
            next_due: list[float] = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                await scheduler.next_due()
                next_due.append(time.perf_counter() - t0)
        finally:
            await pool.close()
        out[name] = {
            "first_tick_ms": round(first * 1000, 2),
            "first_tick_fired": first_fired,
            "idle_tick_ms": round(statistics.median(idle) * 1000, 2),
            "next_due_ms": round(statistics.median(next_due) * 1000, 2),
        }
    return out


async def _sample(
    client: httpx.AsyncClient,
    call: Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]],
    samples: int,
    check: Callable[[httpx.Response], bool] | None = None,
) -> dict[str, Any]:
    for n in range(3):  # warm-up
        await call(client, -1 - n)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    failed = 0
    for n in range(samples):
        t0 = time.perf_counter()
        resp = await call(client, n)
        latencies.append(time.perf_counter() - t0)
        statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1
        if check is not None and not check(resp):
            failed += 1
    return {**_ms(latencies), "statuses": statuses, "check_failed": failed}


async def read_paths(stack: Stack, size: int, anchor: datetime, samples: int) -> dict[str, Any]:
    settings = ServiceSettings()
    bearer = token(
        "supervisor", "complaint_officer", "admin", subject="bench-supervisor",
        secret=settings.jwt_secret, issuer=settings.jwt_issuer,
    )  # fmt: skip
    headers = {"Authorization": f"Bearer {bearer}", "Accept": "application/json"}
    url = {name: proc.url for name, proc in stack.services.items()}
    rng = random.Random(11)
    # Applications spread over the years, and recent residents (whose NIK the
    # retention has not erased) for the search.
    picks = [rng.randrange(size) for _ in range(samples + 3)]
    recent_first = int(size * (1 - 300 / data.SPAN_DAYS))
    searched = [rng.randrange(recent_first, size) for _ in range(samples + 3)]
    today = anchor.date()
    year_ago = today - timedelta(days=365)
    results: dict[str, Any] = {}
    deep = await _deep_cursors(stack, DEEP_PAGE * PAGE_SIZE)

    def get(service: str, path: str, params: dict[str, Any] | None = None) -> Callable[..., Any]:
        async def call(client: httpx.AsyncClient, _n: int) -> httpx.Response:
            return await client.get(f"{url[service]}{path}", params=params)

        return call

    def items(resp: httpx.Response) -> bool:
        return resp.status_code == 200

    async with httpx.AsyncClient(headers=headers, timeout=60) as client:

        async def track(client: httpx.AsyncClient, n: int) -> httpx.Response:
            return await client.get(f"{url['intake']}/v1/track/{data.tracking_code(picks[n])}")

        results["intake: GET /v1/track/{code} (public)"] = await _sample(
            client, track, samples, items
        )
        routes: list[tuple[str, str, str, dict[str, Any]]] = [
            ("intake", "list, first page", "/v1/applications", {"page_size": PAGE_SIZE}),
            ("intake", f"list, page {DEEP_PAGE}", "/v1/applications",
             {"page": DEEP_PAGE, "page_size": PAGE_SIZE}),
            ("intake", f"list, page {DEEP_PAGE} by cursor", "/v1/applications",
             {"cursor": deep["applications"], "page_size": PAGE_SIZE}),
            ("intake", "list status=verified, first page", "/v1/applications",
             {"status": "verified", "page_size": PAGE_SIZE}),
            ("intake", "list service+point+last month", "/v1/applications",
             {"service_code": "kk", "pickup_point": "MPP",
              "submitted_from": (today - timedelta(days=30)).isoformat(), "page_size": PAGE_SIZE}),
            ("documents", "jobs state=ready_for_pickup", "/v1/jobs",
             {"state": "ready_for_pickup", "limit": 50}),
            ("documents", "register, first page", "/v1/documents", {"page_size": 50}),
            ("documents", f"register, page {DEEP_PAGE // 2}", "/v1/documents",
             {"page": DEEP_PAGE // 2, "page_size": PAGE_SIZE}),
            ("documents", f"register, page {DEEP_PAGE // 2} by cursor", "/v1/documents",
             {"cursor": deep["register"], "page_size": PAGE_SIZE}),
            ("documents", "register by number prefix", "/v1/documents",
             {"number_prefix": "3506-KK-"}),
            ("documents", "SLA report, this month", "/v1/reports/sla", {}),
            ("documents", "SLA report, a year", "/v1/reports/sla",
             {"from": year_ago.isoformat(), "to": today.isoformat()}),
            ("documents", "backlog report", "/v1/reports/backlog", {}),
            ("complaints", "queue, first page", "/v1/complaints", {"page_size": PAGE_SIZE}),
            ("complaints", f"queue, page {QUEUE_DEEP_PAGE}", "/v1/complaints",
             {"page": QUEUE_DEEP_PAGE, "page_size": PAGE_SIZE}),
            ("complaints", "complaint report, this month", "/v1/reports/complaints", {}),
            ("complaints", "complaint report, a year", "/v1/reports/complaints",
             {"from": year_ago.isoformat(), "to": today.isoformat()}),
        ]  # fmt: skip
        # The complaints queue's cursor as an officer holds it after paging
        # down, in its default order (overdue first).
        cursor = None
        for _ in range(QUEUE_DEEP_PAGE - 1):
            page = await client.get(
                f"{url['complaints']}/v1/complaints",
                params={"page_size": PAGE_SIZE, **({"cursor": cursor} if cursor else {})},
            )
            cursor = page.json().get("next_cursor")
            if cursor is None:
                break
        if cursor is not None:
            routes.append(
                ("complaints", f"queue, page {QUEUE_DEEP_PAGE} by cursor", "/v1/complaints",
                 {"cursor": cursor, "page_size": PAGE_SIZE})
            )  # fmt: skip
        for service, label, path, params in routes:
            results[f"{service}: {label}"] = await _sample(
                client, get(service, path, params), samples, items
            )

        async def notifications(client: httpx.AsyncClient, n: int) -> httpx.Response:
            app_id = data.row_id("application", picks[n])
            return await client.get(
                f"{url['notify']}/v1/notifications", params={"application_id": str(app_id)}
            )

        results["notify: messages of an application"] = await _sample(
            client, notifications, samples, items
        )

        async def search(client: httpx.AsyncClient, n: int) -> httpx.Response:
            return await client.post(
                f"{url['intake']}/v1/applications/search",
                json={"nik": data.application_nik(searched[n])},
            )

        def found(resp: httpx.Response) -> bool:
            return resp.status_code == 200 and len(resp.json().get("items", [])) >= 1

        results["intake: search by NIK (blind index)"] = await _sample(
            client, search, samples, found
        )
    return results


async def _deep_cursors(stack: Stack, rows_down: int) -> dict[str, str]:
    """The cursors a client holds after paging `rows_down` rows into the
    applications list and half as far into the register (made from the rows
    there, as the services make them, without paging down to them)."""
    assert stack.database_url
    found: dict[str, str] = {}
    for service, name, sort, query, depth in (
        ("intake", "applications", "applications.newest",
         "SELECT created_at, id FROM applications ORDER BY created_at DESC, id DESC", rows_down),
        ("documents", "register", "register.newest",
         "SELECT issued_at, id FROM issued_documents ORDER BY issued_at DESC, id DESC",
         rows_down // 2),
    ):  # fmt: skip
        conn = await asyncpg.connect(with_database(stack.database_url, stack.db_prefix + service))
        try:
            row = await conn.fetchrow(f"{query} OFFSET $1 LIMIT 1", depth - 1)
        finally:
            await conn.close()
        assert row is not None
        found[name] = paging.encode(sort, tuple(row))
    return found


async def _next_resident(server_dsn: str, count: int) -> int:
    """The first load-generator resident of this run: each measure on the
    same data uses new residents (one active application per resident)."""
    conn = await asyncpg.connect(with_database(server_dsn, "mpp_intake"))
    try:
        value = await conn.fetchval(
            """
            INSERT INTO bench_scale_meta (key, value) VALUES ('next_resident', $1)
            ON CONFLICT (key) DO UPDATE
                SET value = (bench_scale_meta.value::bigint + $1::bigint)::text
            RETURNING value
            """,
            str(count),
        )
    finally:
        await conn.close()
    return int(value) - count


async def counter_post(stack: Stack, rate: float, duration: float) -> dict[str, Any]:
    assert stack.database_url
    settings = ServiceSettings()
    requests = int(rate * (duration + 3)) + 100
    first = 2_000_000 + await _next_resident(stack.database_url, requests)
    params = LoadParams(
        url=f"{stack.services['intake'].url}/v1/applications",
        token=token(
            "frontdesk", subject="bench-frontdesk",
            secret=settings.jwt_secret, issuer=settings.jwt_issuer,
        ),
        concurrency=32,
        warmup=3.0,
        duration=duration,
        rate=rate,
        first_resident=first,
    )  # fmt: skip
    load = await run_load(params)
    figures = _ms(load.latencies) if load.latencies else {"n": 0}
    p999 = sorted(load.latencies)[int(0.999 * len(load.latencies))] if load.latencies else 0
    return {
        **figures,
        "p99_9_ms": round(p999 * 1000, 2),
        "rate": rate,
        "errors": load.errors,
        "error_samples": load.error_samples[:3],
    }


async def _anchor(server_dsn: str) -> tuple[int, datetime]:
    conn = await asyncpg.connect(with_database(server_dsn, "mpp_intake"))
    try:
        rows = {r["key"]: r["value"] for r in await conn.fetch("SELECT * FROM bench_scale_meta")}
    finally:
        await conn.close()
    return int(rows["size"]), datetime.fromisoformat(rows["anchor"])


def _mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB"


def print_report(result: dict[str, Any]) -> None:
    size = result["size"]
    print(f"\n== bench-scale at {size:,} applications ({result['measured_at']}) ==")
    print("\ndatabase size per service (biggest tables):")
    for db, figures in result["database_sizes"].items():
        tables = ", ".join(
            f"{t['table']} {_mb(t['bytes'])} ({t['rows']:,} rows)" for t in figures["tables"]
        )
        print(f"  {db:<11} {_mb(figures['bytes']):>9}  {tables}")
    print("\nscheduler ticks (target: cost proportional to the items due, not to the table):")
    for name, t in result["schedulers"].items():
        print(
            f"  {name:<20} first tick {t['first_tick_ms']:>8.1f} ms ({t['first_tick_fired']} fired), "
            f"idle tick {t['idle_tick_ms']:>7.2f} ms, next_due {t['next_due_ms']:>6.2f} ms"
        )
    post = result.get("counter_post")
    if post:
        ok = post.get("p99_ms", 1e9) <= COUNTER_P99_TARGET_MS
        print(
            f"\ncounter POST /v1/applications, open loop at {post['rate']:g}/s: "
            f"p50 {post.get('p50_ms', 0):.1f} ms, p99 {post.get('p99_ms', 0):.1f} ms, "
            f"p99.9 {post.get('p99_9_ms', 0):.1f} ms (target p99 <= {COUNTER_P99_TARGET_MS:g} ms: "
            f"{'met' if ok else 'NOT met'}); errors {post['errors'] or 'none'}"
        )
    print(f"\nread paths ({'sequential calls'}):")
    print(f"  {'route':<50} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  answers")
    for label, r in result["reads"].items():
        statuses = ", ".join(f"{k}: {v}" for k, v in r["statuses"].items())
        extra = f"  CHECK FAILED x{r['check_failed']}" if r["check_failed"] else ""
        print(
            f"  {label:<50} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['max_ms']:>8.1f}  {statuses}{extra}"
        )
    relay = result.get("relay")
    if relay:
        print(
            f"\noutbox relay: {relay['published']:,}/{relay['events']:,} rows published in "
            f"{relay['seconds']:.2f} s = {relay['events_per_second']:,.0f} events/s"
        )


def print_comparison(small: dict[str, Any], large: dict[str, Any]) -> None:
    print(
        f"\n== {large['size']:,} vs {small['size']:,} applications: p99 ratio "
        f"(target <= {SCALE_RATIO_TARGET:g}x) =="
    )
    rows: list[tuple[str, float, float]] = []
    if small.get("counter_post") and large.get("counter_post"):
        rows.append(
            (
                "counter POST (open loop)",
                small["counter_post"]["p99_ms"],
                large["counter_post"]["p99_ms"],
            )
        )
    for label, r in small["reads"].items():
        if label in large["reads"]:
            rows.append((label, r["p99_ms"], large["reads"][label]["p99_ms"]))
    for name, t in small["schedulers"].items():
        if name in large["schedulers"]:
            rows.append(
                (f"{name} idle tick", t["idle_tick_ms"], large["schedulers"][name]["idle_tick_ms"])
            )
    print(f"  {'figure':<50} {'small':>9} {'large':>9} {'ratio':>7}")
    for label, a, b in rows:
        ratio = b / a if a else float("inf")
        flag = "" if ratio <= SCALE_RATIO_TARGET else "  NOT met"
        print(f"  {label:<50} {a:>9.1f} {b:>9.1f} {ratio:>6.2f}x{flag}")


def compare_sizes(directory: Path) -> None:
    found: list[dict[str, Any]] = []
    for path in sorted(directory.parent.glob("*/measure.json")):
        try:
            found.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    found.sort(key=lambda r: r["size"])
    if len(found) >= 2 and found[0]["size"] != found[-1]["size"]:
        print_comparison(found[0], found[-1])


async def measure(stack: Stack, args: argparse.Namespace) -> dict[str, Any]:
    assert stack.database_url
    size, anchor = await _anchor(stack.database_url)
    result: dict[str, Any] = {"size": size, "measured_at": datetime.now(UTC).isoformat()}
    print("database sizes...", flush=True)
    result["database_sizes"] = await database_sizes(stack.database_url)
    print("scheduler ticks...", flush=True)
    result["schedulers"] = await scheduler_ticks(stack.database_url)
    print("starting the four services and the broker...", flush=True)
    await asyncio.to_thread(stack.start_services)
    sampler = ProcessSampler(0.5)
    if stack.postgres is not None and stack.postgres.pid:
        sampler.track("postgres", stack.postgres.pid, is_service=False)
    if stack.broker is not None and stack.broker.process is not None:
        sampler.track("broker", stack.broker.process.pid, is_service=False)
    for name, proc in stack.services.items():
        assert proc.process is not None
        sampler.track(name, proc.process.pid, is_service=True)
    sampler.start()
    try:
        print("waiting for the stack to be idle...", flush=True)
        await wait_quiet(stack, sampler, within=180)
        print(f"read paths, {args.samples} calls each...", flush=True)
        result["reads"] = await read_paths(stack, size, anchor, args.samples)
        if args.rate > 0:
            print(f"counter POST at {args.rate:g}/s for {args.duration:g} s...", flush=True)
            result["counter_post"] = await counter_post(stack, args.rate, args.duration)
        if args.relay_events > 0:
            await wait_quiet(stack, sampler, within=120)
            print(f"outbox relay, {args.relay_events} rows...", flush=True)
            relay = await run_relay(stack, args.relay_events, 100, 120)
            result["relay"] = {
                "events": relay.events,
                "published": relay.published,
                "seconds": round(relay.seconds, 3),
                "events_per_second": round(relay.events_per_second, 1),
            }
    finally:
        sampler.stop()
    return result


def measure_command(args: argparse.Namespace, size: int, directory: Path) -> int:
    stack = Stack(workdir=directory, fixed_ports=False, extra_env=BENCH_ENV)
    try:
        stack.start_servers()
        result = asyncio.run(measure(stack, args))
    finally:
        stack.stop()
    if result["size"] != size:
        print(f"note: the directory holds {result['size']:,} applications, not {size:,}")
    (directory / "measure.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    print_report(result)
    compare_sizes(directory)
    print(f"\nfigures written to {directory / 'measure.json'}")
    return 0
