"""Erasure of personal data whose purpose is over (mpp_shared.retention), on
the real PostgreSQL: per service, the retention job erases the person from
exactly the records past their period and keeps the records; a second run
does nothing; the run table and the metric show the counts; the erasure of
one resident erases theirs and not another's and lists what it keeps and
why; the audit chain still verifies and the register stays gapless."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from mpp_complaints.settings import ComplaintsSettings
from mpp_complaints.store import retention as complaints_retention
from mpp_complaints.usecases import personal_data_erasure as complaints_erasure
from mpp_complaints.usecases import reporter_contact
from mpp_documents.api.routes import personal_data as documents_routes
from mpp_documents.settings import DocumentsSettings
from mpp_documents.store import retention as documents_retention
from mpp_intake.settings import IntakeSettings
from mpp_intake.store import retention as intake_retention
from mpp_intake.usecases import personal_data_erasure as intake_erasure
from mpp_notify.settings import NotifySettings
from mpp_notify.usecases import personal_data_erasure as notify_erasure
from mpp_shared import audit
from mpp_shared.audit_chain import keyring, signing_key
from mpp_shared.audit_check import verify_pool
from mpp_shared.audit_sealer import AuditSealer
from mpp_shared.auth import Principal, Role
from mpp_shared.personal_data import Subject, SubjectRequest
from mpp_shared.pii import FieldCipher
from mpp_shared.retention import RetentionJob
from mpp_shared.settings import DEV_AUDIT_SIGNING_KEY, DEV_PII_ENCRYPTION_KEY, DEV_PII_INDEX_KEY
from mpp_shared.web import install_error_handlers
from mpp_shared.web.deps import get_pool
from mpp_shared.web.retention import router as retention_router
from tests.support.auth import auth
from tests.support.metrics import readings

ROOT = Path(__file__).resolve().parents[2]
KEY = signing_key(DEV_AUDIT_SIGNING_KEY)
KEYS = keyring([KEY.public_key()])
CIPHER = FieldCipher(DEV_PII_ENCRYPTION_KEY, DEV_PII_INDEX_KEY)
PICKUP = Principal("pickup-1", frozenset({Role.PICKUP}), "MPP-03")
SUPERVISOR = Principal("supervisor-1", frozenset({Role.SUPERVISOR}), "MPP-01")
DAY = timedelta(days=1)
NOW = datetime.now(UTC)
LONG_AGO = NOW - 400 * DAY  # past every default period
LATELY = NOW - 10 * DAY  # within every period but the shortest


async def seal(pool: asyncpg.Pool, service: str) -> None:
    sealer = AuditSealer(pool, service, KEY)
    while (await sealer.step(force_checkpoint=True)).sealed:
        pass


async def chain_intact(pool: asyncpg.Pool, service: str) -> None:
    await seal(pool, service)
    report = await verify_pool(pool, keys=KEYS, unsealed_bound=300, service=service)
    assert report.intact, report.first_break
    assert report.unsealed == 0


async def note(
    pool: asyncpg.Pool, action: str, target_type: str, target_id: object, **detail: Any
) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await audit.record(
            conn,
            PICKUP,
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            detail=detail,
        )


def metered() -> tuple[InMemoryMetricReader, Any]:
    reader = InMemoryMetricReader()
    return reader, MeterProvider(metric_readers=[reader]).get_meter("test")


def erased_metric(reader: InMemoryMetricReader, service: str) -> dict[str, float]:
    points = readings(reader).get("mpp.personal_data.erased", {})
    return {
        dict(labels)["kind"]: v
        for labels, v in points.items()
        if dict(labels)["service"] == service
    }


# --- documents ------------------------------------------------------------------


async def add_job(
    pool: asyncpg.Pool,
    *,
    state: str,
    ended: datetime | None = None,
    nik_check: str = "aa" * 32,
    application_id: uuid.UUID | None = None,
    uncollected: bool = False,
) -> uuid.UUID:
    job_id = uuid.uuid4()
    await pool.execute(
        """
        INSERT INTO jobs (id, application_id, tracking_code, service_code, state, pickup_point,
            holder_masked, holder_nik_check, picked_up_at, collected_by, representative_masked,
            authority_letter_ref, hold_note, cancel_reason, uncollected_at, created_at, updated_at)
        VALUES ($1, $2, $3, 'ktp_el', $4, 'MPP', 'B*** S*** / 3506********0001', $5,
            CASE WHEN $4 = 'picked_up' THEN $6::timestamptz END,
            CASE WHEN $4 = 'picked_up' THEN 'representative' END,
            CASE WHEN $4 = 'picked_up' THEN 'S*** / 3506********0002' END,
            CASE WHEN $4 = 'picked_up' THEN 'SK-12/2026' END,
            'menunggu blangko', CASE WHEN $4 = 'cancelled' THEN 'pemohon pindah' END,
            CASE WHEN $7 THEN $6::timestamptz END, $8, coalesce($6::timestamptz, $8))
        """,
        job_id,
        application_id or uuid.uuid4(),
        f"T-{job_id.hex[:8]}",
        state,
        nik_check,
        ended,
        uncollected,
        (ended or NOW) - 30 * DAY,
    )
    await pool.execute(
        "INSERT INTO job_history (job_id, from_state, to_state, actor, at, note) "
        "VALUES ($1, 'queued', 'in_production', 'prod-1', $2, 'tinta habis, Bapak Budi menunggu')",
        job_id,
        (ended or NOW) - 20 * DAY,
    )
    return job_id


async def issue(pool: asyncpg.Pool, job_id: uuid.UUID, seq: int) -> None:
    await pool.execute(
        """
        INSERT INTO register_counters (doc_type, office, year, last) VALUES ('ktp_el', '3506', 2026, $1)
        ON CONFLICT (doc_type, office, year) DO UPDATE SET last = $1
        """,
        seq,
    )
    await pool.execute(
        """
        INSERT INTO issued_documents (id, job_id, application_id, doc_type, office, year, seq,
            number, verification_code, holder_masked, issued_at)
        SELECT $1, id, application_id, 'ktp_el', '3506', 2026, $2, $3, $4, holder_masked, $5
        FROM jobs WHERE id = $6
        """,
        uuid.uuid4(),
        seq,
        f"3506-KTP-2026-{seq:06d}",
        f"V{seq:07d}",
        NOW - 300 * DAY,
        job_id,
    )


async def register_is_gapless(pool: asyncpg.Pool) -> None:
    rows = await pool.fetch("SELECT seq, number, holder_masked FROM issued_documents ORDER BY seq")
    last = await pool.fetchval("SELECT last FROM register_counters")
    assert [r["seq"] for r in rows] == list(range(1, last + 1))
    assert all("*" in r["holder_masked"] and r["number"] for r in rows)


async def test_the_documents_run_erases_exactly_the_jobs_past_their_period(
    documents_pool: asyncpg.Pool,
) -> None:
    pool = documents_pool
    picked_old = await add_job(pool, state="picked_up", ended=LONG_AGO)
    cancelled_old = await add_job(pool, state="cancelled", ended=LONG_AGO)
    uncollected_old = await add_job(
        pool, state="ready_for_pickup", ended=LONG_AGO, uncollected=True
    )
    picked_lately = await add_job(pool, state="picked_up", ended=LATELY)
    running = await add_job(pool, state="in_production")
    for seq, issued in enumerate((picked_old, uncollected_old, picked_lately), start=1):
        await issue(pool, issued, seq)
    representative = {"representative_masked": "S*** / 3506********0002", "relationship": "anak"}
    await note(
        pool, "job.picked_up", "job", picked_old, collected_by="representative", **representative
    )
    await note(pool, "job.in_production", "job", picked_old, note=None, pickup_point="MPP")
    await note(pool, "job.picked_up", "job", picked_lately, **representative)
    await seal(pool, "documents")

    reader, meter = metered()
    job = RetentionJob(
        pool,
        service="documents",
        kinds=documents_retention.kinds(365),
        now=lambda: NOW,
        meter=meter,
    )
    run = await job.run_once()
    assert run is not None
    assert run.erased == {"document_jobs": 3, "audit_details": 1}

    rows = {r["id"]: r for r in await pool.fetch("SELECT * FROM jobs")}
    for job_id in (picked_old, cancelled_old, uncollected_old):
        row = rows[job_id]
        assert row["personal_data_erased_at"] == NOW
        assert row["holder_nik_check"] is None and row["holder_masked"] == "***"
        assert row["representative_masked"] is None and row["authority_letter_ref"] is None
        assert row["hold_note"] is None and row["cancel_reason"] is None
        assert row["tracking_code"] and row["state"] in (
            "picked_up",
            "cancelled",
            "ready_for_pickup",
        )
    assert rows[picked_old]["picked_up_at"] == LONG_AGO  # dates stay
    for job_id in (picked_lately, running):
        assert rows[job_id]["personal_data_erased_at"] is None
        assert rows[job_id]["holder_nik_check"] == "aa" * 32
    notes = {
        r["job_id"]: r["note"] for r in await pool.fetch("SELECT job_id, note FROM job_history")
    }
    assert notes[picked_old] is None and notes[picked_lately] is not None

    entries = await pool.fetch(
        "SELECT action, target_id, detail, detail_erased_by FROM audit_log "
        "WHERE target_type = 'job' ORDER BY id"
    )
    assert [(e["target_id"], e["detail"] == {}) for e in entries] == [
        (str(picked_old), True),
        (str(picked_old), False),
        (str(picked_lately), False),
    ]
    assert entries[0]["detail_erased_by"] is not None
    await chain_intact(pool, "documents")
    await register_is_gapless(pool)

    again = await job.run_once()
    assert again is not None and not any(again.erased.values())
    runs = await pool.fetch("SELECT * FROM retention_runs ORDER BY id")
    assert [(r["trigger"], r["erased"]) for r in runs] == [
        ("schedule", {"document_jobs": 3, "audit_details": 1}),
        ("schedule", {"document_jobs": 0, "audit_details": 0}),
    ]
    assert all(r["finished_at"] is not None for r in runs)
    assert erased_metric(reader, "documents") == {"document_jobs": 3, "audit_details": 1}


@pytest.fixture
async def documents_api(documents_pool: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    """The personal-data routes of documents on a real database."""
    app = FastAPI()
    app.state.settings = DocumentsSettings()
    install_error_handlers(app)
    app.include_router(documents_routes.router)
    app.include_router(retention_router)
    app.dependency_overrides[get_pool] = lambda: documents_pool
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://documents"
    ) as client:
        yield client


def request_for(subject: Subject) -> dict[str, Any]:
    body = SubjectRequest(request_id=uuid.uuid4(), reason="permintaan warga", subject=subject)
    return body.model_dump(mode="json")


async def test_a_residents_erasure_in_documents_erases_theirs_only_and_says_what_it_keeps(
    documents_pool: asyncpg.Pool, documents_api: httpx.AsyncClient
) -> None:
    pool = documents_pool
    mine, theirs = "ab" * 32, "cd" * 32
    my_old = await add_job(pool, state="picked_up", ended=LONG_AGO, nik_check=mine)
    my_running = await add_job(pool, state="queued", nik_check=mine)
    other_old = await add_job(pool, state="picked_up", ended=LONG_AGO, nik_check=theirs)
    await issue(pool, my_old, 1)
    await issue(pool, other_old, 2)
    body = request_for(Subject(nik_checks=[mine]))

    refused = await documents_api.post(
        "/v1/personal-data/erasure", json=body, headers=auth("verifier")
    )
    assert refused.status_code == 403
    answer = await documents_api.post(
        "/v1/personal-data/erasure", json=body, headers=auth("supervisor")
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["service"] == "documents"
    assert result["erased"] == {"document_jobs": 1, "audit_details": 0}
    kept = {(k["kind"], k["id"]): k for k in result["kept"]}
    assert set(kept) == {
        ("document_jobs", str(my_running)),
        ("issued_documents", kept_doc_id(kept)),
    }
    assert kept[("document_jobs", str(my_running))]["until"] is None
    assert "diproses" in kept[("document_jobs", str(my_running))]["reason"]

    rows = {r["id"]: r for r in await pool.fetch("SELECT * FROM jobs")}
    assert rows[my_old]["holder_nik_check"] is None
    assert rows[my_running]["holder_nik_check"] == mine
    assert rows[other_old]["holder_nik_check"] == theirs  # another resident's, not asked for
    await register_is_gapless(pool)

    audited = await pool.fetchrow("SELECT * FROM audit_log WHERE action = 'personal_data.erased'")
    assert audited["target_id"] == body["request_id"]
    assert audited["detail"]["erased"]["document_jobs"] == 1
    await chain_intact(pool, "documents")

    runs = await documents_api.get("/v1/personal-data/retention-runs", headers=auth("supervisor"))
    assert runs.status_code == 200, runs.text
    [run] = runs.json()
    assert run["trigger"] == "request" and run["request_id"] == body["request_id"]
    assert run["erased"]["document_jobs"] == 1 and run["kept"] == 2
    assert mine not in runs.text and str(my_old) not in runs.text  # what, never whom
    forbidden = await documents_api.get(
        "/v1/personal-data/retention-runs", headers=auth("verifier")
    )
    assert forbidden.status_code == 403


def kept_doc_id(kept: dict[tuple[str, str], Any]) -> str:
    return next(i for kind, i in kept if kind == "issued_documents")


# --- complaints -----------------------------------------------------------------


async def add_complaint(
    pool: asyncpg.Pool,
    *,
    status: str,
    ended: datetime | None = None,
    phone: str | None = None,
    application_id: uuid.UUID | None = None,
) -> uuid.UUID:
    complaint_id = uuid.uuid4()
    contact = {"name": "Siti", "phone": phone} if phone else None
    await pool.execute(
        """
        INSERT INTO complaints (id, complaint_code, category, description, channel, status,
            application_id, reporter_enc, reporter_phone_index, reporter_indexed, response_text,
            rating_comment, closed_at, created_at, updated_at, consent_note, extension_reason)
        VALUES ($1, $2, 'pelayanan', 'Petugas meminta uang, saya Siti dari Desa Sukamaju', 'web',
            $3, $4, $5, $6, true, CASE WHEN $3 = 'closed' THEN 'Ibu Siti, sudah ditindak' END,
            CASE WHEN $3 = 'closed' THEN 'terima kasih' END,
            CASE WHEN $3 = 'closed' THEN $7::timestamptz END, $8, coalesce($7::timestamptz, $8),
            'setuju lewat telepon dengan Ibu Siti', 'menunggu data dari Ibu Siti')
        """,
        complaint_id,
        f"P-{complaint_id.hex[:8].upper()}",
        status,
        application_id,
        CIPHER.encrypt(json.dumps(contact), context="reporter") if contact else None,
        CIPHER.blind_index(phone, context=reporter_contact.PHONE_CONTEXT) if phone else None,
        ended,
        (ended or NOW) - 20 * DAY,
    )
    return complaint_id


async def test_complaints_erase_closed_complaints_past_their_period_and_one_residents_own(
    complaints_pool: asyncpg.Pool,
) -> None:
    pool = complaints_pool
    settings = ComplaintsSettings()
    me, other, third = "+6281234500001", "+6281234500002", "+6281234500003"
    my_application = uuid.uuid4()
    my_old = await add_complaint(pool, status="closed", ended=LONG_AGO, phone=me)
    my_recent = await add_complaint(pool, status="closed", ended=LATELY, phone=me)
    my_open = await add_complaint(pool, status="in_progress", phone=me)
    other_old = await add_complaint(pool, status="rejected", ended=LONG_AGO, phone=other)
    about_me_by_third = await add_complaint(
        pool, status="closed", ended=LONG_AGO, phone=third, application_id=my_application
    )

    request = SubjectRequest(
        request_id=uuid.uuid4(),
        reason="permintaan warga",
        subject=Subject(phones=[me], application_ids=[my_application]),
    )
    answer = await complaints_erasure.erase(
        pool, settings=settings, cipher=CIPHER, officer=SUPERVISOR, request=request, language="en"
    )
    assert answer.erased == {"complaints": 1, "audit_details": 0}
    kept = {k.id: k for k in answer.kept}
    assert set(kept) == {str(my_recent), str(my_open), str(about_me_by_third)}
    until = kept[str(my_recent)].until
    assert until is not None and until.date() == (LATELY + 365 * DAY).date()
    assert kept[str(my_open)].until is None and "being handled" in kept[str(my_open)].reason
    assert kept[str(about_me_by_third)].kind == "complaints_of_others"

    rows = {r["id"]: r for r in await pool.fetch("SELECT * FROM complaints")}
    erased = rows[my_old]
    assert erased["reporter_enc"] is None and erased["reporter_phone_index"] is None
    assert erased["description"] == "***" and erased["response_text"] == "***"
    assert erased["rating_comment"] is None and erased["personal_data_erased_at"] is not None
    assert erased["consent_note"] is None and erased["extension_reason"] == "***"
    assert erased["complaint_code"] and erased["category"] == "pelayanan"
    assert erased["status"] == "closed" and erased["closed_at"] == LONG_AGO
    for untouched in (my_recent, my_open, other_old, about_me_by_third):
        assert rows[untouched]["reporter_enc"] is not None

    job = RetentionJob(
        pool, service="complaints", kinds=complaints_retention.kinds(365), now=lambda: NOW
    )
    run = await job.run_once()
    assert run is not None and run.erased == {"complaints": 2, "audit_details": 0}
    rows = {r["id"]: r for r in await pool.fetch("SELECT * FROM complaints")}
    assert (
        rows[other_old]["reporter_enc"] is None and rows[about_me_by_third]["reporter_enc"] is None
    )
    assert rows[my_recent]["reporter_enc"] is not None and rows[my_open]["reporter_enc"] is not None
    again = await job.run_once()
    assert again is not None and not any(again.erased.values())
    assert await pool.fetchval("SELECT count(*) FROM retention_runs") == 3
    await chain_intact(pool, "complaints")


# --- notify -----------------------------------------------------------------------


async def add_message(
    pool: asyncpg.Pool,
    *,
    status: str,
    at: datetime,
    phone: str = "+6281234500001",
    application_id: uuid.UUID | None = None,
) -> uuid.UUID:
    message_id = uuid.uuid4()
    await pool.execute(
        """
        INSERT INTO delivery_log (id, source_event_id, source_event_type, channel, provider,
            recipient_index, recipient_masked, recipient_enc, language, body, status,
            application_id, created_at, updated_at, delivered_at)
        VALUES ($1, $2, 'mpp.document.ready_for_pickup.v1', 'sms', 'log', $3, '+62812****0001',
            $4, 'id', 'Yth. Budi, dokumen Anda siap diambil', $5, $6, $7, $7,
            CASE WHEN $5 = 'delivered' THEN $7::timestamptz END)
        """,
        message_id,
        uuid.uuid4(),
        CIPHER.blind_index(f"sms:{phone}", context="recipient"),
        CIPHER.encrypt(phone, context="recipient-address"),
        status,
        application_id,
        at,
    )
    await pool.execute(
        "INSERT INTO delivery_attempts (delivery_kind, delivery_id, attempt, started_at, "
        "outcome, error) VALUES ('message', $1, 1, $2, 'transient', 'nomor +6281234500001 sibuk')",
        message_id,
        at,
    )
    return message_id


async def test_notify_erases_messages_contacts_conversations_and_journal_past_their_period(
    notify_pool: asyncpg.Pool,
) -> None:
    pool = notify_pool
    settings = NotifySettings()
    old_app, recent_app = uuid.uuid4(), uuid.uuid4()
    old = await add_message(pool, status="delivered", at=LONG_AGO, application_id=old_app)
    recent = await add_message(pool, status="delivered", at=LATELY, application_id=recent_app)
    waiting = await add_message(pool, status="queued", at=LONG_AGO)
    contact = CIPHER.encrypt(json.dumps({"phone": "+6281234500001"}), context="contact")
    for subject_id in (old_app, recent_app):
        await pool.execute(
            "INSERT INTO recipients (subject_type, subject_id, contact_enc, created_at) "
            "VALUES ('application', $1, $2, $3)",
            subject_id,
            contact,
            LONG_AGO,
        )
    for phone, last in (("+6281234500001", LONG_AGO), ("+6281234500002", LATELY)):
        await pool.execute(
            "INSERT INTO wa_conversations (sender_index, sender_enc, last_inbound_at) "
            "VALUES ($1, $2, $3)",
            CIPHER.blind_index(f"whatsapp:{phone}", context="recipient"),
            CIPHER.encrypt(phone, context="whatsapp-sender"),
            last,
        )
    for occurred in (LONG_AGO, LATELY):
        await pool.execute(
            "INSERT INTO event_journal (event_id, event_type, topic, subject, occurred_at, "
            "envelope) VALUES ($1, 'mpp.document.queued.v1', 'mpp.documents', 'x', $2, '{}')",
            uuid.uuid4(),
            occurred,
        )

    # One resident's erasure first: nothing of theirs is past its period yet, all is kept.
    request = SubjectRequest(
        request_id=uuid.uuid4(),
        reason="permintaan warga",
        subject=Subject(phones=["+6281234500002"], application_ids=[recent_app]),
    )
    answer = await notify_erasure.erase(
        pool, settings=settings, cipher=CIPHER, officer=SUPERVISOR, request=request
    )
    assert answer.erased["messages"] == 0 and answer.erased["whatsapp_conversations"] == 0
    kept = {(k.kind, k.id) for k in answer.kept}
    assert ("messages", str(recent)) in kept and ("contacts", f"application:{recent_app}") in kept
    assert len(answer.kept) == 3  # and their conversation, until 30 days after the last message

    reader, meter = metered()
    job = RetentionJob(
        pool, service="notify", kinds=notify_erasure.kinds(settings), now=lambda: NOW, meter=meter
    )
    run = await job.run_once()
    assert run is not None
    assert run.erased == {
        "messages": 1,
        "contacts": 1,
        "whatsapp_conversations": 1,
        "webhook_journal": 1,
        "audit_details": 0,
    }
    rows = {r["id"]: r for r in await pool.fetch("SELECT * FROM delivery_log")}
    gone = rows[old]
    assert gone["recipient_enc"] is None and gone["recipient_index"] is None
    assert gone["recipient_masked"] == "***" and gone["body"] == "***"
    assert gone["status"] == "delivered" and gone["delivered_at"] == LONG_AGO
    assert gone["source_event_type"] == "mpp.document.ready_for_pickup.v1"
    for kept_id in (recent, waiting):
        assert rows[kept_id]["recipient_enc"] is not None
    errors = {
        r["delivery_id"]: r["error"]
        for r in await pool.fetch("SELECT delivery_id, error FROM delivery_attempts")
    }
    assert errors[old] is None and errors[recent] is not None
    contacts = {
        r["subject_id"]: r["contact_enc"]
        for r in await pool.fetch("SELECT subject_id, contact_enc FROM recipients")
    }
    assert contacts[old_app] is None and contacts[recent_app] is not None
    assert await pool.fetchval("SELECT count(*) FROM wa_conversations") == 1
    assert await pool.fetchval("SELECT count(*) FROM event_journal") == 1

    again = await job.run_once()
    assert again is not None and not any(again.erased.values())
    assert erased_metric(reader, "notify") == {
        "messages": 1,
        "contacts": 1,
        "whatsapp_conversations": 1,
        "webhook_journal": 1,
        "audit_details": 0,
    }
    await chain_intact(pool, "notify")


# --- intake -----------------------------------------------------------------------


async def add_application(
    pool: asyncpg.Pool, *, nik: str, status: str, progress: str, ended: datetime | None = None
) -> uuid.UUID:
    app_id = uuid.uuid4()
    created = (ended or NOW) - 30 * DAY
    await pool.execute(
        """
        INSERT INTO applications (id, tracking_code, service_code, channel, status, progress,
            nik_enc, nik_index, nik_masked, name_enc, name_masked, phone_enc, submitted_by,
            decision_reason, active, created_at, updated_at)
        VALUES ($1, $2, 'ktp_el', 'counter', $3, $4, $5, $6, '3506********0001', $7, 'B*** S***',
            $8, 'frontdesk-1', CASE WHEN $3 = 'rejected' THEN 'data tidak sesuai' END,
            $3 <> 'rejected' AND $4 <> 'picked_up', $9, $9)
        """,
        app_id,
        f"K{app_id.hex[:9].upper()}",
        status,
        progress,
        CIPHER.encrypt(nik, context="nik"),
        CIPHER.blind_index(nik, context="nik"),
        CIPHER.encrypt("Budi Santoso", context="name"),
        CIPHER.encrypt("+6281234500001", context="phone"),
        created,
    )
    steps = [("submitted", created)] + ([(progress, ended)] if ended else [])
    for step, at in steps:
        await pool.execute(
            "INSERT INTO application_timeline (application_id, step, at) VALUES ($1, $2, $3)",
            app_id,
            step,
            at,
        )
    return app_id


async def add_paper(
    pool: asyncpg.Pool,
    *,
    application_id: uuid.UUID | None = None,
    draft_id: uuid.UUID | None = None,
    retention_from: datetime | None = None,
) -> uuid.UUID:
    """A paper's row and its (stand-in) blob in the database storage."""
    paper_id = uuid.uuid4()
    key = f"uploads/{paper_id}"
    await pool.execute("INSERT INTO upload_blobs (key, data, size) VALUES ($1, '\\x0102', 2)", key)
    await pool.execute(
        """
        INSERT INTO application_files (id, draft_id, application_id, requirement, document,
            storage_key, content_type, size, sha256, uploaded_by, uploaded_at, handed_in,
            retention_from)
        VALUES ($1, $2, $3, 'ktp', 'ktp_el_pemohon', $4, 'image/jpeg', 2, 'ab', 'citizen:x',
            $5, $3::uuid IS NOT NULL, $6)
        """,
        paper_id,
        draft_id,
        application_id,
        key,
        LONG_AGO,
        retention_from,
    )
    return paper_id


async def add_outreach_entry(pool: asyncpg.Pool, *, nik: str, status: str) -> uuid.UUID:
    list_id, entry_id = uuid.uuid4(), uuid.uuid4()
    await pool.execute(
        "INSERT INTO outreach_lists (id, name, uploaded_by, rows_total, rows_accepted, "
        "rows_rejected) VALUES ($1, 'Desa Sukamaju KTP', 'dukcapil-1', 1, 1, 0)",
        list_id,
    )
    await pool.execute(
        """
        INSERT INTO outreach_entries (id, list_id, line, desa_code, nik_enc, nik_index,
            nik_masked, name_enc, name_masked, phone_enc, phone_masked, address, service_code,
            status, follow_ups, created_at, updated_at)
        VALUES ($1, $2, 1, '3506010001', $3, $4, '3506********0001', $5, 'B*** S***', $6,
            '+62812****0001', 'RT 01 RW 02', 'ktp_el', $7,
            '[{"outcome": "refused", "note": "Pak Budi menolak", "by": "desa-1"}]', $8, $8)
        """,
        entry_id,
        list_id,
        CIPHER.encrypt(nik, context="nik"),
        CIPHER.blind_index(nik, context="nik"),
        CIPHER.encrypt("Budi Santoso", context="name"),
        CIPHER.encrypt("+6281234500001", context="phone"),
        status,
        LONG_AGO,
    )
    return entry_id


async def test_intake_erases_a_residents_ended_applications_and_the_run_the_rest(
    intake_pool: asyncpg.Pool,
) -> None:
    pool = intake_pool
    settings = IntakeSettings()
    me, other = "3506010101900001", "3506010101900002"
    my_rejected = await add_application(
        pool, nik=me, status="rejected", progress="rejected", ended=LONG_AGO
    )
    my_picked_lately = await add_application(
        pool, nik=me, status="verified", progress="picked_up", ended=LATELY
    )
    my_running = await add_application(pool, nik=me, status="submitted", progress="submitted")
    other_picked = await add_application(
        pool, nik=other, status="verified", progress="picked_up", ended=LONG_AGO
    )
    code_id, session_id = uuid.uuid4(), uuid.uuid4()
    await pool.execute(
        """
        INSERT INTO citizen_signin_codes (id, nik_enc, nik_index, phone_enc, phone_index, channel,
            language, code_hash, created_at, expires_at, ended_at, end_reason)
        VALUES ($1, $2, $3, $4, $5, 'sms', 'id', '\\x00', $6, $6, $6, 'used')
        """,
        code_id,
        CIPHER.encrypt(me, context="nik"),
        CIPHER.blind_index(me, context="nik"),
        CIPHER.encrypt("+6281234500001", context="phone"),
        CIPHER.blind_index("+6281234500001", context="phone"),
        LATELY,
    )
    await pool.execute(
        """
        INSERT INTO citizen_sessions (id, code_id, nik_enc, nik_index, phone_enc, phone_index,
            channel, language, created_at, expires_at)
        SELECT $1, id, nik_enc, nik_index, phone_enc, phone_index, channel, language, $2, $2
        FROM citizen_signin_codes WHERE id = $3
        """,
        session_id,
        LATELY,
        code_id,
    )
    draft_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO online_drafts (id, nik_index, phone_index, service_code, created_by, "
        "created_at, updated_at) VALUES ($1, $2, $3, 'ktp_el', 'citizen:x', $4, $4)",
        draft_id,
        CIPHER.blind_index(me, context="nik"),
        CIPHER.blind_index("+6281234500001", context="phone"),
        LONG_AGO,
    )
    draft_paper = await add_paper(pool, draft_id=draft_id)
    my_paper = await add_paper(pool, application_id=my_picked_lately, retention_from=LATELY)
    other_paper = await add_paper(pool, application_id=other_picked, retention_from=LONG_AGO)
    my_entry = await add_outreach_entry(pool, nik=me, status="refused")
    tracking = await pool.fetchval(
        "SELECT tracking_code FROM applications WHERE id = $1", my_rejected
    )
    await note(
        pool, "application.receipt_printed", "application", my_rejected, tracking_code=tracking
    )
    await note(pool, "application.submit", "application", my_rejected, status="submitted")
    await seal(pool, "intake")

    answer = await intake_erasure.erase_subject(
        pool,
        settings=settings,
        cipher=CIPHER,
        officer=SUPERVISOR,
        request_id=uuid.uuid4(),
        nik=me,
        reason="permintaan warga",
        now=NOW,
    )
    assert answer.service == "intake"
    assert answer.erased["applications"] == 1 and answer.erased["citizen_sessions"] == 1
    assert answer.erased["audit_details"] == 1
    kept = {(k.kind, k.id): k for k in answer.kept}
    assert kept[("applications", str(my_picked_lately))].until is not None
    assert kept[("applications", str(my_running))].until is None
    assert ("signin_codes", str(code_id)) in kept  # its session went in this same request
    assert answer.erased["online_drafts"] == 1 and answer.erased["outreach_entries"] == 1
    assert answer.erased["uploaded_papers"] == 0
    paper_until = kept[("uploaded_papers", str(my_paper))].until
    assert paper_until is not None and paper_until.date() == (LATELY + 30 * DAY).date()
    assert await pool.fetchval("SELECT count(*) FROM online_drafts") == 0
    assert (
        await pool.fetchval("SELECT count(*) FROM application_files WHERE id = $1", draft_paper)
        == 0
    )
    entry = await pool.fetchrow("SELECT * FROM outreach_entries WHERE id = $1", my_entry)
    assert entry["nik_enc"] is None and entry["nik_index"] is None and entry["phone_enc"] is None
    assert entry["name_masked"] == "***" and entry["address"] is None
    assert entry["status"] == "refused"
    assert entry["follow_ups"] == [{"outcome": "refused", "by": "desa-1"}]

    rows = {r["id"]: r for r in await pool.fetch("SELECT * FROM applications")}
    erased = rows[my_rejected]
    assert erased["nik_enc"] is None and erased["nik_index"] is None and erased["name_enc"] is None
    assert erased["phone_enc"] is None and erased["nik_masked"] == "***"
    assert erased["decision_reason"] is None and not erased["active"]
    assert erased["tracking_code"] == tracking and erased["status"] == "rejected"
    for untouched in (my_picked_lately, my_running, other_picked):
        assert rows[untouched]["nik_enc"] is not None
    assert await pool.fetchval("SELECT count(*) FROM citizen_sessions") == 0
    details = {
        r["action"]: r["detail"]
        for r in await pool.fetch(
            "SELECT action, detail FROM audit_log WHERE target_id = $1", str(my_rejected)
        )
    }
    assert details["application.receipt_printed"] == {}
    assert details["application.submit"] == {"status": "submitted"}

    job = RetentionJob(
        pool,
        service="intake",
        kinds=intake_retention.kinds(settings, CIPHER),
        now=lambda: NOW,
    )
    run = await job.run_once()
    assert run is not None
    assert run.erased["applications"] == 1 and run.erased["signin_codes"] == 1
    assert run.erased["uploaded_papers"] == 1
    papers = {
        r["id"]: r["deleted_at"]
        for r in await pool.fetch("SELECT id, deleted_at FROM application_files")
    }
    assert papers[other_paper] == NOW and papers[my_paper] is None  # the row stays
    assert await pool.fetchval("SELECT count(*) FROM upload_blobs") == 1
    assert (await pool.fetchrow("SELECT * FROM applications WHERE id = $1", other_picked))[
        "nik_index"
    ] is None
    again = await job.run_once()
    assert again is not None and not any(again.erased.values())
    await chain_intact(pool, "intake")
