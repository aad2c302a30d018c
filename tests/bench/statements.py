"""Database round trips per application: the statements each service's
database ran in the measured window, from `pg_stat_statements` (the
extension most production PostgreSQL servers run with; BEGIN and COMMIT
count, as the round trips they are).

`load_extension` restarts the benchmark's own server once, before the
services start, with the extension preloaded; `per_service` reads the
counts, summed per service database."""

from __future__ import annotations

import asyncio

import asyncpg

from mpp_devstack.embedded import EmbeddedPostgres
from tests.bench import server_settings

EXTENSION = "pg_stat_statements"


async def _create(server_dsn: str) -> None:
    conn = await asyncpg.connect(server_dsn)
    try:
        await conn.execute(f"CREATE EXTENSION IF NOT EXISTS {EXTENSION}")
    finally:
        await conn.close()


def load_extension(postgres: EmbeddedPostgres) -> str:
    """Preload the extension (restarting the server once); the server's DSN."""
    dsn = server_settings.configure(postgres, {"shared_preload_libraries": EXTENSION})
    asyncio.run(_create(dsn))
    return dsn


async def per_service(server_dsn: str, db_prefix: str) -> dict[str, int]:
    """Statements run so far in each service database (`<db_prefix><service>`)."""
    conn = await asyncpg.connect(server_dsn)
    try:
        rows = await conn.fetch(
            f"SELECT d.datname, sum(s.calls)::bigint AS calls FROM {EXTENSION} s "
            "JOIN pg_database d ON d.oid = s.dbid WHERE starts_with(d.datname, $1) "
            "GROUP BY d.datname",
            db_prefix,
        )
    finally:
        await conn.close()
    return {r["datname"].removeprefix(db_prefix): int(r["calls"]) for r in rows}
