"""Server settings a benchmark needs on its own embedded PostgreSQL, written
with ALTER SYSTEM into the data directory, and the one restart some of them
(shared buffers, preloaded libraries) take."""

from __future__ import annotations

import asyncio

import asyncpg

from mpp_devstack.embedded import EmbeddedPostgres


async def _apply(server_dsn: str, settings: dict[str, str]) -> bool:
    """Write and reload `settings`; whether the server must restart to take them."""
    conn = await asyncpg.connect(server_dsn)
    try:
        for name, value in settings.items():
            await conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        await conn.execute("SELECT pg_reload_conf()")
        pending = await conn.fetchval(
            "SELECT count(*) FROM pg_settings WHERE name = any($1::text[]) AND pending_restart",
            list(settings),
        )
        return bool(pending)
    finally:
        await conn.close()


def configure(postgres: EmbeddedPostgres, settings: dict[str, str]) -> str:
    """Apply `settings` to the running server, restarting it when one needs
    it (not when they are in force already); the server's DSN."""
    dsn = postgres.dsn
    if asyncio.run(_apply(dsn, settings)):
        postgres.stop()
        dsn = postgres.start()
    return dsn
