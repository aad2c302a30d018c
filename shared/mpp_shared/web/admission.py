"""Admission control: a service under more load than it can carry answers
the excess at once with 503 and `Retry-After` instead of queueing it without
bound, so the requests it does take stay fast and no client waits minutes.

Two waits are bounded, both before a request's work starts:

- a slot: at most MAX_CONCURRENT_REQUESTS requests are handled at once per
  process (`Admission`, a pure ASGI middleware installed by
  `mpp_shared.service` in every service); a request waits at most
  ADMISSION_WAIT_MS for one;
- the request's first database connection: the pool a route receives
  (`mpp_shared.web.deps.get_pool`) is the process's pool behind a
  `BoundedPool`, whose first `acquire` waits at most DB_POOL_WAIT_MS.

A request that cannot have either in time is answered 503 with
`Retry-After: OVERLOAD_RETRY_AFTER` and the shared error body (code
`overloaded`), and counted in `mpp_http_requests_refused_total{reason}`
(`concurrency` or `db_pool`). Only the first connection of a request is
bounded: once a request holds or held a connection it may have committed
something, and a 503 then would make its client retry what was done, so
later acquires wait as they always did. Nothing that already started is cut
short either: the bounds are on waiting, never on work.

Health probes (/health/live, /health/ready) and /metrics are never refused:
an overloaded replica is alive, and its metrics are what show the overload.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Literal

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from opentelemetry import metrics
from starlette.types import ASGIApp, Receive, Scope, Send

from mpp_shared.errors import Language
from mpp_shared.web.errors import header_language

log = logging.getLogger(__name__)

# Paths never refused: probes and scrapes.
EXEMPT_PATHS = ("/health/", "/metrics")

Reason = Literal["concurrency", "db_pool"]

# How often a log line sums up the refusals (seconds): one line per refusal
# would add to the load it reports.
LOG_EVERY = 10.0


def overloaded_body(retry_after: int, language: Language) -> dict[str, Any]:
    """The shared error body of a refusal for overload."""
    detail = (
        f"The service is busy; please try again in {retry_after} seconds"
        if language == "en"
        else f"Layanan sedang sibuk, silakan coba lagi dalam {retry_after} detik"
    )
    return {"code": "overloaded", "detail": detail, "retry_after": retry_after}


@dataclass
class Overload:
    """What a service does with a request it cannot take now: the answer,
    the counter and a log line now and then. One per app
    (`app.state.overload`), shared by the middleware and the pool bound."""

    retry_after: int
    meter: metrics.Meter | None = None  # the process's meter provider's unless given
    _counts: dict[str, int] = field(default_factory=dict)
    _logged_at: float = 0.0

    def __post_init__(self) -> None:
        meter = self.meter or metrics.get_meter("mpp.http")
        self._refused = meter.create_counter(
            "mpp.http.requests_refused",
            unit="{request}",
            description="Requests answered 503 + Retry-After because the service was "
            "overloaded: no slot (concurrency) or no database connection (db_pool) in time",
        )

    def refused(self, reason: Reason) -> None:
        self._refused.add(1, {"reason": reason})
        self._counts[reason] = self._counts.get(reason, 0) + 1
        now = time.monotonic()
        if now - self._logged_at >= LOG_EVERY:
            log.warning(
                "overloaded: requests refused with 503 since the last report: %s",
                ", ".join(f"{k} {n}" for k, n in sorted(self._counts.items())),
            )
            self._counts.clear()
            self._logged_at = now

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}

    def body(self, language: Language) -> dict[str, Any]:
        return overloaded_body(self.retry_after, language)


class Admission:
    """At most `limit` requests handled at once; a request waits at most
    `wait` seconds for a slot (0: none, refused while every slot is taken),
    then is answered 503 by `overload` (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, limit: int, wait: float, overload: Overload) -> None:
        if limit < 1:
            raise ValueError("the concurrency limit must be at least 1")
        self.app = app
        self.limit = limit
        self.wait = wait
        self.overload = overload
        self._slots = asyncio.Semaphore(limit)
        self.in_flight = 0  # requests holding a slot
        self.waiting = 0  # requests waiting for one

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PATHS):
            await self.app(scope, receive, send)
            return
        if not await self._admit():
            await self._refuse(scope, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
            self._slots.release()

    async def _admit(self) -> bool:
        if not self._slots.locked():
            await self._slots.acquire()  # a free slot: taken without yielding
            return True
        if self.wait <= 0:
            return False
        self.waiting += 1
        try:
            async with asyncio.timeout(self.wait):
                await self._slots.acquire()
        except TimeoutError:
            return False
        finally:
            self.waiting -= 1
        return True

    async def _refuse(self, scope: Scope, send: Send) -> None:
        self.overload.refused("concurrency")
        language = header_language(_header(scope, b"accept-language"))
        body = json.dumps(self.overload.body(language), ensure_ascii=False).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *((k.lower().encode(), v.encode()) for k, v in self.overload.headers().items()),
        ]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers") or ():
        if key == name:
            return str(value.decode("latin-1"))
    return ""


class PoolExhausted(Exception):
    """No database connection came free within DB_POOL_WAIT_MS before the
    request's work started: answered 503 + Retry-After."""


class _Acquire:
    """`pool.acquire()` of a `BoundedPool`: usable as `async with` and `await`,
    like asyncpg's own."""

    def __init__(self, pool: BoundedPool, timeout: float | None) -> None:
        self._pool = pool
        self._timeout = timeout
        self._conn: asyncpg.Connection | None = None

    def __await__(self) -> Generator[Any, None, asyncpg.Connection]:
        return self._pool._acquire(self._timeout).__await__()

    async def __aenter__(self) -> asyncpg.Connection:
        self._conn = await self._pool._acquire(self._timeout)
        return self._conn

    async def __aexit__(self, *_exc: object) -> None:
        conn, self._conn = self._conn, None
        assert conn is not None
        await self._pool.release(conn)


class BoundedPool:
    """The process's pool as one request sees it: the request's first
    connection is waited for at most `first_wait` seconds (PoolExhausted
    after that); every later one, and everything else, is the pool's own.

    A route's code uses it as the asyncpg pool it stands for (`acquire`,
    `fetch`, `fetchrow`, `fetchval`, `execute`, `executemany`, and any other
    attribute of the pool)."""

    def __init__(self, pool: asyncpg.Pool, first_wait: float) -> None:
        self._pool = pool
        self._first_wait = first_wait
        self._held = False  # a connection was handed to this request

    @property
    def pool(self) -> asyncpg.Pool:
        return self._pool

    def acquire(self, *, timeout: float | None = None) -> _Acquire:
        return _Acquire(self, timeout)

    async def _acquire(self, timeout: float | None) -> asyncpg.Connection:
        if self._held:
            return await self._pool.acquire(timeout=timeout)
        bound = self._first_wait if timeout is None else min(timeout, self._first_wait)
        try:
            conn = await self._pool.acquire(timeout=bound)
        except TimeoutError:
            if self._held:
                # A concurrent acquire of the same request got its connection
                # meanwhile: its work may be done, so this one waits on.
                remaining = None if timeout is None else max(0.0, timeout - bound)
                conn = await self._pool.acquire(timeout=remaining)
            elif timeout is not None and timeout <= self._first_wait:
                raise  # the caller's own timeout, as asyncpg raises it
            else:
                raise PoolExhausted(f"no database connection within {bound:g} s") from None
        self._held = True
        return conn

    async def release(
        self, connection: asyncpg.Connection, *, timeout: float | None = None
    ) -> None:
        await self._pool.release(connection, timeout=timeout)

    async def _with_connection(self, call: Callable[[asyncpg.Connection], Awaitable[Any]]) -> Any:
        async with self.acquire() as conn:
            return await call(conn)

    async def execute(self, query: str, *args: Any, timeout: float | None = None) -> str:
        result: str = await self._with_connection(
            lambda c: c.execute(query, *args, timeout=timeout)
        )
        return result

    async def executemany(self, command: str, args: Any, *, timeout: float | None = None) -> None:
        await self._with_connection(lambda c: c.executemany(command, args, timeout=timeout))

    async def fetch(self, query: str, *args: Any, timeout: float | None = None, **kw: Any) -> Any:
        return await self._with_connection(lambda c: c.fetch(query, *args, timeout=timeout, **kw))

    async def fetchrow(
        self, query: str, *args: Any, timeout: float | None = None, **kw: Any
    ) -> Any:
        return await self._with_connection(
            lambda c: c.fetchrow(query, *args, timeout=timeout, **kw)
        )

    async def fetchval(
        self, query: str, *args: Any, column: int = 0, timeout: float | None = None
    ) -> Any:
        return await self._with_connection(
            lambda c: c.fetchval(query, *args, column=column, timeout=timeout)
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


def bounded_pool(request: Request) -> asyncpg.Pool:
    """The pool for one request (`mpp_shared.web.deps.get_pool`): bounded by
    DB_POOL_WAIT_MS when the app has admission control, else the pool itself."""
    pool: asyncpg.Pool = request.app.state.runtime.pool
    wait: float | None = getattr(request.app.state, "db_pool_wait", None)
    if wait is None:
        return pool
    bounded: Any = BoundedPool(pool, wait)
    return bounded  # duck-typed as the asyncpg pool the routes expect


async def _pool_exhausted(request: Request, _exc: Exception) -> JSONResponse:
    overload: Overload = request.app.state.overload
    overload.refused("db_pool")
    return JSONResponse(
        status_code=503,
        content=overload.body(header_language(request.headers.get("accept-language", ""))),
        headers=overload.headers(),
    )


def install_admission(
    app: FastAPI,
    *,
    limit: int,
    wait_ms: int,
    db_pool_wait_ms: int,
    retry_after: int,
    meter: metrics.Meter | None = None,
) -> Overload:
    """Admission control for `app` (see the module docstring); call it after
    every other `add_middleware`, so that a refusal costs as little as
    possible (only the tracing middleware, always outermost, sees it)."""
    overload = Overload(retry_after, meter)
    app.state.overload = overload
    app.state.db_pool_wait = db_pool_wait_ms / 1000
    app.add_exception_handler(PoolExhausted, _pool_exhausted)
    app.add_middleware(Admission, limit=limit, wait=wait_ms / 1000, overload=overload)
    return overload
