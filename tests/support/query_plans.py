"""What the hot paths ask PostgreSQL and how it plans it: a connection
wrapper that records every statement the real store functions execute, with
its arguments, and the sequential scans of big tables in each one's plan."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg


@dataclass
class Statement:
    """One statement a hot path executed: which path, the SQL, its arguments."""

    path: str
    sql: str
    args: tuple[Any, ...]


@dataclass
class Recorder:
    """Stands in for a connection or a pool: runs every call on `conn` and
    records (sql, args) under the hot path named by `path` at the time."""

    conn: asyncpg.Connection
    path: str = "?"
    statements: list[Statement] = field(default_factory=list)

    def _record(self, sql: str, args: tuple[Any, ...]) -> None:
        self.statements.append(Statement(self.path, sql, args))

    async def fetch(self, sql: str, *args: Any, **kwargs: Any) -> list[asyncpg.Record]:
        self._record(sql, args)
        return list(await self.conn.fetch(sql, *args, **kwargs))

    async def fetchrow(self, sql: str, *args: Any, **kwargs: Any) -> asyncpg.Record | None:
        self._record(sql, args)
        return await self.conn.fetchrow(sql, *args, **kwargs)

    async def fetchval(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        self._record(sql, args)
        return await self.conn.fetchval(sql, *args, **kwargs)

    async def execute(self, sql: str, *args: Any, **kwargs: Any) -> str:
        self._record(sql, args)
        result: str = await self.conn.execute(sql, *args, **kwargs)
        return result

    def transaction(self, **kwargs: Any) -> Any:
        return self.conn.transaction(**kwargs)

    def is_in_transaction(self) -> bool:
        return self.conn.is_in_transaction()

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[Recorder]:
        """As a pool: itself, so what runs on the acquired connection is recorded too."""
        yield self

    @asynccontextmanager
    async def on(self, path: str) -> AsyncIterator[Recorder]:
        """Record what runs inside under the hot path `path`, in a transaction
        rolled back at the end (a claim or a delete changes nothing)."""
        self.path = path
        tx = self.conn.transaction()
        await tx.start()
        try:
            yield self
        finally:
            await tx.rollback()
            self.path = "?"


@dataclass(frozen=True)
class Offence:
    path: str
    sql: str
    node: dict[str, Any]

    def __str__(self) -> str:
        node = {k: v for k, v in self.node.items() if k != "Plans"}
        return (
            f"{self.path}: sequential scan of {node.get('Relation Name')}\n"
            f"  query: {' '.join(self.sql.split())}\n"
            f"  node: {json.dumps(node, default=str)}"
        )


def _nodes(plan: dict[str, Any]) -> Iterable[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


async def plan_of(conn: asyncpg.Connection, sql: str, args: tuple[Any, ...]) -> dict[str, Any]:
    """The plan PostgreSQL chooses for `sql` with these arguments (never run)."""
    raw = await conn.fetchval("EXPLAIN (FORMAT JSON) " + sql, *args)
    found: dict[str, Any] = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    return found


async def seq_scans(
    conn: asyncpg.Connection, statements: Iterable[Statement], big_tables: set[str]
) -> list[Offence]:
    """Each sequential scan of a table of `big_tables` in the plans of `statements`."""
    offences = []
    for statement in statements:
        plan = await plan_of(conn, statement.sql, statement.args)
        for node in _nodes(plan):
            if node.get("Node Type") == "Seq Scan" and node.get("Relation Name") in big_tables:
                offences.append(Offence(statement.path, statement.sql, node))
    return offences


async def rows_read_and_dropped(conn: asyncpg.Connection, statement: Statement) -> int:
    """How many rows the scans of `statement` read and then dropped by a
    filter, run for real (EXPLAIN ANALYZE): a keyset page that starts where
    its cursor is drops few, one that scans from the top drops every row
    before the cursor."""
    raw = await conn.fetchval("EXPLAIN (ANALYZE, FORMAT JSON) " + statement.sql, *statement.args)
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    return sum(int(node.get("Rows Removed by Filter", 0)) for node in _nodes(plan))
