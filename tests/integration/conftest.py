"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from mpp_shared import migrate
from mpp_shared.db import create_pool

ROOT = Path(__file__).resolve().parents[2]


async def service_pool(database: str, service: str) -> asyncpg.Pool:
    """A pool on `database` holding the shared schema and `service`'s own."""
    pool = await create_pool(database)
    folder = ROOT / "services" / service / f"mpp_{service}" / "migrations"
    async with pool.acquire() as conn:
        await migrate.apply_migrations(conn, {"shared": migrate.SHARED_MIGRATIONS, service: folder})
    return pool


@pytest.fixture
async def intake_pool(database: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a fresh database holding the shared and the intake schema."""
    pool = await service_pool(database, "intake")
    yield pool
    await pool.close()


@pytest.fixture
async def documents_pool(database: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a fresh database holding the shared and the documents schema."""
    pool = await service_pool(database, "documents")
    yield pool
    await pool.close()


@pytest.fixture
async def complaints_pool(database: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a fresh database holding the shared and the complaints schema."""
    pool = await service_pool(database, "complaints")
    yield pool
    await pool.close()


@pytest.fixture
async def notify_pool(database: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a fresh database holding the shared and the notify schema."""
    pool = await service_pool(database, "notify")
    yield pool
    await pool.close()
