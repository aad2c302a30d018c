"""A short in-process cache for what the counter path reads on every
submission and what changes rarely (the current service, a point's opening
hours, the point nearest a kecamatan).

Each process keeps a value for `CACHE_SECONDS`. Publishing a catalog version
clears this process's cache at once; other instances follow within those
seconds, and every application records the version it was judged by either
way.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

CACHE_SECONDS = 5.0
_entries: dict[tuple[str, str], tuple[float, Any]] = {}
T = TypeVar("T")


async def cached(key: tuple[str, str], load: Callable[[], Awaitable[T]]) -> T:
    """The value under `key`, loaded with `load` when absent or older than
    `CACHE_SECONDS`."""
    now = time.monotonic()
    hit = _entries.get(key)
    if hit is not None and hit[0] > now:
        value: T = hit[1]
        return value
    loaded = await load()
    _entries[key] = (now + CACHE_SECONDS, loaded)
    return loaded


def forget() -> None:
    _entries.clear()
