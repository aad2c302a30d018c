"""The whole system on one machine: servers plus the four service processes.

Used by `make run`, the end-to-end tests and the benchmark. With
DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS set, those servers are used instead of
the embedded ones (one database per service is created on that server).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from mpp_devstack.embedded import EmbeddedPostgres, TansuBroker, free_port
from mpp_shared.db import ensure_database, with_database

log = logging.getLogger(__name__)

SERVICES = ("intake", "documents", "complaints", "notify")
DEFAULT_PORTS = {"intake": 8001, "documents": 8002, "complaints": 8003, "notify": 8004}
DEFAULT_BROKER_PORT = 9092


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    log_start: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        # Where this start's lines begin in the (appended) log.
        self.log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", f"mpp_{self.name}"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def signal(self, sig: int) -> None:
        if self.process is not None:
            self.process.send_signal(sig)

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.process is None:
            return None
        self.process.terminate()
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait(5)
        self.process = None
        return code

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(5)
            self.process = None

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}; see {self.log_path}\n"
                    + _tail(self.log_path)
                )
            try:
                r = httpx.get(f"{self.url}/health/ready", timeout=2)
                if r.status_code == 200:
                    return
                last = r.text
            except httpx.HTTPError as exc:
                last = str(exc)
            time.sleep(0.2)
        raise TimeoutError(
            f"{self.name} not ready after {timeout}s: {last}\n" + _tail(self.log_path)
        )

    def wait_consuming(self, timeout: float = 60.0) -> None:
        """Until the service's consumer, since its last start, holds partitions
        (its log says so): ready means HTTP, the database and the broker, but
        the consumer group takes a few seconds more to hand the restarted
        process its partitions, and an event written meanwhile waits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log_path, "rb") as log:
                log.seek(self.log_start)
                started = log.read().decode(errors="replace")
            if any(
                f"consumer {self.name} assigned [" in line
                and f"consumer {self.name} assigned []" not in line
                for line in started.splitlines()
            ):
                return
            time.sleep(0.2)
        raise TimeoutError(
            f"{self.name}'s consumer holds no partition after {timeout}s\n" + _tail(self.log_path)
        )


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@dataclass
class Stack:
    workdir: Path
    fixed_ports: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)
    database_url: str | None = None
    kafka_bootstrap: str | None = None
    postgres: EmbeddedPostgres | None = None
    broker: TansuBroker | None = None
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    db_prefix: str = "mpp_"

    def start_servers(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "logs").mkdir(exist_ok=True)
        self.database_url = self.database_url or os.environ.get("DATABASE_URL")
        if not self.database_url:
            self.postgres = EmbeddedPostgres(self.workdir / "pgdata")
            self.database_url = self.postgres.start()
        self.kafka_bootstrap = self.kafka_bootstrap or os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        if not self.kafka_bootstrap:
            port = DEFAULT_BROKER_PORT if self.fixed_ports else free_port()
            self.broker = TansuBroker(port, self.workdir / "logs" / "broker.log")
            self.kafka_bootstrap = self.broker.start()

    def service_env(
        self, name: str, port: int, ports: dict[str, int] | None = None
    ) -> dict[str, str]:
        assert self.database_url and self.kafka_bootstrap
        ports = {**DEFAULT_PORTS, **{n: p.port for n, p in self.services.items()}, **(ports or {})}
        env = {
            # The public pages link to each other and the QR codes open them.
            **{f"PUBLIC_{n.upper()}_URL": f"http://127.0.0.1:{p}" for n, p in ports.items()},
            # Documented internal calls between services (notify's WhatsApp assistant).
            **{f"{n.upper()}_INTERNAL_URL": f"http://127.0.0.1:{p}" for n, p in ports.items()},
            **os.environ,
            "SERVICE_NAME": name,
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "DATABASE_URL": with_database(self.database_url, self.db_prefix + name),
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            "OTEL_SERVICE_NAME": f"mpp-{name}",
            "PYTHONUNBUFFERED": "1",
        }
        if self.broker is not None:
            env.setdefault("CONSUMER_REBALANCE_TIMEOUT_MS", "2000")
            env.setdefault("KAFKA_TOPIC_PARTITIONS", str(TansuBroker.AUTO_CREATE_PARTITIONS))
        env.update(self.extra_env)
        return env

    def start_services(self, names: tuple[str, ...] = SERVICES) -> None:
        assert self.database_url
        for name in names:
            asyncio.run(ensure_database(self.database_url, self.db_prefix + name))
        ports = {n: DEFAULT_PORTS[n] if self.fixed_ports else free_port() for n in names}
        for name in names:
            port = ports[name]
            proc = ServiceProcess(
                name,
                port,
                self.service_env(name, port, ports),
                self.workdir / "logs" / f"{name}.log",
            )
            proc.start()
            self.services[name] = proc
        for name in names:
            self.services[name].wait_ready()

    def restart_service(self, name: str) -> None:
        proc = self.services[name]
        proc.stop()
        proc.start()
        proc.wait_ready()
        proc.wait_consuming()

    def stop(self) -> None:
        for proc in self.services.values():
            proc.signal(signal.SIGTERM)
        for proc in self.services.values():
            proc.stop()
        if self.broker is not None:
            self.broker.stop()
        if self.postgres is not None:
            self.postgres.stop()
