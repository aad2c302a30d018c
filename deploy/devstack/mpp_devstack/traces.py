"""The trace viewer of `make run TRACES=1`: Arize Phoenix, an OTLP trace
viewer with a web UI, run as a child process.

Phoenix pins far more packages than the project does, so it never enters the
project's environment: it is installed on first use into its own virtual
environment under `.tools/phoenix/` (a pinned version; the private uv of the
Makefile when it is there, pip otherwise) and started from there. Its data
(SQLite) and log stay in the folder it is given.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from mpp_devstack.embedded import free_port

PHOENIX_VERSION = "20.26.1"
# Every span of the four services goes to this Phoenix project
# (resource attribute `openinference.project.name`).
PROJECT = "mpp"
DEFAULT_PORT = 6006

REPO = Path(__file__).resolve().parents[3]
TOOLS = REPO / ".tools"
HOME = TOOLS / "phoenix"


class TraceViewerError(RuntimeError):
    """The trace viewer could not be installed or started."""


def _tail(path: Path, offset: int = 0, lines: int = 20) -> str:
    """The last `lines` lines of `path` written after byte `offset`."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            text = f.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def installed() -> bool:
    marker = HOME / "installed"
    return marker.is_file() and marker.read_text().strip() == PHOENIX_VERSION


def install(say: Callable[[str], None] = print) -> Path:
    """The `phoenix` command of `.tools/phoenix/`, installed first if needed
    (once: concurrent callers wait for the first one)."""
    phoenix = HOME / "bin" / "phoenix"
    if installed():
        return phoenix
    TOOLS.mkdir(parents=True, exist_ok=True)
    with open(TOOLS / "phoenix.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if installed():
            return phoenix
        say(
            f"installing the trace viewer (first time only): arize-phoenix=={PHOENIX_VERSION}"
            f" into {HOME} ..."
        )
        log = TOOLS / "phoenix-install.log"
        uv = TOOLS / "bin" / "uv"
        python = HOME / "bin" / "python"
        requirement = f"arize-phoenix=={PHOENIX_VERSION}"
        if uv.is_file():
            # Compiled now, where the folder is writable, rather than on every
            # start (PYTHONDONTWRITEBYTECODE is often set).
            steps = [
                [str(uv), "venv", "--clear", "--python", sys.executable, str(HOME)],
                [str(uv), "pip", "install", "--compile-bytecode", "--python", str(python)],
            ]
        else:
            steps = [
                [sys.executable, "-m", "venv", "--clear", str(HOME)],
                [str(python), "-m", "pip", "install", "--disable-pip-version-check"],
            ]
        steps[1].append(requirement)
        started = time.monotonic()
        with open(log, "wb") as out:
            for step in steps:
                if subprocess.run(step, stdout=out, stderr=subprocess.STDOUT).returncode != 0:
                    raise TraceViewerError(
                        f"could not install {requirement} (see {log}):\n{_tail(log)}"
                    )
        (HOME / "installed").write_text(PHOENIX_VERSION + "\n")
        say(f"trace viewer installed in {time.monotonic() - started:.0f} s")
    return phoenix


class TraceViewer:
    """Phoenix serving its UI and OTLP/HTTP collector on one port of
    127.0.0.1 (6006 with `fixed_port`, any free one otherwise), its data in
    `workdir`."""

    def __init__(self, workdir: Path, fixed_port: bool) -> None:
        self.workdir = workdir
        self.port = DEFAULT_PORT if fixed_port else free_port()
        self.log_path = workdir / "phoenix.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 240.0) -> None:
        phoenix = install(lambda line: print(line, flush=True))
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self._answers():
            raise TraceViewerError(f"port {self.port} is taken: something already answers there")
        # What the caller's environment says about Phoenix or OpenTelemetry
        # is for the services, not for the viewer.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PHOENIX_", "OTEL_"))}
        env.update(
            PHOENIX_HOST="127.0.0.1",
            PHOENIX_PORT=str(self.port),
            # gRPC OTLP is not used (the services send OTLP/HTTP); a free port
            # keeps two viewers, or another collector on 4317, apart.
            PHOENIX_GRPC_PORT=str(free_port()),
            PHOENIX_WORKING_DIR=str(self.workdir),
            # Nothing leaves the machine: no product telemetry, no web fonts.
            PHOENIX_TELEMETRY_ENABLED="false",
            PHOENIX_ALLOW_EXTERNAL_RESOURCES="false",
            # Traces older than a week go (Phoenix sweeps weekly), so the
            # data of an install left running stays bounded.
            PHOENIX_DEFAULT_RETENTION_POLICY_DAYS="7",
            # Its log says what went wrong, not every export received.
            PHOENIX_LOGGING_LEVEL="warning",
            PHOENIX_LOG_MIGRATIONS="false",
        )
        with open(self.log_path, "ab") as out:
            logged = out.tell()
            self.process = subprocess.Popen(
                [str(phoenix), "serve"], env=env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while not self._answers():
            if self.process.poll() is not None:
                code = self.process.returncode
                self.process = None
                raise TraceViewerError(
                    f"the trace viewer exited with {code}; see {self.log_path}:\n"
                    + _tail(self.log_path, logged)
                )
            if time.monotonic() > deadline:
                self.stop()
                raise TraceViewerError(
                    f"the trace viewer did not answer on {self.url} within {timeout:.0f} s;"
                    f" see {self.log_path}:\n" + _tail(self.log_path, logged)
                )
            time.sleep(0.5)

    def _answers(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def service_env(self) -> dict[str, str]:
        """What a service needs to send its spans (and only its spans) here."""
        resource = f"openinference.project.name={PROJECT}"
        if extra := os.environ.get("OTEL_RESOURCE_ATTRIBUTES"):
            resource = f"{extra},{resource}"
        return {
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{self.url}/v1/traces",
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
            "OTEL_METRICS_EXPORTER": "none",
            "OTEL_LOGS_EXPORTER": "none",
            "OTEL_RESOURCE_ATTRIBUTES": resource,
            # A journey shows up within a second, not after the default 5 s.
            "OTEL_BSP_SCHEDULE_DELAY": "1000",
        }

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.process = None
