"""Database spans on a real PostgreSQL: one per transaction, a statement of
its own only outside transactions or when slow, nothing outside any span,
errors told without the server's message (mpp_shared.dbtrace)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from mpp_shared import dbtrace
from mpp_shared.db import create_pool
from tests.support.spans import finished_spans

tracer = trace.get_tracer("tests.db")


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    was = dbtrace.enabled()
    dbtrace.enable(slow_statement_ms=200)
    try:
        with finished_spans() as exporter:
            yield exporter
    finally:
        if not was:
            dbtrace.disable()


@pytest.fixture
async def pool(database: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database, min_size=1, max_size=2)
    await pool.execute(
        "CREATE TABLE visits (id int PRIMARY KEY, nik text NOT NULL);"
        "CREATE TABLE visit_log (visit int NOT NULL)"
    )
    yield pool
    await pool.close()


def _by_name(spans: InMemorySpanExporter) -> dict[str, list[ReadableSpan]]:
    found: dict[str, list[ReadableSpan]] = {}
    for span in spans.get_finished_spans():
        found.setdefault(span.name, []).append(span)
    return found


async def test_a_transaction_is_one_span_listing_its_statements(
    pool: asyncpg.Pool, spans: InMemorySpanExporter
) -> None:
    with tracer.start_as_current_span("request") as request:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("INSERT INTO visits (id, nik) VALUES ($1, $2)", 1, "x")
            await conn.execute("INSERT   INTO visit_log\n (visit) VALUES ($1)", 1)
            assert await conn.fetchval("SELECT count(*) FROM visits") == 1
    found = _by_name(spans)
    [transaction] = [
        s for name, group in found.items() if name.startswith("TRANSACTION") for s in group
    ]
    assert transaction.name.startswith("TRANSACTION test_")
    assert transaction.parent is not None
    assert transaction.parent.span_id == request.get_span_context().span_id
    attributes = dict(transaction.attributes or {})
    assert attributes["db.system"] == "postgresql"
    assert attributes["db.statement.count"] == 3
    assert attributes["db.statement"] == (
        "INSERT INTO visits (id, nik) VALUES ($1, $2); "
        "INSERT INTO visit_log (visit) VALUES ($1); "
        "SELECT count(*) FROM visits"
    )
    # No span per statement inside it.
    assert not {"INSERT", "SELECT"} & set(found)


async def test_a_statement_alone_is_a_span_and_work_outside_any_span_is_not_traced(
    pool: asyncpg.Pool, spans: InMemorySpanExporter
) -> None:
    await pool.fetchval("SELECT 1")  # a poll outside any span
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("INSERT INTO visits (id, nik) VALUES (2, 'y')")
    assert spans.get_finished_spans() == ()

    with tracer.start_as_current_span("lookup"):
        await pool.fetchrow("SELECT id FROM visits WHERE id = $1", 2)
    [statement] = _by_name(spans)["SELECT"]
    assert statement.attributes is not None
    assert statement.attributes["db.statement"] == "SELECT id FROM visits WHERE id = $1"
    assert str(statement.attributes["db.name"]).startswith("test_")


async def test_a_slow_statement_gets_a_child_span_of_its_transaction(
    pool: asyncpg.Pool, spans: InMemorySpanExporter
) -> None:
    with tracer.start_as_current_span("request"):
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT 1")
            await conn.execute("SELECT pg_sleep(0.25)")
    found = _by_name(spans)
    [transaction] = [
        s for name, group in found.items() if name.startswith("TRANSACTION") for s in group
    ]
    [slow] = found["SELECT"]
    assert slow.attributes is not None
    assert slow.attributes["db.statement"] == "SELECT pg_sleep(0.25)"
    assert slow.parent is not None
    assert slow.parent.span_id == transaction.context.span_id
    assert slow.end_time is not None and slow.start_time is not None
    assert slow.end_time - slow.start_time >= 200_000_000


async def test_a_failed_statement_marks_its_transaction_without_the_server_message(
    pool: asyncpg.Pool, spans: InMemorySpanExporter
) -> None:
    await pool.execute("INSERT INTO visits (id, nik) VALUES (3, '3201011501900001')")
    with (
        tracer.start_as_current_span("request"),
        pytest.raises(asyncpg.UniqueViolationError),
    ):
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO visits (id, nik) VALUES ($1, $2)", 3, "3201011501900001"
            )
    [transaction] = [
        s
        for name, group in _by_name(spans).items()
        if name.startswith("TRANSACTION")
        for s in group
    ]
    assert transaction.status.status_code is StatusCode.ERROR
    attributes = dict(transaction.attributes or {})
    assert attributes["error.type"] == "UniqueViolationError"
    assert attributes["db.response.status_code"] == "23505"
    # The server's message and detail repeat the row's values: never on a span.
    for span in spans.get_finished_spans():
        text = repr(dict(span.attributes or {})) + repr(span.events) + str(span.status.description)
        assert "3201011501900001" not in text


async def test_statements_of_a_shared_transaction_go_on_each_callers_span(
    pool: asyncpg.Pool, spans: InMemorySpanExporter
) -> None:
    async with pool.acquire() as conn, conn.transaction():
        for visit in (10, 11):
            with tracer.start_as_current_span(f"event {visit}") as span:
                async with dbtrace.statements_on(span):
                    await conn.execute("INSERT INTO visits (id, nik) VALUES ($1, 'z')", visit)
                    await conn.execute("INSERT INTO visit_log (visit) VALUES ($1)", visit)
    found = _by_name(spans)
    for visit in (10, 11):
        [event] = found[f"event {visit}"]
        attributes = dict(event.attributes or {})
        assert attributes["db.statement.count"] == 2
        assert attributes["db.statement"] == (
            "INSERT INTO visits (id, nik) VALUES ($1, 'z'); INSERT INTO visit_log (visit) VALUES ($1)"
        )
    assert not [name for name in found if name.startswith("TRANSACTION") or name == "INSERT"]
