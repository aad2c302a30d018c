"""Every query on a hot path uses an index once the tables are big.

Each service's database is filled server-side (generate_series) with enough
rows that the planner weighs an index against a sequential scan, analysed,
and then the REAL store functions of its hot paths run through a recording
connection (`tests.support.query_plans.Recorder`): officers' lists (the
first page and a page by cursor), lookups by tracking code and by the NIK's
blind index, the schedulers' due/claim queries, the outbox relay's fetch and
purge, the retention sweeps' due queries, and the reports. Each statement
they executed is planned again with its own arguments (EXPLAIN, FORMAT
JSON), and a sequential scan of a big table fails the test with the hot
path, the query and the plan node. Small tables (catalogs, categories,
subscriptions) may be scanned.

Capturing the calls rather than copying their SQL keeps this test in step
with the code: a new filter or a changed ORDER BY is planned as it runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import asyncpg

from mpp_complaints.domain.queue import QueueFilter, Sort
from mpp_complaints.domain.reports import GroupBy as ComplaintGroupBy
from mpp_complaints.store import deadlines as complaint_deadlines
from mpp_complaints.store import queue as complaint_queue
from mpp_complaints.store import reports as complaint_reports
from mpp_complaints.store import retention as complaint_retention
from mpp_documents.domain.reports import GroupBy as DocumentGroupBy
from mpp_documents.domain.reports import Period
from mpp_documents.store import pickup_timers, report_counts, sla_clocks
from mpp_documents.store import register as register_store
from mpp_documents.store import reports as document_reports
from mpp_documents.store import retention as document_retention
from mpp_intake.store import applications, population
from mpp_intake.store import retention as intake_retention
from mpp_notify.store import delivery_log, webhook_deliveries
from mpp_notify.store import retention as notify_retention
from mpp_shared import audit, paging
from mpp_shared.kept_counts import fold_all
from mpp_shared.messaging import inbox, outbox
from mpp_shared.settings import ServiceSettings
from tests.support.query_plans import Recorder, rows_read_and_dropped, seq_scans

NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
# Rows per big table: enough that the planner prefers an index on each.
APPLICATIONS = 100_000
ROWS = 50_000
# Seconds one filling statement may take on a busy machine.
FILL_TIMEOUT = 120
# The tables of every service that grow with the district's years.
SHARED_BIG = {"audit_log", "outbox", "inbox"}

# The outbox as its purge keeps it: the retention window (the purge runs on
# the database's clock, so the rows are placed on it too).

# --- filling ---------------------------------------------------------------

SHARED_FILL = [
    f"""
INSERT INTO audit_log (actor, roles, counter, action, target_type, target_id, detail, at, position)
SELECT 'officer-' || g % 40, '{{frontdesk}}', 'LOKET-' || g % 8, 'thing.done', 'thing',
       gen_random_uuid()::text, '{{}}', $1::timestamptz - g * interval '1 minute', g
FROM generate_series(1, {ROWS}) g
""",
    f"""
INSERT INTO outbox (event_id, topic, key, event_type, payload, created_at, published_at)
SELECT gen_random_uuid(), 'mpp.things', g::text, 'mpp.thing.done.v1', '\\x00',
       now() - g * interval '10 seconds',
       CASE WHEN g > 20 THEN now() - g * interval '10 seconds' END
FROM generate_series(1, {ROWS}) g
""",
    f"""
INSERT INTO inbox (consumer, event_id, event_type, topic, partition, "offset", outcome)
SELECT 'consumer-' || g % 3, gen_random_uuid(), 'mpp.thing.done.v1', 'mpp.things', g % 4, g,
       'handled'
FROM generate_series(1, {ROWS}) g
""",
]

INTAKE_FILL = [
    f"""
WITH svc AS (
    SELECT array_agg(code ORDER BY code) AS codes, array_agg(version ORDER BY code) AS versions
    FROM catalog_service_versions
)
INSERT INTO applications (
    id, tracking_code, service_code, catalog_version, channel, status, progress,
    nik_index, nik_masked, name_masked, submitted_by, pickup_point, active,
    domicile_region, created_at, updated_at)
SELECT gen_random_uuid(), 'MPP' || lpad(g::text, 9, '0'),
       svc.codes[1 + g % cardinality(svc.codes)], svc.versions[1 + g % cardinality(svc.codes)],
       (ARRAY['counter', 'online', 'outreach'])[1 + g % 3],
       (ARRAY['verified', 'verified', 'verified', 'rejected', 'submitted', 'returned',
              'incomplete'])[1 + g % 7],
       (ARRAY['picked_up', 'picked_up', 'picked_up', 'rejected', 'submitted', 'returned',
              'incomplete'])[1 + g % 7],
       sha256(('nik' || g)::bytea), '35**********0001', 'B*** S***', 'officer-' || g % 40,
       'MPP-0' || g % 4, g % 7 >= 4, '3506' || lpad((g % 26)::text, 2, '0'),
       $1::timestamptz - g * interval '5 minutes', $1::timestamptz - g * interval '5 minutes'
FROM generate_series(1, {APPLICATIONS}) g, svc
""",
    """
INSERT INTO application_timeline (application_id, step, at)
SELECT id, status, created_at FROM applications
""",
    f"""
INSERT INTO population_reports (
    id, kind, desa_code, occurred_on, kk_masked, nik_masked, name_masked, services,
    reported_by, reported_at, due_at, nik_index, followed_up_at)
SELECT gen_random_uuid(), (ARRAY['birth', 'death', 'move_in', 'move_out'])[1 + g % 4],
       '3506' || lpad((g % 400)::text, 6, '0'), ($1::timestamptz - g * interval '1 hour')::date,
       '35**', '35**', 'B***', '{{}}', 'desa-' || g % 400,
       $1::timestamptz - g * interval '1 hour', $1::timestamptz - g * interval '1 hour'
           + interval '30 days',
       sha256(('pop' || g)::bytea),
       CASE WHEN g > 100 THEN $1::timestamptz - g * interval '1 hour' + interval '1 day' END
FROM generate_series(1, {ROWS}) g
""",
]

# A district's years of jobs: nearly all picked up; the open ones are the
# last days' (0.2 %), as in a service whose documents are collected.
DOCUMENTS_FILL = [
    f"""
INSERT INTO jobs (id, application_id, tracking_code, service_code, state, pickup_point,
                  due_at, created_at, updated_at, ready_at, picked_up_at)
SELECT gen_random_uuid(), gen_random_uuid(), 'MPP' || lpad(g::text, 9, '0'),
       (ARRAY['KTP', 'KK', 'AKTA_LAHIR', 'KIA'])[1 + g % 4],
       CASE WHEN g <= 100 THEN (ARRAY['queued', 'in_production', 'ready_for_pickup',
                                      'on_hold'])[1 + g % 4]
            ELSE 'picked_up' END,
       'MPP-0' || g % 4, $1::timestamptz - g * interval '5 minutes' + interval '3 days',
       $1::timestamptz - g * interval '5 minutes', $1::timestamptz - g * interval '5 minutes',
       $1::timestamptz - g * interval '5 minutes' + interval '2 days',
       CASE WHEN g > 100 THEN $1::timestamptz - g * interval '5 minutes' + interval '3 days' END
FROM generate_series(1, {ROWS}) g
""",
    # One document in ten was never collected: years of them wait in the drawers.
    """
UPDATE jobs SET state = 'ready_for_pickup', picked_up_at = NULL,
                uncollected_at = ready_at + interval '14 days'
WHERE state = 'picked_up' AND tracking_code LIKE '%7'
""",
    """
INSERT INTO issued_documents (id, job_id, application_id, doc_type, office, year, seq, number,
                              verification_code, holder_masked, issued_at)
SELECT gen_random_uuid(), id, application_id, service_code, '3506', year, seq,
       '3506-' || service_code || '-' || year || '-' || lpad(seq::text, 6, '0'),
       upper(substr(md5(id::text), 1, 12)), 'B*** S***', created_at + interval '1 day'
FROM (SELECT *, extract(year FROM created_at)::int AS year,
             row_number() OVER (PARTITION BY service_code, extract(year FROM created_at)
                                ORDER BY created_at)::int AS seq
      FROM jobs) j
""",
    """
INSERT INTO register_counters (doc_type, office, year, last)
SELECT doc_type, office, year, max(seq) FROM issued_documents GROUP BY 1, 2, 3
""",
    """
INSERT INTO sla_clocks (id, subject_id, application_id, tracking_code, service_code, pickup_point,
                        started_at, due_at, warn_share, warn_at, warned_at, breached_at,
                        stopped_at, stop_reason)
SELECT gen_random_uuid(), id, application_id, tracking_code, service_code, pickup_point,
       created_at, due_at, 0.8, due_at - interval '12 hours',
       CASE WHEN state = 'picked_up' THEN due_at END, NULL,
       CASE WHEN state = 'picked_up' THEN picked_up_at END,
       CASE WHEN state = 'picked_up' THEN 'picked_up' END
FROM jobs
""",
    """
INSERT INTO pickup_timers (id, job_id, kind, seq, ready_at, fire_at, window_ends_at, closed_at,
                           close_reason)
SELECT gen_random_uuid(), id, 'reminder', 1, ready_at, ready_at + interval '3 days',
       ready_at + interval '30 days',
       CASE WHEN state = 'picked_up' THEN picked_up_at END,
       CASE WHEN state = 'picked_up' THEN 'picked_up' END
FROM jobs
""",
]

COMPLAINTS_FILL = [
    f"""
INSERT INTO complaints (id, complaint_code, category, description, channel, status, kind, opd,
                        step, step_due_at, created_at, updated_at, tracking_code)
SELECT gen_random_uuid(), 'ADU-' || lpad(g::text, 8, '0'),
       (SELECT code FROM complaint_categories ORDER BY code LIMIT 1), 'keluhan', 
       (ARRAY['web', 'whatsapp', 'counter'])[1 + g % 3],
       CASE WHEN g <= 1000 THEN (ARRAY['received', 'verified', 'assigned',
                                       'in_progress'])[1 + g % 4]
            ELSE (ARRAY['closed', 'closed', 'closed', 'rejected'])[1 + g % 4] END,
       (ARRAY['aspirasi', 'pengaduan', 'permintaan_informasi'])[1 + g % 3],
       'OPD-' || g % 12,
       CASE WHEN g <= 1000 THEN (ARRAY['verification', 'follow_up', 'follow_up',
                                       'information'])[1 + g % 4] END,
       CASE WHEN g <= 1000 THEN $1::timestamptz + (g - 300) * interval '1 hour' END,
       $1::timestamptz - g * interval '10 minutes', $1::timestamptz - g * interval '10 minutes',
       CASE WHEN g % 5 = 0 THEN 'MPP' || lpad(g::text, 9, '0') END
FROM generate_series(1, {ROWS}) g
""",
    """
INSERT INTO complaint_deadlines (id, complaint_id, step, started_at, due_at, fired_at,
                                 cancelled_at)
SELECT gen_random_uuid(), id, coalesce(step, 'verification'), created_at,
       coalesce(step_due_at, created_at + interval '3 days'),
       CASE WHEN step IS NULL THEN created_at + interval '3 days' END, NULL
FROM complaints
""",
]

NOTIFY_FILL = [
    f"""
INSERT INTO delivery_log (id, source_event_id, source_event_type, channel, provider,
                          recipient_index, recipient_masked, language, body, status,
                          application_id, complaint_id, tracking_code, created_at)
SELECT gen_random_uuid(), gen_random_uuid(), 'mpp.application.submitted.v1',
       (ARRAY['sms', 'whatsapp', 'email'])[1 + g % 3], 'fake', sha256(('to' || g % 20000)::bytea),
       '08**', 'id', 'Permohonan Anda diterima',
       CASE WHEN g <= 200 THEN 'queued' ELSE 'delivered' END,
       CASE WHEN g % 2 = 0 THEN gen_random_uuid() END,
       CASE WHEN g % 2 = 1 THEN gen_random_uuid() END,
       'MPP' || lpad((g / 3)::text, 9, '0'), $1::timestamptz - g * interval '1 minute'
FROM generate_series(1, {APPLICATIONS}) g
""",
    f"""
INSERT INTO event_journal (event_id, event_type, topic, subject, occurred_at, received_at,
                           envelope)
SELECT gen_random_uuid(), 'mpp.application.submitted.v1', 'mpp.applications', 'MPP' || g,
       $1::timestamptz - g * interval '1 minute', $1::timestamptz - g * interval '1 minute', '{{}}'
FROM generate_series(1, {ROWS}) g
""",
    """
INSERT INTO subscriptions (id, owner, url, event_types, secret_enc)
SELECT gen_random_uuid(), 'opd-' || g, 'https://opd.example/hook', '{mpp.application.submitted.v1}',
       '\\x00'
FROM generate_series(1, 5) g
""",
    """
INSERT INTO webhook_deliveries (id, subscription_id, event_id, event_type, status,
                                next_attempt_at, delivered_at, created_at, updated_at)
SELECT gen_random_uuid(), s.id, j.event_id, j.event_type,
       CASE WHEN j.occurred_at > $1::timestamptz - interval '30 minutes' THEN 'pending'
            ELSE 'delivered' END,
       j.occurred_at, j.occurred_at, j.occurred_at, j.occurred_at
FROM event_journal j
CROSS JOIN LATERAL (SELECT id FROM subscriptions ORDER BY id LIMIT 1) s
""",
]


async def fill(pool: asyncpg.Pool, statements: list[str]) -> None:
    async with pool.acquire() as conn:
        for sql in [*SHARED_FILL, *statements]:
            args = (NOW,) if "$1" in sql else ()
            await conn.execute(sql, *args, timeout=FILL_TIMEOUT)
        await conn.execute("VACUUM ANALYZE", timeout=FILL_TIMEOUT)


async def assert_indexed(
    pool: asyncpg.Pool,
    big_tables: set[str],
    hot_paths: dict[str, Callable[[Recorder], Awaitable[Any]]],
) -> None:
    """Run each hot path through a recorder, then plan every statement it ran."""
    async with pool.acquire() as conn:
        recorder = Recorder(conn)
        for name, run in hot_paths.items():
            before = len(recorder.statements)
            async with recorder.on(name):
                await run(recorder)
            assert len(recorder.statements) > before, f"{name} ran no statement"
        offences = await seq_scans(conn, recorder.statements, big_tables | SHARED_BIG)
    assert not offences, "sequential scans on hot paths:\n" + "\n".join(map(str, offences))


async def retention_due(db: Recorder, queries: list[str]) -> None:
    """The retention sweep's due queries of a service ($1 now, $2 batch)."""
    assert queries
    for sql in queries:
        await db.fetch(sql, NOW - timedelta(days=365), 500)


def intake_due_queries() -> list[str]:
    # `intake_retention.kinds` needs the settings and the cipher; its due
    # queries are the module's *_DUE statements.
    return [
        v for k, v in vars(intake_retention).items() if k.endswith("_DUE") and isinstance(v, str)
    ]


def shared_hot_paths() -> dict[str, Callable[[Recorder], Awaitable[Any]]]:
    relay_settings = cast(ServiceSettings, SimpleNamespace(outbox_batch_size=200))

    async def relay_fetch(db: Recorder) -> None:
        relay = outbox.OutboxRelay(
            pool=cast(asyncpg.Pool, db),
            producer=cast(Any, None),
            admin=cast(Any, None),
            settings=relay_settings,
            service="plans",
        )
        await relay.fetch_unpublished()

    async def audit_pages(db: Recorder) -> None:
        pool = cast(asyncpg.Pool, db)
        first = await audit.read_trail(pool, audit.AuditFilters(), page=1, page_size=50)
        assert first.next_cursor is not None
        await audit.read_trail(
            pool, audit.AuditFilters(), page=1, page_size=50, cursor=first.next_cursor
        )
        await audit.read_trail(pool, audit.AuditFilters(actor="officer-3"), page=1, page_size=50)
        await audit.read_trail(pool, audit.AuditFilters(counter="LOKET-3"), page=1, page_size=50)
        await audit.read_trail(
            pool, audit.AuditFilters(target_type="thing", target_id="x"), page=1, page_size=50
        )

    return {
        "outbox relay: fetch unpublished": relay_fetch,
        "outbox relay: purge published": lambda db: db.execute(outbox._PURGE, 7 * 24 * 3600),
        "outbox relay: forget handled inbox rows": lambda db: db.execute(
            inbox._PURGE_HANDLED, 14 * 24 * 3600, 5000
        ),
        "audit trail: first page, page by cursor, by actor, counter, target": audit_pages,
    }


# --- the services ------------------------------------------------------------


async def test_intake_hot_paths_use_indexes(intake_pool: asyncpg.Pool) -> None:
    await fill(intake_pool, INTAKE_FILL)
    async with intake_pool.acquire() as conn:
        deep = await conn.fetchrow(
            "SELECT created_at, id FROM applications ORDER BY created_at DESC, id DESC "
            "OFFSET 80000 LIMIT 1"
        )
        sample = await conn.fetchrow("SELECT id, tracking_code FROM applications LIMIT 1")
    assert deep is not None and sample is not None
    filters: dict[str, Any] = dict(
        status=None, channel=None, pickup_point=None, service_code=None, since=None, before=None
    )

    async def lists(db: Recorder) -> None:
        # 100 000 match: counted to one past the cap, not to the end.
        assert await applications.count(db, **filters) == paging.COUNT_CAP + 1
        await applications.count(db, **{**filters, "status": "submitted"})
        await applications.page(db, **filters, limit=20)
        await applications.page(db, **filters, limit=20, after=(deep["created_at"], deep["id"]))
        await applications.page(db, **{**filters, "status": "submitted"}, limit=20)
        await applications.page(
            db,
            **{**filters, "status": "submitted"},
            limit=20,
            after=(deep["created_at"], deep["id"]),
        )

    async def tracking(db: Recorder) -> None:
        await applications.for_tracking(db, sample["tracking_code"])
        await applications.timeline(db, sample["id"])

    hot_paths: dict[str, Callable[[Recorder], Awaitable[Any]]] = {
        "applications list: counts, first page, deep page by cursor, by status": lists,
        "tracking by code with timeline": tracking,
        "search by NIK blind index": lambda db: applications.by_nik(
            db, [hashlib_index("nik42")], 200
        ),
        "population deadlines: next due, claim due": lambda db: _both(
            db.fetchval(population.NEXT_DUE), population.claim_due(db, NOW, 100)
        ),
        "retention: due applications, papers, drafts, reports": lambda db: retention_due(
            db, intake_due_queries()
        ),
        **shared_hot_paths(),
    }
    big = {"applications", "application_timeline", "population_reports"}
    await assert_indexed(intake_pool, big, hot_paths)
    # The check can fail: a filter no index serves is caught, named and shown.
    async with intake_pool.acquire() as conn:
        recorder = Recorder(conn, path="unindexed filter")
        await recorder.fetch("SELECT id FROM applications WHERE name_masked = $1", "x")
        caught = await seq_scans(conn, recorder.statements, big)
    assert [(o.path, o.node["Relation Name"]) for o in caught] == [
        ("unindexed filter", "applications")
    ]
    assert "name_masked" in str(caught[0])


async def test_documents_hot_paths_use_indexes(documents_pool: asyncpg.Pool) -> None:
    await fill(documents_pool, DOCUMENTS_FILL)
    async with documents_pool.acquire() as conn:
        deep = await conn.fetchrow(
            "SELECT issued_at, id FROM issued_documents ORDER BY issued_at DESC, id DESC "
            "OFFSET 40000 LIMIT 1"
        )
    assert deep is not None
    everything = register_store.RegisterQuery()

    async def register(db: Recorder) -> None:
        conn = cast(asyncpg.Connection, db)
        # Exact, from the counters.
        assert await register_store.count(conn, everything) == (ROWS, False)
        assert await register_store.count(conn, register_store.RegisterQuery(doc_type="KTP")) == (
            ROWS // 4,
            False,
        )
        await register_store.count(
            conn, register_store.RegisterQuery(doc_type="KTP", pickup_point="MPP-01")
        )
        await register_store.search(conn, everything, limit=50)
        await register_store.search(
            conn, everything, limit=50, after=(deep["issued_at"], deep["id"])
        )
        await register_store.search(
            conn, register_store.RegisterQuery(number_prefix="3506-KTP-"), limit=50
        )

    async def reports(db: Recorder) -> None:
        for period in (
            Period(first_day=date(2026, 5, 1), end_day=date(2026, 6, 1)),
            Period(first_day=date(2025, 6, 1), end_day=date(2026, 6, 1)),
        ):
            for group_by in DocumentGroupBy:
                await document_reports.sla_groups(db, period=period, as_of=NOW, group_by=group_by)
        await document_reports.backlog_groups(db, as_of=NOW, pickup_point=None, service_code=None)
        await document_reports.backlog_groups(
            db, as_of=NOW, pickup_point="MPP-01", service_code="KTP"
        )

    async def fold(db: Recorder) -> None:
        # The fill's counts are folded as the service folds them; the deltas
        # left between folds are few, so they are not a big table here.
        await fold_all(cast(asyncpg.Connection, db), report_counts.compact)

    hot_paths: dict[str, Callable[[Recorder], Awaitable[Any]]] = {
        "register search: count, first page, deep page by cursor, by prefix": register,
        "SLA clocks: next due, claim due": lambda db: _both(
            db.fetchval(sla_clocks.NEXT_DUE), sla_clocks.claim_due(db, NOW, 100)
        ),
        "pickup reminders: next due, claim jobs": lambda db: _both(
            db.fetchval(pickup_timers.NEXT_DUE), pickup_timers.claim_jobs(db, NOW, 100)
        ),
        "report counts: fold": fold,
        "reports: SLA for a month and a year by every grouping, backlog": reports,
        "retention: due jobs and register entries": lambda db: retention_due(
            db, [k.due for k in document_retention.kinds(365)]
        ),
        **shared_hot_paths(),
    }
    await assert_indexed(
        documents_pool,
        {"jobs", "issued_documents", "sla_clocks", "pickup_timers"},
        hot_paths,
    )


async def test_complaints_hot_paths_use_indexes(complaints_pool: asyncpg.Pool) -> None:
    await fill(complaints_pool, COMPLAINTS_FILL)
    async with complaints_pool.acquire() as conn:
        deep = await conn.fetchrow(
            "SELECT created_at, id FROM complaints ORDER BY created_at DESC, id DESC "
            "OFFSET 40000 LIMIT 1"
        )
        late = await conn.fetchrow(
            "SELECT step_due_at, created_at, id FROM complaints WHERE step_due_at > $1 "
            "ORDER BY step_due_at LIMIT 1 OFFSET 300",
            NOW,
        )
    assert deep is not None and late is not None
    everything = QueueFilter()

    async def queue(db: Recorder) -> None:
        conn = cast(asyncpg.Connection, db)
        for sort in Sort:
            await complaint_queue.page(conn, everything, now=NOW, sort=sort, limit=20)
        # A deep page by cursor in each order; overdue-first past the overdue
        # complaints, and past the complaints with a deadline.
        for sort, after in (
            (Sort.NEWEST, (deep["created_at"], deep["id"])),
            (Sort.OLDEST, (deep["created_at"], deep["id"])),
            (Sort.OVERDUE_FIRST, (False, late["step_due_at"], late["created_at"], late["id"])),
            (Sort.OVERDUE_FIRST, (False, None, deep["created_at"], deep["id"])),
        ):
            await complaint_queue.page(conn, everything, now=NOW, sort=sort, limit=20, after=after)
        await complaint_queue.page(
            conn,
            QueueFilter(statuses=("received",)),
            now=NOW,
            sort=Sort.OVERDUE_FIRST,
            limit=20,
        )
        # The counts per status on every page: kept counts, and the overdue.
        for wanted in (
            everything,
            QueueFilter(opd="OPD-3", overdue=True),
            QueueFilter(kind="pengaduan", overdue=False),
        ):
            await complaint_queue.counts(conn, wanted, now=NOW)

    async def reports(db: Recorder) -> None:
        await complaint_reports.counts(
            cast(asyncpg.Connection, db),
            start=NOW - timedelta(days=30),
            end=NOW,
            as_of=NOW,
            group_by=ComplaintGroupBy.CATEGORY,
        )

    hot_paths: dict[str, Callable[[Recorder], Awaitable[Any]]] = {
        "work queue: every sort, deep pages by cursor, by status, counts": queue,
        "deadlines: next due, claim due, claim unscheduled": lambda db: _both(
            db.fetchval(complaint_deadlines.NEXT_DUE),
            complaint_deadlines.claim_due(db, NOW, 100),
            complaint_deadlines.claim_unscheduled(db, 100),
        ),
        "reports: a month by category": reports,
        "retention: due complaints": lambda db: retention_due(
            db, [k.due for k in complaint_retention.kinds(365)]
        ),
        **shared_hot_paths(),
    }
    await assert_indexed(complaints_pool, {"complaints", "complaint_deadlines"}, hot_paths)

    # A deep page by cursor, overdue first, past 300 complaints with a
    # deadline, starts at its cursor: it does not read those 300 and drop them.
    async with complaints_pool.acquire() as conn:
        recorder = Recorder(conn, "deep page by cursor")
        after = (False, late["step_due_at"], late["created_at"], late["id"])
        rows = await complaint_queue.page(
            cast(asyncpg.Connection, recorder),
            everything,
            now=NOW,
            sort=Sort.OVERDUE_FIRST,
            limit=20,
            after=after,
        )
        assert len(rows) == 20 and rows[0]["step_due_at"] >= late["step_due_at"]
        dropped = await rows_read_and_dropped(conn, recorder.statements[-1])
        assert dropped <= 20, (dropped, recorder.statements[-1].sql)
        # A page by offset reads the overdue from their own small index, not
        # the whole queue's index once fewer are overdue than the page reaches
        # (50,000 rows dropped that way here; now only the overdue the other
        # part passes over, about 300).
        await complaint_queue.page(
            cast(asyncpg.Connection, recorder),
            everything,
            now=NOW,
            sort=Sort.OVERDUE_FIRST,
            limit=20,
            offset=400,
        )
        dropped = await rows_read_and_dropped(conn, recorder.statements[-1])
        assert dropped <= 500, (dropped, recorder.statements[-1].sql)


async def test_notify_hot_paths_use_indexes(notify_pool: asyncpg.Pool) -> None:
    await fill(notify_pool, NOTIFY_FILL)
    async with notify_pool.acquire() as conn:
        deep = await conn.fetchrow(
            "SELECT created_at, id FROM delivery_log ORDER BY created_at, id OFFSET 80000 LIMIT 1"
        )
        sample = await conn.fetchrow(
            "SELECT application_id, tracking_code FROM delivery_log "
            "WHERE application_id IS NOT NULL LIMIT 1"
        )
        subscription = await conn.fetchval("SELECT id FROM subscriptions LIMIT 1")
    assert deep is not None and sample is not None
    nothing: dict[str, Any] = dict(
        application_id=None, complaint_id=None, tracking_code=None, status=None, channel=None
    )

    async def log(db: Recorder) -> None:
        conn = cast(asyncpg.Connection, db)
        await delivery_log.find_page(conn, **nothing, limit=100)
        await delivery_log.find_page(
            conn, **nothing, limit=100, after=(deep["created_at"], deep["id"])
        )
        await delivery_log.find_page(
            conn, **{**nothing, "application_id": sample["application_id"]}, limit=100
        )
        await delivery_log.find_page(
            conn, **{**nothing, "tracking_code": sample["tracking_code"]}, limit=100
        )
        await delivery_log.find_page(conn, **{**nothing, "status": "queued"}, limit=100)

    hot_paths: dict[str, Callable[[Recorder], Awaitable[Any]]] = {
        "delivery log: first page, deep page by cursor, by application, code, status": log,
        "search by recipient blind index": lambda db: delivery_log.find_to_recipient(
            cast(asyncpg.Connection, db), [hashlib_index("to42")], 100
        ),
        "webhook deliveries of a subscription": lambda db: webhook_deliveries.find_page(
            cast(asyncpg.Connection, db), subscription, None, 100
        ),
        "retention: due messages, contacts, conversations, journal": lambda db: retention_due(
            db,
            [
                k.due
                for k in notify_retention.kinds(
                    messages_days=365, contacts_days=365, whatsapp_days=365, journal_days=30
                )
            ],
        ),
        **shared_hot_paths(),
    }
    await assert_indexed(
        notify_pool, {"delivery_log", "event_journal", "webhook_deliveries"}, hot_paths
    )


async def _both(*steps: Awaitable[Any]) -> None:
    """The steps one after the other (a scheduler's tick asks in this order)."""
    for step in steps:
        await step


def hashlib_index(value: str) -> bytes:
    """A blind index as the fill computes it (sha256 of the value)."""
    return hashlib.sha256(value.encode()).digest()
