"""Rows that go with another write, in the same round trip.

A use case that writes its aggregate's row, an audit entry and an outbox
event would run three INSERTs, each a round trip: a wake of the event loop,
the driver's work and the server's, per statement. Where the rows are always
written together, they go as one statement instead: the aggregate's write as
a CTE, and each further row an ``INSERT ... SELECT ... WHERE EXISTS (SELECT 1
FROM <that CTE>)``, so the rows exist exactly when the aggregate's write
returned a row. One statement is atomic on its own, and inside the caller's
transaction it commits or rolls back with the rest.

`Row` is one such row, made by the module that owns its table
(`mpp_shared.audit.entry`, `mpp_shared.messaging.outbox.row`) and inserted
alone with `Row.insert`; `with_rows` puts a statement and its rows together,
numbering each part's parameters after the ones before.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import asyncpg

_PARAMETER = re.compile(r"\$(\d+)")


@dataclass(frozen=True)
class Row:
    """One row of `into` (``table (column, ...)``): `values` the SQL of its
    values in the columns' order, with parameters ``$1`` on over `args`."""

    into: str
    values: str
    args: tuple[object, ...]

    @property
    def sql(self) -> str:
        """The row's INSERT on its own."""
        return f"INSERT INTO {self.into} VALUES ({self.values})"

    async def insert(self, conn: asyncpg.Connection) -> None:
        """Write the row alone, in the caller's transaction."""
        await conn.execute(self.sql, *self.args)


def with_rows(
    ctes: str, args: Sequence[object], rows: Sequence[Row], *, when: str, final: str
) -> tuple[str, list[object]]:
    """One statement: ``WITH <ctes>``, then each row inserted if the CTE named
    `when` returned a row, then `final` (the statement's answer, e.g.
    ``SELECT count(*) FROM <when>``). `ctes` and `final` share the
    parameters `args`; each row's own follow them. The SQL and its arguments."""
    shape = tuple((row.into, row.values, len(row.args)) for row in rows)
    sql = _compose(ctes, len(args), shape, when, final)
    combined = list(args)
    for row in rows:
        combined.extend(row.args)
    return sql, combined


@lru_cache(maxsize=256)
def _compose(
    ctes: str, first: int, rows: tuple[tuple[str, str, int], ...], when: str, final: str
) -> str:
    """The statement's text: the same for the same shape, so the driver's
    prepared statement is reused from one call to the next."""
    parts = [ctes.strip()]
    offset = first
    for number, (into, values, count) in enumerate(rows, start=1):
        parts.append(
            f"written_{number} AS (INSERT INTO {into} SELECT {_shifted(values, offset, count)} "
            f"WHERE EXISTS (SELECT 1 FROM {when}))"
        )
        offset += count
    return "WITH " + ",\n".join(parts) + "\n" + final


@lru_cache(maxsize=256)
def renumbered(sql: str, offset: int) -> str:
    """`sql` with each parameter ``$n`` as ``$(n + offset)``: a part placed
    after `offset` parameters of other parts in one statement. Cached: a
    caller on a hot path (a message's outcome) renumbers the same part each
    time."""
    if "$$" in sql:
        raise ValueError(f"dollar quoting in a part of a statement: {sql}")
    return _PARAMETER.sub(lambda match: f"${int(match.group(1)) + offset}", sql)


def _shifted(values: str, offset: int, count: int) -> str:
    for match in _PARAMETER.finditer(values):
        if not 1 <= int(match.group(1)) <= count:
            raise ValueError(f"${match.group(1)} in a row of {count} values: {values}")
    return renumbered(values, offset)
