"""What intake erases when a retention period has passed (mpp_shared.retention).

- `applications`, `RETENTION_APPLICATIONS_DAYS` after the application ended:
  rejected, or its document picked up, cancelled or left uncollected (the
  time of that step on its timeline). The NIK, name and contacts (encrypted
  and as blind index), the masks and the decision's free-text reason go; the
  application is no longer active (the resident may apply again). Kept:
  ids, tracking code, service, states, timeline, papers' metadata, dates and
  counts. A submitted draft loses its blind indexes with it. Audit entries
  of the application that name the person (the tracking code of a printed
  receipt, a verifier's notes on the papers) have their detail emptied.
- `uploaded_papers`, `UPLOAD_RETENTION_DAYS` after the pickup: the bytes are
  deleted from the file storage, the row (requirement, type, size, SHA-256)
  stays with `deleted_at` (as the upload retention scheduler does).
- `online_drafts`, `RETENTION_DRAFTS_DAYS` after the last change of a draft
  never submitted: deleted with its papers (nothing any report reads).
- `citizen_sessions`, `signin_codes`, `RETENTION_CITIZEN_SESSIONS_DAYS` after
  they expired: deleted (the audit trail names them by id only).
- `outreach_entries`, `RETENTION_OUTREACH_DAYS` after the entry was closed
  (applied, refused, moved): NIK, name, phone, address and the follow-ups'
  notes go; the entry keeps its desa, service, status, dates and the
  application it became. The `outreach.apply` audit detail (tracking code)
  is emptied.
- `population_reports`, `RETENTION_POPULATION_DAYS` after the report was
  closed (followed up: a visit recorded or an entry applied for): the KK
  number, the applicant's and the concerned person's NIK, name and phone,
  and the note go; the report keeps its kind, desa, dates, services, papers'
  codes, deadline and escalation (what the kecamatan's figures count). Its
  outreach entries follow their own period above.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from mpp_intake.settings import IntakeSettings
from mpp_intake.store import application_files
from mpp_intake.store.file_storage import file_storage
from mpp_shared.pii import FieldCipher
from mpp_shared.retention import ERASED, EraseFn, Holding, Kind, detail_sets

APPLICATIONS = "applications"
UPLOADED_PAPERS = "uploaded_papers"
DRAFTS = "online_drafts"
SESSIONS = "citizen_sessions"
CODES = "signin_codes"
OUTREACH = "outreach_entries"
POPULATION = "population_reports"

FINAL_STEPS = ("rejected", "picked_up", "cancelled", "uncollected")
_FINAL = "(a.status = 'rejected' OR a.progress IN ('picked_up', 'cancelled', 'uncollected'))"
# When an application ended: the last of its final steps (`ended_at`, kept
# from the timeline by a trigger, migration 014), else its last change.
_ENDED = "coalesce(a.ended_at, a.updated_at)"
APPLICATIONS_DUE = f"""
SELECT a.id::text AS id FROM applications a
WHERE a.personal_data_erased_at IS NULL AND {_FINAL} AND {_ENDED} <= $1
ORDER BY {_ENDED}, a.id LIMIT $2 FOR UPDATE OF a SKIP LOCKED
"""
APPLICATIONS_ERASE = f"""
WITH erased AS (
    UPDATE applications SET nik_enc = NULL, nik_index = NULL, nik_masked = '{ERASED}',
        name_enc = NULL, name_masked = '{ERASED}', phone_enc = NULL, email_enc = NULL,
        decision_reason = NULL, active = false, personal_data_erased_at = $2
    WHERE id = ANY($1::text[]::uuid[]) AND personal_data_erased_at IS NULL
    RETURNING id
), drafts AS (
    UPDATE online_drafts d SET nik_index = NULL, phone_index = NULL
    FROM erased e WHERE d.application_id = e.id
)
SELECT id::text AS id FROM erased
"""
ENDED_OF = f"SELECT a.id, {_ENDED} AS ended FROM applications a WHERE a.id = ANY($1::uuid[])"
APPLICATION_AUDIT = (
    detail_sets("tracking_code") + " OR jsonb_path_exists(detail, '$.checks[*] ? (@.note != null)')"
)

PAPERS_DUE = """
SELECT id::text AS id FROM application_files
WHERE retention_from <= $1 AND deleted_at IS NULL
ORDER BY retention_from LIMIT $2 FOR UPDATE SKIP LOCKED
"""
_PAPERS_KEYS = """
SELECT id, storage_key FROM application_files
WHERE id = ANY($1::text[]::uuid[]) AND deleted_at IS NULL
"""

DRAFTS_DUE = """
SELECT id::text AS id FROM online_drafts
WHERE application_id IS NULL AND updated_at <= $1
ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED
"""
_DRAFT_FILES = """
DELETE FROM application_files
WHERE draft_id = ANY($1::text[]::uuid[]) AND application_id IS NULL RETURNING storage_key
"""
_DRAFTS_DELETE = """
DELETE FROM online_drafts WHERE id = ANY($1::text[]::uuid[]) AND application_id IS NULL
RETURNING id
"""

SESSIONS_DUE = """
SELECT id::text AS id FROM citizen_sessions WHERE expires_at <= $1
ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED
"""
SESSIONS_ERASE = """
DELETE FROM citizen_sessions WHERE id = ANY($1::text[]::uuid[]) AND expires_at <= $2
RETURNING id::text AS id
"""
CODES_DUE = """
SELECT c.id::text AS id FROM citizen_signin_codes c
WHERE c.expires_at <= $1 AND NOT EXISTS (SELECT 1 FROM citizen_sessions s WHERE s.code_id = c.id)
ORDER BY c.expires_at LIMIT $2 FOR UPDATE OF c SKIP LOCKED
"""
CODES_ERASE = """
DELETE FROM citizen_signin_codes c
WHERE c.id = ANY($1::text[]::uuid[]) AND c.expires_at <= $2
  AND NOT EXISTS (SELECT 1 FROM citizen_sessions s WHERE s.code_id = c.id)
RETURNING c.id::text AS id
"""

OUTREACH_DUE = """
SELECT id::text AS id FROM outreach_entries
WHERE personal_data_erased_at IS NULL AND status IN ('applied', 'refused', 'moved')
  AND updated_at <= $1
ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED
"""
OUTREACH_ERASE = f"""
UPDATE outreach_entries SET nik_enc = NULL, nik_index = NULL, nik_masked = '{ERASED}',
    name_enc = NULL, name_masked = '{ERASED}', phone_enc = NULL, phone_masked = NULL,
    address = NULL,
    follow_ups = coalesce((SELECT jsonb_agg(f - 'note') FROM jsonb_array_elements(follow_ups) f),
                          '[]'::jsonb),
    personal_data_erased_at = $2
WHERE id = ANY($1::text[]::uuid[]) AND personal_data_erased_at IS NULL
RETURNING id::text AS id
"""

POPULATION_DUE = """
SELECT id::text AS id FROM population_reports
WHERE personal_data_erased_at IS NULL AND followed_up_at IS NOT NULL AND followed_up_at <= $1
ORDER BY followed_up_at LIMIT $2 FOR UPDATE SKIP LOCKED
"""
POPULATION_ERASE = f"""
UPDATE population_reports SET kk_enc = NULL, kk_masked = '{ERASED}',
    subject_name_enc = NULL, subject_name_masked = NULL,
    subject_nik_enc = NULL, subject_nik_index = NULL, subject_nik_masked = NULL,
    nik_enc = NULL, nik_index = NULL, nik_masked = '{ERASED}',
    name_enc = NULL, name_masked = '{ERASED}', phone_enc = NULL, phone_masked = NULL,
    note = NULL, personal_data_erased_at = $2
WHERE id = ANY($1::text[]::uuid[]) AND personal_data_erased_at IS NULL
RETURNING id::text AS id
"""


def _papers_eraser(settings: IntakeSettings, cipher: FieldCipher) -> EraseFn:
    async def erase(conn: asyncpg.Connection, ids: list[str], now: datetime) -> int:
        rows = await conn.fetch(_PAPERS_KEYS, ids)
        storage = file_storage(settings, conn, cipher)
        for row in rows:
            await storage.delete(row["storage_key"])
        await application_files.mark_deleted(conn, [r["id"] for r in rows], now)
        return len(rows)

    return erase


def _drafts_eraser(settings: IntakeSettings, cipher: FieldCipher) -> EraseFn:
    async def erase(conn: asyncpg.Connection, ids: list[str], now: datetime) -> int:
        storage = file_storage(settings, conn, cipher)
        for row in await conn.fetch(_DRAFT_FILES, ids):
            await storage.delete(row["storage_key"])
        return len(await conn.fetch(_DRAFTS_DELETE, ids))

    return erase


def kinds(settings: IntakeSettings, cipher: FieldCipher) -> list[Kind]:
    days = timedelta(days=1)
    return [
        Kind(
            APPLICATIONS,
            settings.retention_applications_days * days,
            APPLICATIONS_DUE,
            APPLICATIONS_ERASE,
            audit_target="application",
            audit_where=APPLICATION_AUDIT,
        ),
        Kind(
            UPLOADED_PAPERS,
            settings.upload_retention_days * days,
            PAPERS_DUE,
            _papers_eraser(settings, cipher),
        ),
        Kind(
            DRAFTS,
            settings.retention_drafts_days * days,
            DRAFTS_DUE,
            _drafts_eraser(settings, cipher),
        ),
        Kind(
            SESSIONS, settings.retention_citizen_sessions_days * days, SESSIONS_DUE, SESSIONS_ERASE
        ),
        Kind(CODES, settings.retention_citizen_sessions_days * days, CODES_DUE, CODES_ERASE),
        Kind(
            OUTREACH,
            settings.retention_outreach_days * days,
            OUTREACH_DUE,
            OUTREACH_ERASE,
            audit_target="outreach_entry",
            audit_where=detail_sets("tracking_code"),
        ),
        Kind(
            POPULATION,
            settings.retention_population_days * days,
            POPULATION_DUE,
            POPULATION_ERASE,
        ),
    ]


async def holdings(
    conn: asyncpg.Connection, found: dict[str, list[asyncpg.Record]]
) -> list[Holding]:
    """A resident's records at intake (as `store.personal_data.found_by_nik`
    finds them), each with when its retention period started, for an erasure
    on request."""
    applications = found.get("application", [])
    ended = {
        r["id"]: r["ended"] for r in await conn.fetch(ENDED_OF, [a["id"] for a in applications])
    }
    result: list[Holding] = []
    for a in applications:
        final = a["status"] == "rejected" or a["progress"] in (
            "picked_up",
            "cancelled",
            "uncollected",
        )
        result.append(
            Holding(
                APPLICATIONS,
                str(a["id"]),
                ended[a["id"]] if final else None,
                ("permohonan masih berjalan", "the application is still in progress"),
                erased=a["personal_data_erased_at"] is not None,
            )
        )
    for f in found.get("uploaded_paper", []):
        if f["application_id"] is None:
            continue  # a draft's paper goes with its draft
        result.append(
            Holding(
                UPLOADED_PAPERS,
                str(f["id"]),
                f["retention_from"],
                ("dokumen belum diambil", "the document has not been picked up yet"),
                erased=f["deleted_at"] is not None,
            )
        )
    for d in found.get("online_draft", []):
        if d["application_id"] is None:
            result.append(Holding(DRAFTS, str(d["id"]), d["updated_at"]))
    for s in found.get("citizen_session", []):
        result.append(Holding(SESSIONS, str(s["id"]), s["expires_at"]))
    session_codes = {s["code_id"] for s in found.get("citizen_session", [])}
    for c in found.get("signin_code", []):
        # A code goes after its session (which refers to it).
        started = None if c["id"] in session_codes else c["expires_at"]
        result.append(
            Holding(
                CODES,
                str(c["id"]),
                started,
                ("sesi dari kode ini belum dihapus", "the session from this code is still kept"),
            )
        )
    for e in found.get("outreach_entry", []):
        closed = e["status"] in ("applied", "refused", "moved")
        result.append(
            Holding(
                OUTREACH,
                str(e["id"]),
                e["updated_at"] if closed else None,
                ("entri jemput bola masih dikerjakan", "the outreach entry is still being worked"),
                erased=e["personal_data_erased_at"] is not None,
            )
        )
    for r in found.get("population_report", []):
        result.append(
            Holding(
                POPULATION,
                str(r["id"]),
                r["followed_up_at"],
                (
                    "laporan kependudukan desa belum ditindaklanjuti",
                    "the village's report has not been followed up yet",
                ),
                erased=r["personal_data_erased_at"] is not None,
            )
        )
    return result
