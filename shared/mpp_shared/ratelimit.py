"""Rate limits that hold across replicas: token buckets kept in PostgreSQL.

Each bucket is one row of `rate_limit_buckets` (shared migration 005), kept
as the generic cell rate algorithm keeps a token bucket: its theoretical
arrival time `tat`, the moment the bucket would be full again. A take is one
atomic statement (INSERT ... ON CONFLICT DO UPDATE ... RETURNING): the row
lock orders concurrent takes, from any replica, so N replicas together grant
exactly what one would. Nothing is counted in process memory.

- `Rate(per_second, burst)`: on average `per_second` grants, bursts of
  `burst` (at least one); `Rate.per_minute(n)` for the public routes. A rate
  of 0 turns the limit off (no statement at all).
- `take(key)`: granted now, or refused with the seconds to wait (a refusal
  uses nothing up).
- `take(key, within=s)`: a grant may be a slot up to `s` seconds ahead; the
  caller waits until it (`acquire` does), so many callers queue on one
  bucket without polling it.
- Keys are stored only as an HMAC-SHA256 under a random secret made once per
  database (`rate_limit_secret`): no client address in clear, not in the
  table and not in the statement's parameters (which a slow-query log keeps).
- Time is the database's (`statement_timestamp()`), one clock for every
  replica, unless the limiter is given a clock or a take an explicit `now`
  (tests). Rows whose bucket is full again are purged a batch at a time, at
  most every `purge_every` seconds per limiter.
- IPv6 clients are limited by their /64 (`address_key`): one household or
  phone holds a whole /64 and could otherwise rotate through it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import asyncpg

TAKE = """
INSERT INTO rate_limit_buckets AS b (scope, key_hash, tat, taken_at, granted)
VALUES ($1, $2, coalesce($5::timestamptz, statement_timestamp()) + make_interval(secs => $3),
        coalesce($5::timestamptz, statement_timestamp()), true)
ON CONFLICT (scope, key_hash) DO UPDATE SET
    granted = greatest(b.tat, EXCLUDED.taken_at)
              <= EXCLUDED.taken_at + make_interval(secs => $4),
    tat = CASE WHEN greatest(b.tat, EXCLUDED.taken_at)
                    <= EXCLUDED.taken_at + make_interval(secs => $4)
               THEN greatest(b.tat, EXCLUDED.taken_at) + make_interval(secs => $3)
               ELSE b.tat END,
    taken_at = EXCLUDED.taken_at
RETURNING granted, extract(epoch FROM tat - taken_at)::float8 AS ahead
"""
# A row past its `tat` is a full bucket, the same as no row; the repeated
# condition keeps a row some take has just moved on.
PURGE = """
DELETE FROM rate_limit_buckets WHERE (scope, key_hash) IN (
    SELECT scope, key_hash FROM rate_limit_buckets
    WHERE tat < coalesce($1::timestamptz, statement_timestamp()) LIMIT $2)
AND tat < coalesce($1::timestamptz, statement_timestamp())
"""
SECRET = "SELECT secret FROM rate_limit_secret"


@dataclass(frozen=True)
class Rate:
    """`per_second` grants on average, bursts of `burst`; 0 turns the limit off."""

    per_second: float
    burst: float = 1.0

    def __post_init__(self) -> None:
        if self.per_second < 0 or self.burst < 1:
            raise ValueError("a rate is >= 0 per second with a burst of at least 1")

    @classmethod
    def per_minute(cls, count: float, burst: float | None = None) -> Rate:
        """`count` per minute, bursts of `burst` (default: `count`, at least 1)."""
        return cls(count / 60.0, max(1.0, float(burst if burst is not None else count)))

    @property
    def off(self) -> bool:
        return self.per_second <= 0

    @property
    def interval(self) -> float:
        """Seconds one grant adds to the bucket's arrival time."""
        return 1.0 / self.per_second

    @property
    def tolerance(self) -> float:
        """How far ahead of now the arrival time may run and still grant now."""
        return (self.burst - 1.0) * self.interval


@dataclass(frozen=True)
class Decision:
    """`granted`: the call may go ahead after `wait` seconds (0: now, or a
    reserved slot ahead with `within`); refused: try again after `wait`."""

    granted: bool
    wait: float


GRANTED_NOW = Decision(True, 0.0)


def address_key(address: str) -> str:
    """The key a client address is limited by: itself, or its /64 for IPv6."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class SharedRateLimit:
    """One limit (`scope`) at `rate` per key, shared by every process on the
    database `pool` points at."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        scope: str,
        rate: Rate,
        *,
        clock: Callable[[], datetime] | None = None,
        purge_every: float = 60.0,
        purge_batch: int = 500,
    ) -> None:
        self.pool = pool
        self.scope = scope
        self.rate = rate
        self.clock = clock
        self.purge_every = purge_every
        self.purge_batch = purge_batch
        self._secret: bytes | None = None
        self._purged_at = time.monotonic()

    async def _key_hash(self, key: str) -> bytes:
        if self._secret is None:
            self._secret = bytes(await self.pool.fetchval(SECRET))
        return hmac.new(self._secret, key.encode(), hashlib.sha256).digest()

    async def take(self, key: str, *, within: float = 0.0, now: datetime | None = None) -> Decision:
        """Take one grant for `key`: now, or (with `within`) a slot at most
        that many seconds ahead; else a refusal with the seconds to wait."""
        if self.rate.off:
            return GRANTED_NOW
        at = now if now is not None else (self.clock() if self.clock else None)
        allowance = self.rate.tolerance + max(0.0, within)
        row = await self.pool.fetchrow(
            TAKE, self.scope, await self._key_hash(key), self.rate.interval, allowance, at
        )
        if time.monotonic() - self._purged_at >= self.purge_every:
            self._purged_at = time.monotonic()
            await self.purge(now=at)
        ahead = float(row["ahead"])
        if row["granted"]:
            return Decision(True, max(0.0, ahead - self.rate.interval - self.rate.tolerance))
        return Decision(False, max(0.0, ahead - allowance))

    async def acquire(self, key: str, *, within: float = 5.0) -> None:
        """Wait for a grant: reserve a slot at most `within` seconds ahead and
        sleep until it (or, when none is free that soon, until one may be)."""
        while True:
            decision = await self.take(key, within=within)
            if decision.wait > 0:
                await asyncio.sleep(decision.wait)
            if decision.granted:
                return

    async def purge(self, *, now: datetime | None = None) -> int:
        """Forget a batch of buckets that are full again; how many."""
        done = await self.pool.execute(PURGE, now, self.purge_batch)
        return int(done.split()[-1])


def retry_after(wait: float) -> int:
    """A wait in whole seconds for Retry-After, at least one."""
    return max(1, math.ceil(wait))
