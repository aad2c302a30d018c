"""Waiting for something the system does on its own time (a consumer, a
relay, a dispatcher): poll until it holds, never sleep a fixed time.

`eventually` is the test's form (a timeout fails the test); `poll_until` is
the measurement's (a timeout is a figure, not a failure)."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import Any


async def poll_until(
    check: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1
) -> tuple[bool, Any]:
    """Call `check` (awaiting its answer if it is awaitable) every `interval`
    seconds until the answer is truthy or `timeout` seconds passed:
    (whether it held, the last answer)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if inspect.isawaitable(last):
            last = await last
        if last:
            return True, last
        await asyncio.sleep(interval)
    return False, last


async def eventually(
    check: Callable[[], Any],
    timeout: float = 30.0,
    interval: float = 0.1,
    *,
    what: str | None = None,
) -> Any:
    """The truthy answer of `check` polled as `poll_until` does; after
    `timeout` seconds, AssertionError naming `what` and the last answer."""
    held, last = await poll_until(check, timeout, interval)
    if held:
        return last
    named = f": {what}" if what else ""
    raise AssertionError(f"condition not met within {timeout}s{named} (last: {last!r})")
