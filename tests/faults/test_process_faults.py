"""Process faults on the real embedded stack, each under a steady load of
journeys and ending with the invariant check (tests/faults/invariants.py):

- SIGKILL of each service mid-load, then a restart;
- PostgreSQL stopped (immediate shutdown) and started again: the APIs answer
  503 within their timeout, never hang, never 500, and recover without a
  process restart;
- a second consumer joining and being killed mid-stream (rebalance);
- SIGTERM: each service drains, commits and exits within a bound.

One FaultStack serves the module; every case heals it before it ends, so the
invariants checked at the end of a case cover every earlier case too.
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from mpp_devstack.stack import SERVICES
from tests.faults.harness import FaultStack, unexpected_errors
from tests.faults.invariants import InvariantReport, check_invariants
from tests.faults.journeys import JourneyLoad
from tests.support.auth import auth

pytestmark = pytest.mark.faults

# Generous bounds that still tell a hang from a slow machine; what each case
# measured goes to the fault report (figures.jsonl), where a drift shows.
# SIGTERM to exit, in seconds, for a service under load (under 3 s when the
# machine is idle).
DRAIN_BOUND = 20.0
# An API with its database gone answers within this (pool/command timeout 5 s).
ANSWER_BOUND = 15.0
NOTIFY_MIGRATIONS = Path(__file__).resolve().parents[2] / "services/notify/mpp_notify/migrations"


async def _under_load(stack: FaultStack, seconds: float) -> JourneyLoad:
    load = JourneyLoad(stack, rate=3.0)
    load.start()
    await asyncio.sleep(seconds)
    return load


async def _finish(stack: FaultStack, load: JourneyLoad, figures: dict[str, Any]) -> InvariantReport:
    """Drain the load, check every invariant, and that no call was answered
    with a 500 or left hanging."""
    await load.drain(90)
    report = await check_invariants(stack, load)
    figures["journeys"] = report.applications
    figures["drain_seconds"] = round(load.drain_seconds, 1)
    figures["settle_seconds"] = round(report.settle_seconds, 1)
    figures["refusals"] = dict(load.refusals)
    assert not load.unexpected, load.unexpected[:10]
    assert not load.hangs, load.hangs[:10]
    return report


@pytest.mark.parametrize("name", SERVICES)
async def test_sigkill_mid_load_loses_and_duplicates_nothing(
    healthy_stack: FaultStack, name: str, figures: dict[str, Any]
) -> None:
    load = await _under_load(healthy_stack, 3.0)
    await healthy_stack.kill(name)
    await asyncio.sleep(1.5)  # the load keeps knocking on a dead port
    started = time.monotonic()
    await healthy_stack.start_service(name)
    figures["restart_seconds"] = round(time.monotonic() - started, 2)
    await asyncio.sleep(2.0)
    report = await _finish(healthy_stack, load, figures)
    assert report.applications >= 15
    if name in ("intake", "documents"):
        # The fault was seen by the front desk and retried through.
        assert sum(load.refusals.values()) > 0, load.refusals
    figures["sms_repeats"] = report.sms_repeats


HEALTHY = {"intake": 200, "documents": 200, "complaints": 404, "notify": 200}


async def _probe(client: httpx.AsyncClient, name: str, stack: FaultStack) -> httpx.Response:
    """One database-backed call per service, as its users make it."""
    url = stack.url(name)
    if name == "intake":
        return await client.get(f"{url}/v1/applications", headers=auth("supervisor"))
    if name == "documents":
        return await client.get(f"{url}/v1/jobs", headers=auth("production"))
    if name == "complaints":
        unknown = "00000000-0000-4000-8000-000000000000"  # 404 when the database answers
        return await client.get(f"{url}/v1/complaints/{unknown}", headers=auth("complaint_officer"))
    return await client.get(f"{url}/v1/notifications", headers=auth("supervisor"))


async def test_postgres_down_means_503_in_time_and_recovery_without_restart(
    healthy_stack: FaultStack, figures: dict[str, Any]
) -> None:
    pids = {n: p.process.pid for n, p in healthy_stack.services.items() if p.process}
    # Idle connections are dropped after 2 s, well before uvicorn closes them
    # (5 s): the probes are seconds apart, and a request sent on a connection
    # the server is closing at that moment fails with a ReadError.
    limits = httpx.Limits(keepalive_expiry=2.0)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        for name in SERVICES:
            assert (await _probe(client, name, healthy_stack)).status_code == HEALTHY[name]
        load = await _under_load(healthy_stack, 3.0)
        await healthy_stack.stop_postgres()
        down_at = time.monotonic()

        # While it is down: 503 (never 500, never a hang) from every API.
        latencies: dict[str, float] = {}
        for _round in range(2):
            for name in SERVICES:
                started = time.monotonic()
                answer = await _probe(client, name, healthy_stack)
                took = time.monotonic() - started
                latencies[name] = max(latencies.get(name, 0.0), took)
                assert answer.status_code == 503, (name, answer.status_code, answer.text)
                assert answer.json()["code"] == "unavailable"
                assert took < ANSWER_BOUND, (name, took)
                ready = await client.get(f"{healthy_stack.url(name)}/health/ready")
                assert ready.status_code == 503, (name, ready.status_code, ready.text)
        submit = await client.post(
            f"{healthy_stack.url('intake')}/v1/applications",
            json={"service_code": "ktp_el"},
            headers=auth("frontdesk"),
        )
        assert submit.status_code in (422, 503), submit.text  # validation needs no database
        figures["pg_down_503_seconds"] = {k: round(v, 2) for k, v in latencies.items()}
        await asyncio.sleep(max(0.0, 8.0 - (time.monotonic() - down_at)))

        await healthy_stack.start_postgres()
        up_at = time.monotonic()
        recovered: dict[str, float] = {}
        while len(recovered) < len(SERVICES) and time.monotonic() - up_at < 60:
            for name in SERVICES:
                if name in recovered:
                    continue
                answer = await _probe(client, name, healthy_stack)
                assert answer.status_code in (HEALTHY[name], 503), (name, answer.text)
                if answer.status_code == HEALTHY[name]:
                    recovered[name] = time.monotonic() - up_at
            await asyncio.sleep(0.1)
        assert set(recovered) == set(SERVICES), recovered
        figures["pg_recovery_seconds"] = {k: round(v, 2) for k, v in recovered.items()}
    print(f"\nPostgreSQL down: slowest 503 per API {latencies}; recovered after {recovered}")

    await asyncio.sleep(3.0)
    await _finish(healthy_stack, load, figures)
    assert load.refusals["503"] > 0, load.refusals
    # Recovered in place: the same processes as before the outage.
    assert {n: p.process.pid for n, p in healthy_stack.services.items() if p.process} == pids


@pytest.mark.parametrize("name", ["documents", "notify"])
async def test_a_consumer_joining_and_dying_mid_stream_loses_nothing(
    healthy_stack: FaultStack, name: str, figures: dict[str, Any]
) -> None:
    main = healthy_stack.services[name]
    assert main.process is not None
    pid, seen = main.process.pid, main.log_path.stat().st_size
    load = await _under_load(healthy_stack, 2.0)
    extra = await healthy_stack.spawn_extra(name)  # same group: partitions are shared out
    await asyncio.sleep(5.0)
    await healthy_stack.stop_extra(extra, kill=True)  # its partitions come back after the session
    await asyncio.sleep(4.0)
    await _finish(healthy_stack, load, figures)
    # No crash loop: the original process lived through both rebalances, and
    # failed commits (partitions taken away) were shrugged off, not errors.
    assert main.process is not None and main.process.pid == pid and main.process.poll() is None
    with main.log_path.open("rb") as log:
        log.seek(seen)
        during = log.read().decode(errors="replace")
    errors = unexpected_errors(during)
    assert not errors, errors[:5]
    figures["commits_skipped"] = during.count("commit skipped")


@pytest.mark.parametrize("name", SERVICES)
async def test_sigterm_drains_commits_and_exits_in_time(
    healthy_stack: FaultStack, name: str, figures: dict[str, Any]
) -> None:
    proc = healthy_stack.services[name]
    seen = proc.log_path.stat().st_size
    load = await _under_load(healthy_stack, 3.0)
    drained = await healthy_stack.terminate(name, timeout=DRAIN_BOUND + 10)
    figures["sigterm_exit_seconds"] = round(drained.seconds, 2)
    print(f"\n{name}: exited {drained.exit_code} {drained.seconds:.2f} s after SIGTERM")
    with proc.log_path.open("rb") as log:
        log.seek(seen)
        during = log.read().decode(errors="replace")
    assert not drained.killed, f"{name} still running {DRAIN_BOUND + 10} s after SIGTERM"
    # uvicorn re-raises the SIGTERM it caught once its graceful shutdown is done.
    assert drained.exit_code in (0, -signal.SIGTERM), (drained, healthy_stack.log_tail(name))
    assert "Application shutdown complete" in during, healthy_stack.log_tail(name)
    assert not unexpected_errors(during), healthy_stack.log_tail(name)
    assert drained.seconds < DRAIN_BOUND, drained
    await asyncio.sleep(1.0)
    await healthy_stack.start_service(name)
    await asyncio.sleep(1.0)
    await _finish(healthy_stack, load, figures)


async def test_a_citizen_event_overtaking_the_one_naming_the_contact_is_still_told(
    healthy_stack: FaultStack,
) -> None:
    """Topics are not ordered with each other: after a restart or a rebalance
    notify may read a document event before the application's submitted event
    (which carries the sealed contact). The message waits for the contact."""
    from mpp_notify.channels.registry import build_channels
    from mpp_notify.handlers import Notifier
    from mpp_notify.settings import NotifySettings
    from mpp_shared import migrate
    from mpp_shared.db import create_pool, ensure_database, with_database
    from mpp_shared.events import build_event
    from mpp_shared.events.envelope import registered_types
    from mpp_shared.events.examples import EXAMPLES
    from mpp_shared.pii import FieldCipher, seal_for_notify
    from mpp_shared.settings import DEV_SEAL_PUBLIC_KEY

    name = "fault_notify_order"
    await ensure_database(healthy_stack.server_dsn, name)
    pool = await create_pool(with_database(healthy_stack.server_dsn, name), min_size=1, max_size=1)
    conn = await pool.acquire()
    try:
        await migrate.apply_migrations(
            conn,
            {
                "shared": migrate.SHARED_MIGRATIONS,
                "notify": NOTIFY_MIGRATIONS,
            },
        )
        settings = NotifySettings()  # no gateway configured: messages are logged only
        notifier = Notifier(
            settings,
            FieldCipher(settings.pii_encryption_key, settings.pii_index_key),
            build_channels(settings),
        )

        def event(event_type: str, app_id: uuid.UUID, contact: bool = True) -> Any:
            payload = {**EXAMPLES[event_type], "application_id": app_id}
            if "contact_sealed" in registered_types()[event_type].model_fields:
                sealed = {"phone": "+6281234567890", "language": "id"}
                payload["contact_sealed"] = (
                    seal_for_notify(sealed, DEV_SEAL_PUBLIC_KEY) if contact else None
                )
            data = registered_types()[event_type](**payload)
            return build_event(data, source="/mpp/test", subject=str(app_id))

        async def handle(ev: Any) -> None:
            async with conn.transaction():
                await notifier.handle(conn, ev)

        async def told(app_id: uuid.UUID) -> list[str]:
            rows = await conn.fetch(
                "SELECT source_event_type FROM delivery_log WHERE application_id = $1 "
                "ORDER BY created_at",
                app_id,
            )
            return [r["source_event_type"] for r in rows]

        late = uuid.uuid4()
        await handle(event("mpp.document.ready_for_pickup.v1", late))
        await handle(event("mpp.application.verified.v1", late))
        assert await told(late) == []  # nobody known yet: waiting
        await handle(event("mpp.application.submitted.v1", late))
        assert sorted(await told(late)) == sorted(
            [
                "mpp.application.submitted.v1",
                "mpp.application.verified.v1",
                "mpp.document.ready_for_pickup.v1",
            ]
        )
        await handle(event("mpp.document.picked_up.v1", late))
        assert len(await told(late)) == 4

        # No contact given: nothing waits, nothing is sent, before or after.
        silent = uuid.uuid4()
        await handle(event("mpp.application.verified.v1", silent))
        await handle(event("mpp.application.submitted.v1", silent, contact=False))
        await handle(event("mpp.document.ready_for_pickup.v1", silent))
        assert await told(silent) == []
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM event_journal WHERE awaits_contact IS NOT NULL"
            )
            == 0
        )
    finally:
        await pool.release(conn)
        await pool.close()
