"""Moving stored personal data to the active keys (`make rotate-keys`).

Each service lists, in one registry (`mpp_<service>.store.encrypted_columns`),
the table columns that hold ciphertexts (with their AEAD context) and those
that hold blind indexes (with their index context and the clear value they
are computed from). `rotate` walks every listed table and rewrites the rows
not yet under the active keys:

- in batches by keyset paging on the table's key, each batch its own
  transaction, so it runs while the services run and write;
- each row rewritten only if it has not changed since it was read (a
  compare-and-set on the rewritten columns): a row a service rewrote in
  between is left alone (it was written under the active key, or the next
  pass takes it);
- resumable and idempotent: which rows remain is read from the data itself
  (the key id in each value), so a run stopped by a crash or Ctrl-C carries
  on where it was when started again, and a finished run finds nothing;
- showing progress per table: rows done / total, and a rate.

Blind indexes need their clear value to be recomputed: it is decrypted from
the row (`BlindIndex.source`). An index with no clear value in its row (a
draft keyed by its owner's index, a one-time code's hash) cannot be moved:
the registry says so (`NotRotated`), and the old index key stays configured
until such rows have expired by themselves.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from cryptography.exceptions import InvalidTag

from mpp_shared.pii import FIELD_HEADER_LENGTH, FieldCipher, field_header, index_prefix

Row = Mapping[str, Any]
Clear = Mapping[str, str | None]


@dataclass(frozen=True)
class Encrypted:
    """A column of ciphertexts and the AEAD context they were sealed with
    (a fixed word, or one made from the row, e.g. a file's storage key)."""

    column: str
    context: str | Callable[[Row], str]

    def context_of(self, row: Row) -> str:
        return self.context if isinstance(self.context, str) else self.context(row)


@dataclass(frozen=True)
class BlindIndex:
    """A column of blind indexes: its index context, and how the clear value
    is found from the row's decrypted columns (`clear`, by column name) and
    its other columns. `requires`: the encrypted column it comes from (a row
    where it is NULL keeps its index)."""

    column: str
    context: str
    requires: str
    source: Callable[[Clear, Row], str | None]


@dataclass(frozen=True)
class EncryptedTable:
    """A table holding encrypted columns and blind indexes.

    `key`: the columns of a unique key to page on, with their SQL types;
    `reads`: other columns the contexts and sources need."""

    table: str
    key: tuple[tuple[str, str], ...]
    encrypted: tuple[Encrypted, ...]
    indexes: tuple[BlindIndex, ...] = ()
    reads: tuple[str, ...] = ()


@dataclass(frozen=True)
class NotRotated:
    """A column holding key-dependent values the rotation cannot move, and why
    (so the old key stays configured until those rows are gone)."""

    table: str
    column: str
    why: str


@dataclass
class TableResult:
    table: str
    total: int
    done: int = 0
    remaining: int = 0
    stopped: bool = False
    # Rows that did not open (a key missing?) or whose new values broke a
    # constraint: left as they were, named by their key.
    failed_keys: set[tuple[Any, ...]] = field(default_factory=set)

    @property
    def failed(self) -> int:
        return len(self.failed_keys)


@dataclass
class Registry:
    """A service's encrypted columns, blind indexes, and what is not rotated."""

    service: str
    tables: tuple[EncryptedTable, ...]
    not_rotated: tuple[NotRotated, ...] = field(default=())


def _needs(table: EncryptedTable) -> str:
    """SQL: the row holds a value not under the active keys ($1: the field
    header of the active encryption key, $2: the active index prefix)."""
    parts = [
        f"({e.column} IS NOT NULL AND substring({e.column} from 1 for "
        f"{FIELD_HEADER_LENGTH}) <> $1::bytea)"
        for e in table.encrypted
    ]
    parts += [
        f"({i.column} IS NOT NULL AND {i.requires} IS NOT NULL AND NOT "
        f"(length({i.column}) = length($2::bytea) + 32 AND "
        f"substring({i.column} from 1 for length($2::bytea)) = $2::bytea))"
        for i in table.indexes
    ]
    # Both parameters are named even where a table has no column of a kind.
    parts.append("(false AND $1::bytea IS NULL AND $2::bytea IS NULL)")
    return "(" + " OR ".join(parts) + ")"


def _columns(table: EncryptedTable) -> list[str]:
    names = [name for name, _ in table.key]
    for column in (
        *(e.column for e in table.encrypted),
        *(i.column for i in table.indexes),
        *table.reads,
    ):
        if column not in names:
            names.append(column)
    return names


def count_sql(table: EncryptedTable) -> str:
    return f"SELECT count(*) FROM {table.table} WHERE {_needs(table)}"


def batch_sql(table: EncryptedTable) -> str:
    keys = ", ".join(name for name, _ in table.key)
    after = ", ".join(f"${3 + n}::{kind}" for n, (_, kind) in enumerate(table.key))
    first = f"${3 + len(table.key)}::boolean"
    limit = f"${4 + len(table.key)}"
    return (
        f"SELECT {', '.join(_columns(table))} FROM {table.table} "
        f"WHERE {_needs(table)} AND ({first} OR ({keys}) > ({after})) "
        f"ORDER BY {keys} LIMIT {limit}"
    )


def _rewritten(table: EncryptedTable) -> list[str]:
    return [e.column for e in table.encrypted] + [i.column for i in table.indexes]


def update_sql(table: EncryptedTable) -> str:
    """Compare-and-set of a batch: each row gets its new values only if the
    rewritten columns still hold what was read."""
    keys = [name for name, _ in table.key]
    columns = _rewritten(table)
    arrays = [f"${n + 1}::{kind}[]" for n, (_, kind) in enumerate(table.key)]
    names = [f"k{n}" for n in range(len(keys))]
    for n, _column in enumerate(columns):
        base = len(table.key) + 2 * n
        arrays += [f"${base + 1}::bytea[]", f"${base + 2}::bytea[]"]
        names += [f"old{n}", f"new{n}"]
    sets = ", ".join(f"{c} = v.new{n}" for n, c in enumerate(columns))
    match = " AND ".join(f"t.{k} = v.k{n}" for n, k in enumerate(keys))
    same = " AND ".join(f"t.{c} IS NOT DISTINCT FROM v.old{n}" for n, c in enumerate(columns))
    return (
        f"UPDATE {table.table} AS t SET {sets} "
        f"FROM unnest({', '.join(arrays)}) AS v({', '.join(names)}) "
        f"WHERE {match} AND {same} RETURNING 1"
    )


class _Unreadable(Exception):
    pass


def rewrite_row(cipher: FieldCipher, table: EncryptedTable, row: Row) -> dict[str, bytes | None]:
    """The row's rewritten columns under the active keys."""
    clear_bytes: dict[str, bytes | None] = {}
    new: dict[str, bytes | None] = {}
    for e in table.encrypted:
        value = row[e.column]
        if value is None:
            clear_bytes[e.column] = new[e.column] = None
            continue
        try:
            clear = cipher.decrypt_bytes(bytes(value), context=e.context_of(row))
        except InvalidTag as error:
            raise _Unreadable(e.column) from error
        clear_bytes[e.column] = clear
        new[e.column] = (
            bytes(value)
            if cipher.is_current(bytes(value))
            else cipher.encrypt_bytes(clear, context=e.context_of(row))
        )
    texts = {c: (v.decode() if v is not None else None) for c, v in clear_bytes.items()}
    for i in table.indexes:
        old = row[i.column]
        source = i.source(texts, row) if texts.get(i.requires) is not None else None
        if old is None or source is None:
            new[i.column] = None if old is None else bytes(old)
        else:
            new[i.column] = cipher.blind_index(source, context=i.context)
    return new


Report = Callable[[str], None]


def _print(line: str) -> None:
    print(line, flush=True)


async def rotate_table(
    pool: asyncpg.Pool,
    cipher: FieldCipher,
    table: EncryptedTable,
    *,
    service: str = "",
    batch_size: int = 500,
    max_batches: int | None = None,
    passes: int = 3,
    report: Report = _print,
) -> TableResult:
    """Move one table's rows to the active keys. `max_batches` stops early
    (as an interruption would); `passes`: how many times the table is walked
    again for rows written under an old key while it ran."""
    header = field_header(cipher.encryption.active)
    prefix = index_prefix(cipher.index.active)
    name = f"{service} {table.table}".strip()
    total = int(await pool.fetchval(count_sql(table), header, prefix))
    result = TableResult(table=table.table, total=total)
    report(
        f"{name}: {total} rows to move to encryption key {cipher.encryption.active}, "
        f"index key {cipher.index.active}"
    )
    select, update = batch_sql(table), update_sql(table)
    key_names = [k for k, _ in table.key]
    started = time.monotonic()
    batches = 0
    for _ in range(passes):
        after: list[Any] = [None] * len(table.key)
        first = True
        while True:
            if max_batches is not None and batches >= max_batches:
                result.stopped = True
                break
            rows, moved, failed = await _batch(
                pool, cipher, table, select, update, header, prefix, after, first, batch_size
            )
            if not rows:
                break
            batches += 1
            first = False
            after = [rows[-1][k] for k in key_names]
            result.done += moved
            result.failed_keys.update(failed)
            rate = result.done / max(time.monotonic() - started, 1e-6)
            shown = max(result.total, result.done)
            report(
                f"{name}: {result.done}/{shown} rows ({100 * result.done / max(shown, 1):.0f}%), "
                f"{rate:.0f} rows/s" + (f", {result.failed} failed" if result.failed else "")
            )
        if result.stopped:
            break
        result.remaining = int(await pool.fetchval(count_sql(table), header, prefix))
        if result.remaining <= result.failed:
            break
    result.remaining = int(await pool.fetchval(count_sql(table), header, prefix))
    return result


async def _batch(
    pool: asyncpg.Pool,
    cipher: FieldCipher,
    table: EncryptedTable,
    select: str,
    update: str,
    header: bytes,
    prefix: bytes,
    after: list[Any],
    first: bool,
    batch_size: int,
) -> tuple[list[asyncpg.Record], int, list[tuple[Any, ...]]]:
    """One batch in its own transaction: (rows read, rows moved, keys of rows failed).
    A deadlock with a service's transaction is retried; a constraint the new
    values break (a duplicate a concurrent write made) falls back to one row
    at a time, leaving the offending row under its old key."""
    for attempt in range(5):
        try:
            async with pool.acquire() as conn, conn.transaction():
                rows = list(await conn.fetch(select, header, prefix, *after, first, batch_size))
                rewritten, failed = _rewrite_all(cipher, table, rows)
                if not rewritten:
                    return rows, 0, failed
                try:
                    async with conn.transaction():
                        moved = len(await conn.fetch(update, *_arrays(table, rewritten)))
                except asyncpg.UniqueViolationError:
                    moved = 0
                    for one in rewritten:
                        try:
                            async with conn.transaction():
                                moved += len(await conn.fetch(update, *_arrays(table, [one])))
                        except asyncpg.UniqueViolationError:
                            failed.append(_key_of(table, one[0]))
                return rows, moved, failed
        except (asyncpg.DeadlockDetectedError, asyncpg.SerializationError):
            await asyncio.sleep(0.05 * (attempt + 1))
    raise RuntimeError(f"{table.table}: a batch kept deadlocking with the services")


def _rewrite_all(
    cipher: FieldCipher, table: EncryptedTable, rows: Sequence[asyncpg.Record]
) -> tuple[list[tuple[asyncpg.Record, dict[str, bytes | None]]], list[tuple[Any, ...]]]:
    rewritten = []
    failed = []
    for row in rows:
        try:
            rewritten.append((row, rewrite_row(cipher, table, row)))
        except _Unreadable:
            failed.append(_key_of(table, row))
    return rewritten, failed


def _key_of(table: EncryptedTable, row: Row) -> tuple[Any, ...]:
    return tuple(row[k] for k, _ in table.key)


def _arrays(
    table: EncryptedTable, rewritten: Sequence[tuple[asyncpg.Record, dict[str, bytes | None]]]
) -> list[list[Any]]:
    arrays: list[list[Any]] = [[row[k] for row, _ in rewritten] for k, _ in table.key]
    for column in _rewritten(table):
        arrays.append([row[column] for row, _ in rewritten])
        arrays.append([new[column] for _, new in rewritten])
    return arrays


async def rotate(
    pool: asyncpg.Pool,
    cipher: FieldCipher,
    registry: Registry,
    *,
    batch_size: int = 500,
    max_batches: int | None = None,
    report: Report = _print,
) -> list[TableResult]:
    """Every table of the registry, one after the other. `max_batches` counts
    per table (a test's stand-in for an interruption)."""
    results = []
    for table in registry.tables:
        results.append(
            await rotate_table(
                pool,
                cipher,
                table,
                service=registry.service,
                batch_size=batch_size,
                max_batches=max_batches,
                report=report,
            )
        )
    for item in registry.not_rotated:
        report(f"{registry.service} {item.table}.{item.column}: not moved ({item.why})")
    return results


async def remaining(pool: asyncpg.Pool, cipher: FieldCipher, registry: Registry) -> dict[str, int]:
    """Rows per table still holding a value under another key than the active ones."""
    header = field_header(cipher.encryption.active)
    prefix = index_prefix(cipher.index.active)
    return {
        t.table: int(await pool.fetchval(count_sql(t), header, prefix)) for t in registry.tables
    }


def main(registry: Registry, settings: Any, argv: Sequence[str] | None = None) -> int:
    """The command line of a service's `python -m mpp_<service>.rotate_keys`."""
    import argparse

    from mpp_shared.db import create_pool
    from mpp_shared.pii import cipher_from_settings

    parser = argparse.ArgumentParser(
        prog=f"python -m mpp_{registry.service}.rotate_keys",
        description=(
            f"Move {registry.service}'s encrypted columns and blind indexes to the active "
            "keys (PII_ENCRYPTION_KEYS / PII_INDEX_KEYS), in batches, while the service "
            "runs. Safe to stop and run again: it carries on where it was."
        ),
    )
    parser.add_argument("--database-url", default=settings.database_url)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument(
        "--check", action="store_true", help="only count the rows still under older keys"
    )
    options = parser.parse_args(argv)
    cipher = cipher_from_settings(settings)

    async def run() -> int:
        pool = await create_pool(options.database_url, min_size=1, max_size=2, command_timeout=60)
        try:
            if options.check:
                left = await remaining(pool, cipher, registry)
                for name, count in left.items():
                    _print(f"{registry.service} {name}: {count} rows under older keys")
                return 1 if any(left.values()) else 0
            results = await rotate(pool, cipher, registry, batch_size=options.batch_size)
        finally:
            await pool.close()
        for r in results:
            _print(
                f"{registry.service} {r.table}: {r.done} moved, {r.failed} failed, "
                f"{r.remaining} left under older keys"
            )
        return 1 if any(r.failed or r.remaining for r in results) else 0

    try:
        return asyncio.run(run())
    except KeyboardInterrupt:
        _print(f"{registry.service}: stopped; run it again to carry on")
        return 130
