"""Migration runner: numbered plain SQL files applied in order at start-up.

Each source (the shared plumbing, then the service's own folder) keeps its own
numbering. Applied versions are recorded in `schema_migrations`. A session
advisory lock makes concurrent start-ups of several instances safe: the
second waits, then finds everything applied.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

log = logging.getLogger(__name__)

SHARED_MIGRATIONS = Path(__file__).parent / "migrations"
_LOCK_ID = 0x6D7070_6D6967  # "mpp" "mig"
_NAME = re.compile(r"^(\d{3,})_([a-z0-9_]+)\.sql$")

# A migration on a district's years of data may take minutes (an index built
# on millions of rows, a column filled in): the pool's command timeout, meant
# for requests, does not apply to it.
MIGRATION_TIMEOUT = 3600.0


@dataclass(frozen=True)
class Migration:
    source: str
    version: int
    name: str
    path: Path


def discover(source: str, folder: Path) -> list[Migration]:
    found: list[Migration] = []
    for path in sorted(folder.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise ValueError(f"migration file name must be NNN_name.sql: {path}")
        found.append(Migration(source, int(match[1]), match[2], path))
    found.sort(key=lambda m: m.version)  # by number: 1000 comes after 999
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError(f"duplicate migration numbers in {folder}")
    return found


async def apply_migrations(conn: asyncpg.Connection, sources: dict[str, Path]) -> list[str]:
    """Apply what is missing; returns the names applied now."""
    applied_now: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_ID)
    try:
        await conn.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                source     text        NOT NULL,
                version    int         NOT NULL,
                name       text        NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (source, version)
            )
            """
        )
        for source, folder in sources.items():
            done = {
                r["version"]
                for r in await conn.fetch(
                    "SELECT version FROM schema_migrations WHERE source = $1", source
                )
            }
            for migration in discover(source, folder):
                if migration.version in done:
                    continue
                async with conn.transaction():
                    await conn.execute(migration.path.read_text(), timeout=MIGRATION_TIMEOUT)
                    await conn.execute(
                        "INSERT INTO schema_migrations (source, version, name) VALUES ($1, $2, $3)",
                        source,
                        migration.version,
                        migration.name,
                    )
                label = f"{source}/{migration.version:03d}_{migration.name}"
                log.info("applied migration %s", label)
                applied_now.append(label)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_ID)
    return applied_now


async def pending(conn: asyncpg.Connection, sources: dict[str, Path]) -> list[str]:
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    done: set[tuple[str, int]] = set()
    if exists:
        done = {
            (r["source"], r["version"])
            for r in await conn.fetch("SELECT source, version FROM schema_migrations")
        }
    return [
        f"{m.source}/{m.version:03d}_{m.name}"
        for source, folder in sources.items()
        for m in discover(source, folder)
        if (m.source, m.version) not in done
    ]
