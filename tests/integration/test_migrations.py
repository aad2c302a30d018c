"""Each service's migrations produce the schema its code expects, once, even
when several instances start at the same moment."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from mpp_shared import migrate

ROOT = Path(__file__).resolve().parents[2]
EXPECTED_TABLES = {
    "intake": {
        "applications",
        "application_timeline",
        "catalog_services",
        "catalog_service_versions",
        "pickup_points",
        "outreach_lists",
        "outreach_entries",
        # Citizen sign-in with a one-time code.
        "citizen_signin_codes",
        "citizen_sessions",
        "citizen_rate_events",
        # Uploaded papers (UPLOAD_STORAGE=postgres), ciphertext only.
        "upload_blobs",
        # Online applications: drafts and the uploaded papers' descriptions.
        "online_drafts",
        "application_files",
        # A resident's requests about their data (no personal data in it).
        "personal_data_requests",
        # The village's reports of births, deaths and moves; the kecamatan's
        # monthly figures sent up to the regency.
        "population_reports",
        "population_period_reports",
    },
    "documents": {
        "jobs",
        "job_history",
        "sla_clocks",
        "pickup_timers",
        "issued_documents",
        "sla_daily",
        "uncollected_counts",
        "report_count_deltas",
        "register_counters",
    },
    "complaints": {
        "complaints",
        "known_requests",
        "request_facts_waiting",
        "complaint_categories",
        "complaint_deadlines",
        "published_answers",
        # The work queue's counts per status, kept (013).
        "complaint_queue_counts",
        "complaint_queue_deltas",
    },
    "notify": {
        "recipients",
        "delivery_log",
        "delivery_attempts",
        "message_templates",
        "event_journal",
        "subscriptions",
        "webhook_deliveries",
        # The WhatsApp assistant and the providers' status reports.
        "wa_conversations",
        "wa_inbound_messages",
        "provider_status_reports",
    },
}
PLUMBING = {"outbox", "inbox", "idempotency_keys", "audit_log", "schema_migrations"}
PLUMBING |= {"audit_checkpoint"}  # the audit chain's signed checkpoints (004)
# Rate limits every replica of a service shares (mpp_shared.ratelimit).
PLUMBING |= {"rate_limit_buckets", "rate_limit_secret"}
# What each retention run erased, per data kind (mpp_shared.retention).
PLUMBING |= {"retention_runs"}


@pytest.mark.parametrize("service", sorted(EXPECTED_TABLES))
async def test_concurrent_start_ups_apply_each_migration_once(database: str, service: str) -> None:
    sources = {
        "shared": migrate.SHARED_MIGRATIONS,
        service: ROOT / "services" / service / f"mpp_{service}" / "migrations",
    }
    conns = [await asyncpg.connect(database) for _ in range(3)]
    try:
        applied = await asyncio.gather(*[migrate.apply_migrations(c, sources) for c in conns])
        total = sum(len(a) for a in applied)
        expected = len(migrate.discover("shared", sources["shared"])) + len(
            migrate.discover(service, sources[service])
        )
        assert total == expected  # all applied, by exactly one of the three
        assert await migrate.pending(conns[0], sources) == []
        tables = {
            r["tablename"]
            for r in await conns[0].fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
        }
        assert tables == PLUMBING | EXPECTED_TABLES[service]
    finally:
        for c in conns:
            await c.close()


async def test_audit_trail_is_append_only(database: str) -> None:
    conn = await asyncpg.connect(database)
    try:
        await migrate.apply_migrations(conn, {"shared": migrate.SHARED_MIGRATIONS})
        await conn.execute(
            "INSERT INTO audit_log (actor, roles, action, target_type, target_id) "
            "VALUES ('v1', '{verifier}', 'application.verified', 'application', 'x')"
        )
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute("UPDATE audit_log SET actor = 'someone-else'")
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute("DELETE FROM audit_log")
        assert await conn.fetchval("SELECT actor FROM audit_log") == "v1"
    finally:
        await conn.close()


async def test_a_long_migration_is_not_cut_by_the_pools_command_timeout(
    database: str, tmp_path: Path
) -> None:
    """On a district's years of data a migration takes minutes; the pool's
    command timeout (meant for requests) must not end it, or the service
    cannot start."""
    from mpp_shared.db import create_pool

    (tmp_path / "001_slow.sql").write_text(
        "SELECT pg_sleep(1.5); CREATE TABLE built_slowly (id int);"
    )
    pool = await create_pool(database, min_size=1, max_size=1, command_timeout=0.5)
    try:
        async with pool.acquire() as conn:
            await migrate.apply_migrations(conn, {"slow": tmp_path})
            assert await conn.fetchval("SELECT to_regclass('built_slowly') IS NOT NULL")
    finally:
        await pool.close()
