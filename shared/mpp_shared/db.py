"""PostgreSQL pool (asyncpg) with jsonb codecs registered once per connection;
its connections are traced per transaction (`mpp_shared.dbtrace`)."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from mpp_shared.dbtrace import TracedConnection


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(
            typename, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


# Errors meaning "the database cannot be reached right now", not "this
# request or event is wrong": APIs answer 503, consumers retry without limit.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
)


async def _reset_connection(conn: asyncpg.Connection) -> None:
    """What a pooled connection needs before reuse.

    asyncpg's default reset runs a query on every release (unlisten, unlock,
    reset all). Pooled connections here hold no session state (the relay's
    LISTEN and lock live on a connection of their own), so only an
    unfinished transaction has to go.
    """
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


async def create_pool(
    dsn: str,
    *,
    min_size: int = 2,
    max_size: int = 10,
    command_timeout: float = 5.0,
) -> asyncpg.Pool:
    pool: asyncpg.Pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        command_timeout=command_timeout,
        init=_init_connection,
        reset=_reset_connection,
        connection_class=TracedConnection,
        # Fail fast when the database is gone instead of hanging a request.
        timeout=command_timeout,
    )
    return pool


async def ensure_database(server_dsn: str, name: str) -> None:
    """Create database `name` on the server of `server_dsn` unless it exists."""
    conn = await asyncpg.connect(server_dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            except asyncpg.DuplicateDatabaseError:
                pass
    finally:
        await conn.close()


def with_database(dsn: str, name: str) -> str:
    """The same server DSN pointing at database `name` (URL or socket form)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + name))


def record_to_dict(record: Any) -> dict[str, Any]:
    return dict(record) if record is not None else {}
