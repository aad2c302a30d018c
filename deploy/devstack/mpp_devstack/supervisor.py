"""Keeps the services of `make run` serving: a service that dies (a crash, an
out-of-memory kill, SIGKILL) is started again after a backoff while the others
go on, and the console says so.

The backoff doubles from `first_delay` up to `max_delay` for a service that
keeps dying, and starts again from `first_delay` once the service has stayed
up for `stable_after` seconds. Nothing is lost while a service is down: what
the others publish for it waits on the broker, and what it had not yet
published waits in its outbox.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import httpx

from mpp_devstack.stack import ServiceProcess


@dataclass
class _Watch:
    restarts: int = 0
    delay: float = 0.0
    restart_at: float | None = None  # when the dead service is started again
    started_at: float = 0.0
    awaiting_ready: bool = False


@dataclass
class Supervisor:
    services: Mapping[str, ServiceProcess]
    say: Callable[[str], None] = print
    first_delay: float = 1.0
    max_delay: float = 30.0
    stable_after: float = 60.0
    now: Callable[[], float] = time.monotonic
    _watches: dict[str, _Watch] = field(default_factory=dict)

    def __post_init__(self) -> None:
        started = self.now()
        self._watches = {name: _Watch(started_at=started) for name in self.services}

    def tick(self) -> None:
        """Look at every service once: note a death, restart when its backoff
        is over, announce it back once ready. Call it about once a second."""
        for name, service in self.services.items():
            watch = self._watches[name]
            now = self.now()
            if watch.restart_at is not None:
                if now >= watch.restart_at:
                    watch.restart_at = None
                    watch.started_at = now
                    watch.awaiting_ready = True
                    service.start()
                    self.say(f"{name}: started again (restart {watch.restarts})")
                continue
            process = service.process
            if process is None or process.poll() is None:
                if watch.awaiting_ready and _ready(service):
                    watch.awaiting_ready = False
                    self.say(f"{name}: back and ready at {service.url}")
                continue
            up_for = now - watch.started_at
            watch.delay = (
                self.first_delay
                if up_for >= self.stable_after or watch.delay == 0
                else min(watch.delay * 2, self.max_delay)
            )
            watch.restarts += 1
            watch.restart_at = now + watch.delay
            watch.awaiting_ready = False
            self.say(
                f"{name}: exited ({_how(process.returncode)}) after {up_for:.0f} s; "
                f"restarting in {watch.delay:g} s; see {service.log_path}"
            )

    def restarts(self, name: str) -> int:
        return self._watches[name].restarts


def _how(code: int | None) -> str:
    if code is not None and code < 0:
        return f"killed by signal {-code}"
    return f"exit code {code}"


def _ready(service: ServiceProcess) -> bool:
    try:
        return httpx.get(f"{service.url}/health/ready", timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False
