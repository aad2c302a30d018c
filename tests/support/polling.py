"""Waiting for something the system does on its own time (a consumer, a
relay, a dispatcher): poll until it holds, never sleep a fixed time."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import Any


async def eventually(
    check: Callable[[], Any],
    timeout: float = 30.0,
    interval: float = 0.1,
    *,
    what: str | None = None,
) -> Any:
    """Call `check` (awaiting its answer if it is awaitable) every `interval`
    seconds until the answer is truthy, and return that answer. After
    `timeout` seconds, AssertionError naming `what` and the last answer."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if inspect.isawaitable(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(interval)
    named = f": {what}" if what else ""
    raise AssertionError(f"condition not met within {timeout}s{named} (last: {last!r})")
