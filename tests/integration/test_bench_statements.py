"""The benchmark's count of database round trips (tests.bench.statements), on
a server of the test's own (the extension must be preloaded, which the
session's server is not): every statement a service database runs is
counted once under that service, BEGIN and COMMIT included; other
databases are left out."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg

from mpp_devstack.embedded import EmbeddedPostgres
from mpp_shared.db import ensure_database, with_database
from tests.bench import statements
from tests.bench.machine import CpuDuringLoad
from tests.bench.report import statements_per_application


async def test_statements_are_counted_per_service_database(tmp_path: Path) -> None:
    postgres = EmbeddedPostgres(tmp_path / "pgdata")
    postgres.start()
    try:
        # As the benchmark calls it: before any event loop runs (here, in a thread).
        dsn = await asyncio.to_thread(statements.load_extension, postgres)
        assert await asyncio.to_thread(statements.load_extension, postgres) == dsn  # no restart
        await ensure_database(dsn, "bx_intake")
        await ensure_database(dsn, "other_notify")
        before = await statements.per_service(dsn, "bx_")
        intake = await asyncpg.connect(with_database(dsn, "bx_intake"))
        other = await asyncpg.connect(with_database(dsn, "other_notify"))
        try:
            async with intake.transaction():  # BEGIN, 3 statements, COMMIT
                for n in range(3):
                    await intake.fetchval("SELECT $1::int", n)
            await intake.execute("SELECT 1")
            await other.execute("SELECT 1")
        finally:
            await intake.close()
            await other.close()
        after = await statements.per_service(dsn, "bx_")
    finally:
        postgres.stop()
    assert set(after) == {"intake"}
    assert after["intake"] - before.get("intake", 0) == 6


def test_statements_per_application_divide_by_the_applications_of_the_window() -> None:
    class Load:
        latencies = [0.01] * 40  # 40 applications answered in the window

    cpu = CpuDuringLoad(statements={"intake": 280, "notify": 480, "documents": 0})
    assert statements_per_application(cpu, Load()) == {  # type: ignore[arg-type]
        "documents": 0.0,
        "intake": 7.0,
        "notify": 12.0,
        "total": 19.0,
    }
    assert statements_per_application(CpuDuringLoad(), Load()) is None  # type: ignore[arg-type]
