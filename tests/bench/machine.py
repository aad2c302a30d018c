"""What the benchmark knows about the machine and the stack's processes:
the machine's description, the telemetry settings in force, and a sampler
of each process tree's peak RSS and CPU time (a thread, so that sampling
goes on while the event loop is busy)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "physical_cores": psutil.cpu_count(logical=False),
        "memory_gib": round(psutil.virtual_memory().total / 1024**3, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError):
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        info["cgroup_cpu_limit"] = "none" if quota == "max" else f"{int(quota) / int(period):g}"
    return info


def telemetry_info() -> dict[str, str]:
    return {
        "tracing": "on (OTEL_SDK_DISABLED unset)",
        "sampler": os.environ.get("OTEL_TRACES_SAMPLER", "default (parentbased_always_on)"),
        "exporter_endpoint": os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        or "none (spans created, not exported)",
    }


@dataclass
class Tracked:
    name: str
    pid: int
    is_service: bool
    include_children: bool = True
    peak_rss: int = 0
    peak_children: int = 0
    process: psutil.Process | None = field(default=None, repr=False)


class ProcessSampler(threading.Thread):
    """Samples RSS (process + children) of the stack's processes every `interval`.

    A thread, so that sampling goes on while the event loop is busy.
    """

    def __init__(self, interval: float) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self.interval = interval
        self.tracked: dict[str, Tracked] = {}
        self.samples = 0
        self._halt = threading.Event()
        self._lock = threading.Lock()

    def track(
        self, name: str, pid: int, *, is_service: bool, include_children: bool = True
    ) -> None:
        with contextlib.suppress(psutil.Error):
            entry = Tracked(name, pid, is_service, include_children, process=psutil.Process(pid))
            with self._lock:
                self.tracked[name] = entry

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval)

    def sample(self) -> None:
        with self._lock:
            entries = list(self.tracked.values())
        for entry in entries:
            assert entry.process is not None
            try:
                rss = entry.process.memory_info().rss
                children = entry.process.children(recursive=True) if entry.include_children else []
            except psutil.Error:
                continue
            for child in children:
                with contextlib.suppress(psutil.Error):
                    rss += child.memory_info().rss
            entry.peak_rss = max(entry.peak_rss, rss)
            entry.peak_children = max(entry.peak_children, len(children))
        self.samples += 1

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds (user + system) used so far by each tracked process tree."""
        out: dict[str, float] = {}
        with self._lock:
            entries = list(self.tracked.values())
        for entry in entries:
            assert entry.process is not None
            try:
                procs = [entry.process]
                if entry.include_children:
                    procs += entry.process.children(recursive=True)
            except psutil.Error:
                continue
            total = 0.0
            for proc in procs:
                with contextlib.suppress(psutil.Error):
                    t = proc.cpu_times()
                    total += t.user + t.system
            out[entry.name] = total
        return out

    def stop(self) -> None:
        self._halt.set()
        if self.is_alive():
            self.join(5)
        self.sample()


def busy_seconds(before: Any, after: Any) -> float:
    """Machine-wide busy CPU seconds between two psutil.cpu_times() readings."""
    total = sum(after) - sum(before)
    idle = (after.idle - before.idle) + (
        getattr(after, "iowait", 0.0) - getattr(before, "iowait", 0.0)
    )
    return float(total - idle)


@dataclass
class CpuDuringLoad:
    """CPU cores used in the measured HTTP window, per tracked process tree
    and by the whole machine."""

    cores: dict[str, float] = field(default_factory=dict)
    machine_busy: float = 0.0
    # Database statements per service in the window (when counted).
    statements: dict[str, int] = field(default_factory=dict)


class CpuWindow:
    """CPU accounting for the measured window, taken from a timer started as
    the load begins, so that it brackets the window whichever mode runs the
    load."""

    def __init__(
        self,
        sampler: ProcessSampler,
        warmup: float,
        duration: float,
        statements: Callable[[], Awaitable[dict[str, int]]] | None = None,
    ) -> None:
        self.sampler, self.warmup, self.duration = sampler, warmup, duration
        self.statements = statements
        self.marks: dict[str, Any] = {}
        self.tasks: list[asyncio.Task[None]] = []

    def on_start(self) -> None:
        self.tasks.append(asyncio.create_task(self._mark()))

    async def _mark(self) -> None:
        await asyncio.sleep(self.warmup)
        self.marks["before"] = self.sampler.cpu_seconds()
        self.marks["sys_before"] = psutil.cpu_times()
        self.marks["t0"] = time.monotonic()
        if self.statements is not None:
            self.marks["statements_before"] = await self.statements()
        await asyncio.sleep(self.duration - (time.monotonic() - self.marks["t0"]))
        self.marks["after"] = self.sampler.cpu_seconds()
        self.marks["sys_after"] = psutil.cpu_times()
        self.marks["t1"] = time.monotonic()
        if self.statements is not None:
            self.marks["statements_after"] = await self.statements()

    async def result(self) -> CpuDuringLoad:
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(task, 5)
        found = CpuDuringLoad()
        marks = self.marks
        if "after" in marks:
            span = marks["t1"] - marks["t0"]
            for name, used in marks["after"].items():
                found.cores[name] = (used - marks["before"].get(name, 0.0)) / span
            found.machine_busy = busy_seconds(marks["sys_before"], marks["sys_after"]) / span
            found.cores["other processes on the machine"] = max(
                0.0, found.machine_busy - sum(found.cores.values())
            )
        if "statements_after" in marks:
            before = marks["statements_before"]
            found.statements = {
                name: n - before.get(name, 0) for name, n in marks["statements_after"].items()
            }
        return found
