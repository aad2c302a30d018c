"""`make run` as a user meets it: the launcher started as its own process
(embedded PostgreSQL and broker in a folder of the test's, free ports), its
console read line by line, its services found among its children."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

SERVER_SETTINGS = ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")
SERVICE_LINE = re.compile(r"^\s+(intake|documents|complaints|notify)\s+(http://\S+)")


class Launcher:
    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def console(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = 120.0, after: int = 0) -> re.Match[str]:
        """The first console line from number `after` on that matches `pattern`."""
        found = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines[after:]:
                    if match := found.search(line):
                        return match
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(
                        f"the console never said /{pattern}/ within {timeout:.0f} s:\n"
                        + self.console()[-4000:]
                    )
                self._changed.wait(min(left, 1.0))

    def urls(self) -> dict[str, str]:
        """Each service's URL, from the banner."""
        self.wait_for(r"Stop everything with Ctrl-C")
        return {
            match.group(1): match.group(2)
            for line in self.lines
            if (match := SERVICE_LINE.match(line))
        }

    def service_process(self, name: str) -> psutil.Process:
        """The running process of service `name` (a child of the launcher)."""
        for child in psutil.Process(self.process.pid).children():
            if f"mpp_{name}" in child.cmdline():
                return child
        raise AssertionError(f"no {name} process under the launcher")

    def stop(self, timeout: float = 60.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            for child in psutil.Process(self.process.pid).children(recursive=True):
                child.kill()
            self.process.kill()
            self.process.wait(10)
            raise AssertionError(
                f"make run did not stop within {timeout:.0f} s of Ctrl-C"
            ) from None


@contextmanager
def launched(workdir: Path, *options: str) -> Iterator[Launcher]:
    """`make run` with `options`, stopped (Ctrl-C) at the end whatever happened."""
    # Its own embedded servers, whatever servers this test session uses.
    env = {k: v for k, v in os.environ.items() if k not in SERVER_SETTINGS}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mpp_devstack.launcher",
            "--workdir",
            str(workdir),
            "--free-ports",
            *options,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
        env=env,
    )
    launcher = Launcher(process)
    try:
        yield launcher
    finally:
        launcher.stop()
