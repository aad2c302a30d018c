"""Fill the four services' databases (see tests.bench.scale.data) with COPY.

The databases are migrated with the services' own migration runner and
folders. Each chunk of applications is written to each database in one
transaction together with its row in `bench_scale_fill`, so a fill killed
at any point carries on, when run again, with the chunks not yet committed
(a database that has a chunk skips it). The first run records the size,
the chunk size and the anchor in `bench_scale_meta` (intake's database);
a later run with another size is refused.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

import mpp_complaints
import mpp_documents
import mpp_intake
import mpp_notify
from mpp_complaints.store import queue_counts
from mpp_documents.store import report_counts
from mpp_shared import migrate
from mpp_shared.db import ensure_database, with_database
from mpp_shared.kept_counts import fold_all
from mpp_shared.pii import FieldCipher, cipher_from_settings
from mpp_shared.settings import ServiceSettings
from tests.bench.scale import data

log = logging.getLogger("bench.scale")

MIGRATIONS = {
    name: Path(module.__file__).parent / "migrations"  # type: ignore[arg-type]
    for name, module in (
        ("intake", mpp_intake),
        ("documents", mpp_documents),
        ("complaints", mpp_complaints),
        ("notify", mpp_notify),
    )
}
PROGRESS_TABLE = """
CREATE TABLE IF NOT EXISTS bench_scale_fill (
    chunk     int         PRIMARY KEY,
    rows      int         NOT NULL,
    filled_at timestamptz NOT NULL DEFAULT now()
)
"""
META_TABLE = """
CREATE TABLE IF NOT EXISTS bench_scale_meta (
    key   text PRIMARY KEY,
    value text NOT NULL
)
"""
DEFAULT_CHUNK = 20_000
# The bench's server is set up as a modest database server would be, not
# with PostgreSQL's out-of-the-box 128 MB of buffers and a checkpoint every
# gigabyte of WAL (a 5 M fill writes tens of gigabytes). Kept in the data
# directory, so both sizes are filled and measured with the same settings.
SERVER_SETTINGS = {
    "shared_buffers": "1GB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "15min",
}


@dataclass
class FillResult:
    size: int
    chunks: int
    chunks_written: int
    rows_written: dict[str, int]
    seconds: float
    anchor: datetime
    finished: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "chunks": self.chunks,
            "chunks_written": self.chunks_written,
            "rows_written": self.rows_written,
            "seconds": round(self.seconds, 1),
            "anchor": self.anchor.isoformat(),
            "finished": self.finished,
        }


def database_name(prefix: str, service: str) -> str:
    return f"{prefix}{service}"


async def migrate_all(server_dsn: str, prefix: str) -> dict[str, str]:
    """Create and migrate the four databases as the services do; their DSNs."""
    dsns: dict[str, str] = {}
    for service, folder in MIGRATIONS.items():
        name = database_name(prefix, service)
        await ensure_database(server_dsn, name)
        dsn = with_database(server_dsn, name)
        conn = await asyncpg.connect(dsn)
        try:
            await migrate.apply_migrations(
                conn, {"shared": migrate.SHARED_MIGRATIONS, service: folder}
            )
            await conn.execute(PROGRESS_TABLE)
        finally:
            await conn.close()
        dsns[service] = dsn
    return dsns


async def _meta(conn: asyncpg.Connection, size: int, chunk: int) -> datetime:
    """The fill's anchor (now on the first run); refuses another size."""
    await conn.execute(META_TABLE)
    rows = {
        r["key"]: r["value"] for r in await conn.fetch("SELECT key, value FROM bench_scale_meta")
    }
    if not rows:
        anchor = datetime.now(UTC).replace(microsecond=0)
        await conn.executemany(
            "INSERT INTO bench_scale_meta (key, value) VALUES ($1, $2)",
            [("size", str(size)), ("chunk", str(chunk)), ("anchor", anchor.isoformat())],
        )
        return anchor
    if int(rows["size"]) != size or int(rows["chunk"]) != chunk:
        raise SystemExit(
            f"this directory holds a fill of {rows['size']} applications in chunks of "
            f"{rows['chunk']}; use another --dir for {size}"
        )
    return datetime.fromisoformat(rows["anchor"])


async def _done(conn: asyncpg.Connection) -> set[int]:
    return {r["chunk"] for r in await conn.fetch("SELECT chunk FROM bench_scale_fill")}


async def _write(conn: asyncpg.Connection, number: int, chunk: data.Chunk, db: str) -> int:
    async with conn.transaction():
        for table, (columns, records) in chunk.tables[db].items():
            await conn.copy_records_to_table(table, records=records, columns=columns)
        rows = chunk.rows(db)
        await conn.execute(
            "INSERT INTO bench_scale_fill (chunk, rows) VALUES ($1, $2)", number, rows
        )
    return rows


async def _finish(
    conns: dict[str, asyncpg.Connection], pools: data.Pools, anchor: datetime
) -> None:
    """What follows the chunks: the register's counters continuing from the
    filled numbers, the kept counts folded, ANALYZE."""
    await conns["documents"].execute(
        """
        INSERT INTO register_counters (doc_type, office, year, last)
        SELECT doc_type, office, year, max(seq) FROM issued_documents
        GROUP BY doc_type, office, year
        ON CONFLICT (doc_type, office, year) DO UPDATE SET last = greatest(
            register_counters.last, EXCLUDED.last)
        """
    )
    # The SLA and backlog counts the jobs' triggers kept as deltas, folded as
    # the documents service folds them.
    await fold_all(conns["documents"], report_counts.compact)
    # The work queue's counts, the same way in complaints.
    await fold_all(conns["complaints"], queue_counts.fold)
    # The folds emptied tables that held a delta for every row copied: their
    # pages are given back, as autovacuum would, or the reports that read
    # the deltas not folded yet would scan hundreds of megabytes of nothing.
    await conns["documents"].execute("VACUUM report_count_deltas")
    await conns["complaints"].execute("VACUUM complaint_queue_deltas")
    await asyncio.gather(*(conn.execute("ANALYZE") for conn in conns.values()))


def _tune(conn: asyncpg.Connection) -> Any:
    # Bulk load: no wait for the WAL flush of each chunk's commit.
    return conn.execute("SET synchronous_commit = off")


async def fill(
    server_dsn: str,
    size: int,
    *,
    prefix: str = "mpp_",
    chunk_size: int = DEFAULT_CHUNK,
    cipher: FieldCipher | None = None,
    stop_after: int | None = None,
    quiet: bool = False,
) -> FillResult:
    """Fill (or carry on filling) `size` applications; `stop_after` chunks
    written, stop (to test resumption)."""
    chunk_size = min(chunk_size, max(2, size - size % 2))
    if chunk_size % 2:
        chunk_size += 1
    started = time.monotonic()
    dsns = await migrate_all(server_dsn, prefix)
    cipher = cipher or cipher_from_settings(ServiceSettings())
    conns = {db: await asyncpg.connect(dsn) for db, dsn in dsns.items()}
    try:
        for conn in conns.values():
            await _tune(conn)
        anchor = await _meta(conns["intake"], size, chunk_size)
        pools = data.Pools.make(cipher)
        generator = data.Generator(size, anchor, cipher, pools)
        # The webhook subscriptions the deliveries of every chunk refer to.
        await conns["notify"].executemany(
            "INSERT INTO subscriptions (id, owner, url, event_types, secret_enc, status, "
            "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
            "ON CONFLICT (id) DO NOTHING",
            data.subscription_rows(pools, anchor),
        )
        done = {db: await _done(conn) for db, conn in conns.items()}
        chunks = (size + chunk_size - 1) // chunk_size
        todo = [n for n in range(chunks) if any(n not in done[db] for db in conns)]
        written: dict[str, int] = dict.fromkeys(conns, 0)
        if not quiet:
            print(
                f"fill: {size:,} applications in {chunks} chunks of {chunk_size:,}; "
                f"{chunks - len(todo)} already filled, {len(todo)} to go (anchor {anchor:%Y-%m-%d %H:%M} UTC)",
                flush=True,
            )
        fill_started = time.monotonic()
        count = 0
        for count, number in enumerate(todo, 1):
            first = number * chunk_size
            end = min(size, first + chunk_size)
            chunk = generator.chunk(number, first, end)
            wanted = [db for db in conns if number not in done[db]]
            results = await asyncio.gather(*(_write(conns[db], number, chunk, db) for db in wanted))
            for db, rows in zip(wanted, results, strict=True):
                written[db] += rows
            if not quiet:
                elapsed = time.monotonic() - fill_started
                total = sum(written.values())
                eta = elapsed / count * (len(todo) - count)
                print(
                    f"  chunk {number + 1}/{chunks}: applications {end:,}/{size:,}, "
                    f"{total:,} rows in {elapsed:,.0f} s ({total / elapsed:,.0f} rows/s, "
                    f"{(count * chunk_size) / elapsed:,.0f} applications/s), ETA {eta:,.0f} s",
                    flush=True,
                )
            if stop_after is not None and count >= stop_after:
                return FillResult(
                    size, chunks, count, written, time.monotonic() - started, anchor, False
                )
        if not quiet:
            print("fill: subscriptions, register counters, ANALYZE...", flush=True)
        await _finish(conns, pools, anchor)
        return FillResult(size, chunks, count, written, time.monotonic() - started, anchor, True)
    finally:
        for conn in conns.values():
            await conn.close()
