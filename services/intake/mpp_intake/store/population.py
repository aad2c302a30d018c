"""SQL of the village's reports of births, deaths and moves, the outreach
entries made from them, their follow-up deadline, the kecamatan's figures and
the period reports sent up to the regency."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg

INSERT_REPORT = """
INSERT INTO population_reports (
    id, kind, desa_code, occurred_on, kk_enc, kk_masked,
    subject_name_enc, subject_name_masked, subject_nik_enc, subject_nik_index, subject_nik_masked,
    nik_enc, nik_index, nik_masked, name_enc, name_masked, phone_enc, phone_masked,
    papers_held, note, services, reported_by, counter, reported_at, due_at,
    traceparent, tracestate
)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
        $19, $20, $21, $22, $23, $24, $25, $26, $27)
"""
# One entry per service the report needs, each carrying the applicant; never
# skipped (the list upload's one-workable-entry rule is for lists only).
INSERT_ENTRIES = """
INSERT INTO outreach_entries (
    id, report_id, desa_code, nik_enc, nik_index, nik_masked, name_enc, name_masked,
    phone_enc, phone_masked, service_code, papers_held, created_at, updated_at
)
SELECT u.id, r.id, r.desa_code, r.nik_enc, r.nik_index, r.nik_masked, r.name_enc,
       r.name_masked, r.phone_enc, r.phone_masked, u.service_code, r.papers_held, $2, $2
FROM population_reports r,
     unnest($3::uuid[], $4::text[]) WITH ORDINALITY AS u(id, service_code, n)
WHERE r.id = $1
ORDER BY u.n
"""
REPORT = "SELECT * FROM population_reports WHERE id = $1"
# Status-like filters: $5 not followed up, $6 overdue (not followed up, due
# before $8), $7 escalated; $9/$10 the dates it happened.
REPORT_PAGE = """
SELECT count(*) OVER () AS total, r.*,
    (SELECT array_agg(e.id ORDER BY array_position(r.services, e.service_code), e.id)
     FROM outreach_entries e
     WHERE e.report_id = r.id) AS entry_ids
FROM population_reports r
WHERE ($1::text IS NULL OR r.kind = $1)
  AND ($2::text IS NULL OR r.desa_code = $2)
  AND ($3::text IS NULL OR r.kecamatan_code = $3)
  AND ($4::text IS NULL OR r.desa_code = $4)
  AND (NOT $5::bool OR r.followed_up_at IS NULL)
  AND (NOT $6::bool OR (r.followed_up_at IS NULL AND r.due_at <= $8))
  AND (NOT $7::bool OR r.escalated_at IS NOT NULL)
  AND ($9::date IS NULL OR r.occurred_on >= $9)
  AND ($10::date IS NULL OR r.occurred_on <= $10)
ORDER BY r.reported_at DESC, r.id
LIMIT $11 OFFSET $12
"""
MARK_FOLLOWED_UP = """
UPDATE population_reports SET followed_up_at = $2 WHERE id = $1 AND followed_up_at IS NULL
"""
# Figures per desa and kind of the reports of what happened from $2 to $3;
# overdue: not followed up by the due moment (late, or still waiting at $4).
FIGURES = """
SELECT r.desa_code, r.kind,
    count(*) AS reported,
    count(r.followed_up_at) AS followed_up,
    count(*) FILTER (WHERE EXISTS (SELECT 1 FROM outreach_entries e
                                   WHERE e.report_id = r.id AND e.status = 'applied')) AS applied,
    count(*) FILTER (WHERE coalesce(r.followed_up_at, $4) > r.due_at) AS overdue,
    count(r.escalated_at) AS escalated
FROM population_reports r
WHERE ($1::text IS NULL OR r.kecamatan_code = $1)
  AND ($5::text IS NULL OR r.desa_code = $5)
  AND ($2::date IS NULL OR r.occurred_on >= $2)
  AND ($3::date IS NULL OR r.occurred_on <= $3)
GROUP BY r.desa_code, r.kind
ORDER BY r.desa_code, r.kind
"""
NEXT_DUE = """
SELECT min(due_at) FROM population_reports WHERE followed_up_at IS NULL AND escalated_at IS NULL
"""
CLAIM_DUE = """
SELECT id, kind, desa_code, kecamatan_code, due_at, traceparent, tracestate
FROM population_reports
WHERE followed_up_at IS NULL AND escalated_at IS NULL AND due_at <= $1
ORDER BY due_at, id
LIMIT $2
FOR UPDATE SKIP LOCKED
"""
MARK_ESCALATED = "UPDATE population_reports SET escalated_at = $2 WHERE id = ANY($1::uuid[])"
INSERT_PERIOD_REPORT = """
INSERT INTO population_period_reports (id, kecamatan_code, period, figures, sent_by, counter,
    sent_at)
VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7)
ON CONFLICT (kecamatan_code, period) DO NOTHING
RETURNING *
"""
PERIOD_REPORT_PAGE = """
SELECT count(*) OVER () AS total, * FROM population_period_reports
WHERE ($1::text IS NULL OR kecamatan_code = $1) AND ($2::text IS NULL OR period = $2)
ORDER BY sent_at DESC, id LIMIT $3 OFFSET $4
"""
KECAMATAN_OF_POINT = """
SELECT region_code FROM pickup_points WHERE code = $1 AND kind = 'kecamatan'
"""


@dataclass(frozen=True)
class NewReport:
    """A report's columns, personal data already encrypted and masked."""

    id: uuid.UUID
    kind: str
    desa_code: str
    occurred_on: date
    kk_enc: bytes
    kk_masked: str
    subject_name_enc: bytes | None
    subject_name_masked: str | None
    subject_nik_enc: bytes | None
    subject_nik_index: bytes | None
    subject_nik_masked: str | None
    nik_enc: bytes
    nik_index: bytes
    nik_masked: str
    name_enc: bytes
    name_masked: str
    phone_enc: bytes | None
    phone_masked: str | None
    papers_held: list[str]
    note: str | None
    services: list[str]
    reported_by: str
    counter: str | None
    reported_at: datetime
    due_at: datetime
    traceparent: str | None
    tracestate: str | None


@dataclass(frozen=True)
class ReportFilters:
    """Which reports a list shows; None / False leaves a filter out."""

    kind: str | None = None
    desa_code: str | None = None
    kecamatan_code: str | None = None
    not_followed_up: bool = False
    overdue: bool = False
    escalated: bool = False
    occurred_from: date | None = None
    occurred_to: date | None = None


async def insert_report(conn: asyncpg.Connection, report: NewReport) -> None:
    await conn.execute(
        INSERT_REPORT,
        report.id,
        report.kind,
        report.desa_code,
        report.occurred_on,
        report.kk_enc,
        report.kk_masked,
        report.subject_name_enc,
        report.subject_name_masked,
        report.subject_nik_enc,
        report.subject_nik_index,
        report.subject_nik_masked,
        report.nik_enc,
        report.nik_index,
        report.nik_masked,
        report.name_enc,
        report.name_masked,
        report.phone_enc,
        report.phone_masked,
        report.papers_held,
        report.note,
        report.services,
        report.reported_by,
        report.counter,
        report.reported_at,
        report.due_at,
        report.traceparent,
        report.tracestate,
    )


async def insert_entries(
    conn: asyncpg.Connection,
    report_id: uuid.UUID,
    at: datetime,
    entry_ids: list[uuid.UUID],
    services: list[str],
) -> None:
    """The report's outreach entries, one per service, in the given order."""
    await conn.execute(INSERT_ENTRIES, report_id, at, entry_ids, services)


async def fetch_report(
    conn: asyncpg.Connection | asyncpg.Pool, report_id: uuid.UUID
) -> asyncpg.Record | None:
    return await conn.fetchrow(REPORT, report_id)


async def report_page(
    conn: asyncpg.Connection | asyncpg.Pool,
    filters: ReportFilters,
    *,
    scope_desa: str | None,
    now: datetime,
    limit: int,
    offset: int,
) -> list[asyncpg.Record]:
    """Newest first; each row carries the `total` matching and its `entry_ids`."""
    return list(
        await conn.fetch(
            REPORT_PAGE,
            filters.kind,
            filters.desa_code,
            filters.kecamatan_code,
            scope_desa,
            filters.not_followed_up,
            filters.overdue,
            filters.escalated,
            now,
            filters.occurred_from,
            filters.occurred_to,
            limit,
            offset,
        )
    )


async def mark_followed_up(conn: asyncpg.Connection, report_id: uuid.UUID, at: datetime) -> None:
    """The first follow-up of any of the report's entries stops its deadline."""
    await conn.execute(MARK_FOLLOWED_UP, report_id, at)


async def figures(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    kecamatan_code: str | None,
    desa_code: str | None,
    occurred_from: date | None,
    occurred_to: date | None,
    now: datetime,
) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(FIGURES, kecamatan_code, occurred_from, occurred_to, now, desa_code)
    )


async def claim_due(conn: asyncpg.Connection, now: datetime, limit: int) -> list[asyncpg.Record]:
    """Reports past their follow-up deadline, not followed up nor escalated,
    locked (those held elsewhere skipped)."""
    return list(await conn.fetch(CLAIM_DUE, now, limit))


async def mark_escalated(
    conn: asyncpg.Connection, report_ids: list[uuid.UUID], at: datetime
) -> None:
    await conn.execute(MARK_ESCALATED, report_ids, at)


async def insert_period_report(
    conn: asyncpg.Connection,
    *,
    report_id: uuid.UUID,
    kecamatan_code: str,
    period: str,
    figures: list[dict[str, Any]],
    sent_by: str,
    counter: str | None,
    sent_at: datetime,
) -> asyncpg.Record | None:
    """The stored report; None when the kecamatan already sent that period."""
    row: asyncpg.Record | None = await conn.fetchrow(
        INSERT_PERIOD_REPORT,
        report_id,
        kecamatan_code,
        period,
        figures,
        sent_by,
        counter,
        sent_at,
    )
    return row


async def period_report_page(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    kecamatan_code: str | None,
    period: str | None,
    limit: int,
    offset: int,
) -> list[asyncpg.Record]:
    return list(await conn.fetch(PERIOD_REPORT_PAGE, kecamatan_code, period, limit, offset))


async def kecamatan_of_point(conn: asyncpg.Connection | asyncpg.Pool, point: str) -> str | None:
    """The kecamatan (6-digit region code) of a kecamatan pickup point."""
    found: str | None = await conn.fetchval(KECAMATAN_OF_POINT, point)
    return found
