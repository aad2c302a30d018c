"""Counts kept beside a big table, so that a report or a queue reads a few
hundred counter rows instead of every row of the years.

Row triggers on the big table append +1/-1 rows to a deltas table (appends
never wait for another writer); a fold, one statement of the service's own
(`DELETE ... RETURNING` of a batch of deltas taken `FOR UPDATE SKIP LOCKED`,
added into the counts by an upsert), runs in the background of every
instance; readers add the deltas not folded yet, so they are exact whenever
they run. Used by documents (the SLA and backlog reports) and complaints (the
work queue's counts per status).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import asyncpg

from mpp_shared.db import DATABASE_UNAVAILABLE
from mpp_shared.runtime import BackgroundTask, Runtime

log = logging.getLogger(__name__)

# One fold of at most `batch` deltas: how many it folded.
Fold = Callable[[asyncpg.Pool | asyncpg.Connection, int], Awaitable[int]]

# The deltas taken by one statement: enough for minutes of a busy district.
FOLD_BATCH = 50_000


def taken(deltas: str) -> str:
    """The CTE `taken`: up to $1 deltas of the table `deltas`, deleted and
    returned. Folds running at once take disjoint deltas, and a delta another
    fold took is no longer there to take."""
    return (
        f"taken AS (DELETE FROM {deltas} WHERE id IN "
        f"(SELECT id FROM {deltas} ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING *)"
    )


async def fold_all(
    db: asyncpg.Pool | asyncpg.Connection, fold: Fold, batch: int = FOLD_BATCH
) -> int:
    """Fold until the deltas are used up; how many were folded."""
    folded = 0
    while (n := await fold(db, batch)) > 0:
        folded += n
        if n < batch:
            break
    return folded


def fold_task(name: str, fold: Fold, interval: float) -> BackgroundTask:
    """The background task folding `fold`'s deltas every `interval` seconds;
    any number of instances may run it. A failed fold is retried: the deltas
    stay, and the readers stay exact meanwhile."""

    async def task(runtime: Runtime) -> None:
        while True:
            wait = interval
            try:
                await fold_all(runtime.pool, fold)
            except Exception as exc:
                wait = min(30.0, interval)
                if isinstance(exc, DATABASE_UNAVAILABLE):
                    log.warning("%s: database unavailable (%s), retrying", name, exc)
                else:
                    log.exception("%s: fold failed, retrying", name)
            await asyncio.sleep(wait)

    task.__name__ = name
    return task
