"""Gauges read from the database (mpp_shared.metrics) on real PostgreSQL: the
outbox's backlog and the age of its oldest row, documents' open jobs per
point, a query given the business clock, and a query that fails drops its
series instead of showing a stale reading."""

from __future__ import annotations

import uuid

import asyncpg
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from mpp_documents.store.metrics import GAUGES as DOCUMENTS_GAUGES
from mpp_shared import clock
from mpp_shared.metrics import OUTBOX_GAUGES, SnapshotGauge, Snapshots
from tests.support.metrics import readings

BUSINESS_NOW = SnapshotGauge(
    "test.business_now",
    "The clock the query was given",
    "SELECT extract(epoch FROM $1::timestamptz)::float8 AS value",
    uses_now=True,
)
BROKEN = SnapshotGauge("test.broken", "A query that fails", "SELECT 1 AS value FROM no_such_table")


async def _outbox_row(pool: asyncpg.Pool, age_seconds: float, published: bool) -> None:
    await pool.execute(
        "INSERT INTO outbox (event_id, topic, key, event_type, payload, created_at, published_at)"
        " VALUES ($1, 't', 'k', 'e', '\\x00', now() - make_interval(secs => $2),"
        " CASE WHEN $3 THEN now() END)",
        uuid.uuid4(),
        age_seconds,
        published,
    )


async def _job(pool: asyncpg.Pool, state: str, point: str | None) -> None:
    await pool.execute(
        "INSERT INTO jobs (id, application_id, tracking_code, service_code, state, pickup_point)"
        " VALUES ($1, $2, 'MPP-TEST', 'ktp_el', $3, $4)",
        uuid.uuid4(),
        uuid.uuid4(),
        state,
        point,
    )


async def test_gauges_read_the_database_and_a_failing_query_drops_its_series(
    documents_pool: asyncpg.Pool,
) -> None:
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("test")
    snapshots = Snapshots(
        "documents", [*OUTBOX_GAUGES, *DOCUMENTS_GAUGES, BUSINESS_NOW, BROKEN], meter
    )

    await snapshots.refresh(documents_pool)
    empty = readings(reader)
    assert empty["mpp.outbox.backlog"] == {(("service", "documents"),): 0}
    assert empty["mpp.outbox.oldest_age"] == {(("service", "documents"),): 0}
    assert "mpp.sla.open_jobs" not in empty  # no row, no series
    assert "test.broken" not in empty

    await _outbox_row(documents_pool, 120, published=False)
    await _outbox_row(documents_pool, 30, published=False)
    await _outbox_row(documents_pool, 900, published=True)
    for state, point in [
        ("queued", "KEC-PARE"),
        ("ready_for_pickup", "KEC-PARE"),
        ("in_production", "MPP-KEDIRI"),
        ("picked_up", "KEC-PARE"),
        ("cancelled", "MPP-KEDIRI"),
        ("queued", None),
    ]:
        await _job(documents_pool, state, point)
    await snapshots.refresh(documents_pool)
    snapshots.record_readiness({"database": "ok", "broker": "unreachable: KafkaError"})

    found = readings(reader)
    assert found["mpp.outbox.backlog"] == {(("service", "documents"),): 2}
    (age,) = found["mpp.outbox.oldest_age"].values()
    assert 120 <= age < 180  # the oldest unpublished row, not the published one
    assert found["mpp.sla.open_jobs"] == {
        (("point", "KEC-PARE"), ("service", "documents")): 2,
        (("point", "MPP-KEDIRI"), ("service", "documents")): 1,
        (("point", "none"), ("service", "documents")): 1,
    }
    (given,) = found["test.business_now"].values()
    assert abs(given - clock.now().timestamp()) < 60
    assert found["mpp.service.ready"] == {(("check", "database"),): 1, (("check", "broker"),): 0}

    # The database goes away: the readings go too, not stay as they were.
    await documents_pool.close()
    await snapshots.refresh(documents_pool)
    assert "mpp.outbox.backlog" not in readings(reader)
