"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from mpp_shared import migrate
from mpp_shared.db import create_pool

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS_MIGRATIONS = ROOT / "services" / "documents" / "mpp_documents" / "migrations"


@pytest.fixture
async def documents_pool(database: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a fresh database holding the shared and the documents schema."""
    pool = await create_pool(database)
    async with pool.acquire() as conn:
        await migrate.apply_migrations(
            conn, {"shared": migrate.SHARED_MIGRATIONS, "documents": DOCUMENTS_MIGRATIONS}
        )
    yield pool
    await pool.close()
