"""The online application's use cases on a real PostgreSQL: a signed-in
resident's draft, papers checked by content and stored encrypted, the
submission through the counter's rules, the session's scope (NIK AND phone),
the verifier's access to the papers, the correction of a returned paper, and
the deletion of the papers after their retention period."""

from __future__ import annotations

import io
import json
import typing
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from fpdf import FPDF
from PIL import Image

from mpp_intake.domain.applications import Decision
from mpp_intake.domain.citizen import CitizenSession
from mpp_intake.domain.papers import PaperCheck
from mpp_intake.handlers import on_document_progress
from mpp_intake.settings import IntakeSettings
from mpp_intake.usecases import (
    application_files,
    online_application,
    online_follow_up,
    verification,
)
from mpp_intake.usecases.application_files import FileRetention
from mpp_shared import migrate
from mpp_shared.auth import Principal, Role
from mpp_shared.db import create_pool
from mpp_shared.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge, UnsupportedType
from mpp_shared.events import build_event
from mpp_shared.events.schemas import DocumentPickedUpV1
from mpp_shared.pii import FieldCipher
from mpp_shared.settings import DEV_PII_ENCRYPTION_KEY, DEV_PII_INDEX_KEY
from tests.support.identities import nik, phone

ROOT = Path(__file__).resolve().parents[2]
SOURCES = {
    "shared": migrate.SHARED_MIGRATIONS,
    "intake": ROOT / "services" / "intake" / "mpp_intake" / "migrations",
}
CIPHER = FieldCipher(DEV_PII_ENCRYPTION_KEY, DEV_PII_INDEX_KEY)
SETTINGS = IntakeSettings()
SERVICE = "pindah_datang"  # mandatory: skpwni, ktp_el_pemohon
VERIFIER = Principal("verifier-1", frozenset({Role.VERIFIER}), "MPP")
SUPERVISOR = Principal("supervisor-1", frozenset({Role.SUPERVISOR}), "MPP")


def pdf_paper(text: str) -> bytes:
    """A real one-page PDF."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=14)
    pdf.cell(text=text)
    return bytes(pdf.output())


def jpeg_photo(colour: tuple[int, int, int] = (200, 180, 150), *, gps: bool = True) -> bytes:
    """A real JPEG photo, with an EXIF GPS block like a phone's."""
    image = Image.new("RGB", (640, 480), colour)
    exif = Image.Exif()
    if gps:
        exif[0x8825] = {1: "S", 2: (7.0, 49.0, 0.0), 3: "E", 4: (112.0, 1.0, 0.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def session(resident: str, mobile: str) -> CitizenSession:
    return CitizenSession(
        session_id=uuid.uuid4(),
        nik=resident,
        nik_index=CIPHER.blind_index(resident, context="nik"),
        phone=mobile,
        phone_index=CIPHER.blind_index(mobile, context="phone"),
        channel="sms",
        language="id",
        expires_at=datetime.now(UTC) + timedelta(minutes=30),
    )


@pytest.fixture
async def pool(database: str) -> AsyncIterator[asyncpg.Pool]:
    created = await create_pool(database)
    async with created.acquire() as conn:
        await migrate.apply_migrations(conn, SOURCES)
    yield created
    await created.close()


async def submitted_online(pool: asyncpg.Pool, citizen: CitizenSession) -> uuid.UUID:
    """A pindah_datang application submitted online with a PDF and a JPEG."""
    draft = await online_application.start_draft(
        pool, settings=SETTINGS, citizen=citizen, service_code=SERVICE, language="id"
    )
    for document, data in (("skpwni", pdf_paper("SKPWNI")), ("ktp_el_pemohon", jpeg_photo())):
        await online_application.upload_to_draft(
            pool,
            settings=SETTINGS,
            cipher=CIPHER,
            citizen=citizen,
            draft_id=draft.id,
            document=document,
            data=data,
            language="id",
        )
    answer = await online_application.submit_draft(
        pool,
        settings=SETTINGS,
        cipher=CIPHER,
        citizen=citizen,
        draft_id=draft.id,
        command=online_application.SubmitDraft(full_name="Dewi Lestari"),
        language="id",
    )
    return answer.id


async def events_of(pool: asyncpg.Pool, application_id: uuid.UUID) -> list[dict[str, object]]:
    rows = await pool.fetch(
        "SELECT event_type, payload FROM outbox WHERE key = $1 ORDER BY id", str(application_id)
    )
    return [{"type": r["event_type"], **json.loads(r["payload"])["data"]} for r in rows]


async def test_a_draft_names_what_is_missing_then_submits_with_references_only(
    pool: asyncpg.Pool,
) -> None:
    resident, mobile = nik(), phone()
    citizen = session(resident, mobile.typed)
    draft = await online_application.start_draft(
        pool, settings=SETTINGS, citizen=citizen, service_code=SERVICE, language="en"
    )
    assert [m.code for m in draft.missing_requirements] == ["skpwni", "ktp_el_pemohon"]
    # The resident's kecamatan (350604) comes first among the points.
    assert draft.pickup_points[0].nearest and draft.pickup_points[0].code != "MPP"
    pdf = pdf_paper("Surat pindah")
    after = await online_application.upload_to_draft(
        pool,
        settings=SETTINGS,
        cipher=CIPHER,
        citizen=citizen,
        draft_id=draft.id,
        document="skpwni",
        data=pdf,
        language="en",
    )
    assert [m.code for m in after.missing_requirements] == ["ktp_el_pemohon"]

    # Nothing is submitted while a paper is missing; the refusal names it.
    with pytest.raises(Invalid) as missing:
        await online_application.submit_draft(
            pool,
            settings=SETTINGS,
            cipher=CIPHER,
            citizen=citizen,
            draft_id=draft.id,
            command=online_application.SubmitDraft(full_name="Dewi Lestari"),
            language="en",
        )
    assert "KTP-el" in missing.value.message_en
    assert await pool.fetchval("SELECT count(*) FROM applications") == 0

    photo = jpeg_photo()
    after = await online_application.upload_to_draft(
        pool,
        settings=SETTINGS,
        cipher=CIPHER,
        citizen=citizen,
        draft_id=draft.id,
        document="ktp_el_pemohon",
        data=photo,
        language="en",
    )
    assert after.missing_requirements == []
    stored_photo = next(r.file for r in after.requirements if r.code == "ktp_el_pemohon")
    assert stored_photo is not None and stored_photo.content_type == "image/jpeg"
    answer = await online_application.submit_draft(
        pool,
        settings=SETTINGS,
        cipher=CIPHER,
        citizen=citizen,
        draft_id=draft.id,
        command=online_application.SubmitDraft(full_name="Dewi Lestari"),
        language="en",
    )
    assert (answer.channel, answer.status) == ("online", "submitted")
    assert answer.documents == ["ktp_el_pemohon", "skpwni"]
    assert answer.pickup_point == draft.pickup_points[0].code  # nearest, as at the counter

    # The event names the papers by reference and hash; no content, no NIK.
    [event] = await events_of(pool, answer.id)
    assert event["type"] == "mpp.application.submitted.v1"
    uploads = {u["requirement"]: u for u in typing.cast(list[dict[str, Any]], event["uploads"])}
    assert set(uploads) == {"skpwni", "ktp_el_pemohon"}
    assert uploads["skpwni"]["size"] == len(pdf)
    text = json.dumps(event)
    assert resident not in text and mobile.typed not in text and mobile.e164 not in text

    # Stored encrypted: the blobs hold neither the PDF nor the photo's bytes.
    blobs = [bytes(r["data"]) for r in await pool.fetch("SELECT data FROM upload_blobs")]
    assert len(blobs) == 2
    assert all(b"%PDF" not in b and not b.startswith(b"\xff\xd8\xff") for b in blobs)
    assert all(pdf[100:140] not in b for b in blobs)

    # The session reads its papers back; the photo lost its GPS position.
    mine = await online_follow_up.my_application(
        pool, cipher=CIPHER, citizen=citizen, application_id=answer.id, language="en"
    )
    assert {f.requirement for f in mine.files} == {"skpwni", "ktp_el_pemohon"}
    pdf_file = next(f for f in mine.files if f.requirement == "skpwni")
    got = await online_follow_up.my_file(
        pool,
        settings=SETTINGS,
        cipher=CIPHER,
        citizen=citizen,
        application_id=answer.id,
        file_id=pdf_file.id,
    )
    assert got.data == pdf and got.content_type == "application/pdf"
    jpeg_file = next(f for f in mine.files if f.requirement == "ktp_el_pemohon")
    got = await online_follow_up.my_file(
        pool,
        settings=SETTINGS,
        cipher=CIPHER,
        citizen=citizen,
        application_id=answer.id,
        file_id=jpeg_file.id,
    )
    assert 0x8825 not in Image.open(io.BytesIO(got.data)).getexif()

    # A submitted draft is not submitted twice.
    with pytest.raises(Conflict):
        await online_application.submit_draft(
            pool,
            settings=SETTINGS,
            cipher=CIPHER,
            citizen=citizen,
            draft_id=draft.id,
            command=online_application.SubmitDraft(full_name="Dewi Lestari"),
            language="en",
        )


async def test_a_session_reaches_only_its_own_nik_and_phone(pool: asyncpg.Pool) -> None:
    resident, mobile = nik(), phone()
    owner = session(resident, mobile.typed)
    app_id = await submitted_online(pool, owner)
    [draft_id] = [r["id"] for r in await pool.fetch("SELECT id FROM online_drafts")]
    # The same NIK with another phone (someone who knows the NIK), and another resident.
    for stranger in (session(resident, phone().typed), session(nik(), mobile.typed)):
        assert await online_follow_up.my_applications(pool, CIPHER, stranger, "id") == []
        with pytest.raises(NotFound):
            await online_follow_up.my_application(
                pool, cipher=CIPHER, citizen=stranger, application_id=app_id, language="id"
            )
        file_id = await pool.fetchval("SELECT id FROM application_files LIMIT 1")
        with pytest.raises(NotFound):
            await online_follow_up.my_file(
                pool,
                settings=SETTINGS,
                cipher=CIPHER,
                citizen=stranger,
                application_id=app_id,
                file_id=file_id,
            )
        with pytest.raises(NotFound):
            await online_application.get_draft(
                pool, settings=SETTINGS, citizen=stranger, draft_id=draft_id, language="id"
            )
    assert [a.id for a in await online_follow_up.my_applications(pool, CIPHER, owner, "id")] == [
        app_id
    ]


async def test_papers_are_refused_by_content_and_size_naming_the_requirement(
    pool: asyncpg.Pool,
) -> None:
    citizen = session(nik(), phone().typed)
    draft = await online_application.start_draft(
        pool, settings=SETTINGS, citizen=citizen, service_code=SERVICE, language="en"
    )

    async def upload(data: bytes, settings: IntakeSettings = SETTINGS) -> None:
        await online_application.upload_to_draft(
            pool,
            settings=settings,
            cipher=CIPHER,
            citizen=citizen,
            draft_id=draft.id,
            document="skpwni",
            data=data,
            language="en",
        )

    with pytest.raises(UnsupportedType) as wrong_type:
        await upload(b"MZ\x90\x00 an executable named skpwni.pdf")
    assert "SKPWNI" in wrong_type.value.message_en
    with pytest.raises(TooLarge) as too_large:
        await upload(pdf_paper("x"), IntakeSettings(upload_max_file_bytes=200))
    assert "SKPWNI" in too_large.value.message_en
    small_total = IntakeSettings(upload_max_application_bytes=len(pdf_paper("a")) + 10)
    await upload(pdf_paper("a"), small_total)  # replaces nothing, fits
    with pytest.raises(TooLarge):
        await online_application.upload_to_draft(
            pool,
            settings=small_total,
            cipher=CIPHER,
            citizen=citizen,
            draft_id=draft.id,
            document="ktp_el_pemohon",
            data=jpeg_photo(),
            language="en",
        )
    # An unknown paper code, a service not offered online.
    with pytest.raises(Invalid):
        await online_application.upload_to_draft(
            pool,
            settings=SETTINGS,
            cipher=CIPHER,
            citizen=citizen,
            draft_id=draft.id,
            document="sertifikat_tanah",
            data=pdf_paper("x"),
            language="en",
        )
    with pytest.raises(Invalid):
        await online_application.start_draft(
            pool, settings=SETTINGS, citizen=citizen, service_code="ktp_el", language="en"
        )
    assert await pool.fetchval("SELECT count(*) FROM application_files") == 1


async def test_a_returned_paper_is_corrected_online_and_the_verifier_reads_with_audit(
    pool: asyncpg.Pool,
) -> None:
    citizen = session(nik(), phone().typed)
    app_id = await submitted_online(pool, citizen)
    listed = await application_files.list_files(
        pool, officer=VERIFIER, application_id=app_id, language="id"
    )
    by_requirement = {r.code: r.files for r in listed.requirements}
    [old_photo] = by_requirement["ktp_el_pemohon"]
    read = await application_files.read_file(
        pool,
        settings=SETTINGS,
        cipher=CIPHER,
        officer=VERIFIER,
        application_id=app_id,
        file_id=old_photo.id,
    )
    assert read.content_type == "image/jpeg"

    await verification.decide(
        pool,
        cipher=CIPHER,
        officer=VERIFIER,
        application_id=app_id,
        command=verification.DecideApplication(
            decision=Decision.RETURNED,
            checks=(PaperCheck("ktp_el_pemohon", "invalid", "foto buram"),),
        ),
        language="id",
    )
    # Resubmitting without a correction is refused; a correction is uploaded, then handed in.
    with pytest.raises(Invalid):
        await online_follow_up.resubmit(
            pool,
            settings=SETTINGS,
            cipher=CIPHER,
            citizen=citizen,
            application_id=app_id,
            language="id",
        )
    corrected = jpeg_photo((90, 120, 160), gps=False)
    pending = await online_follow_up.upload_correction(
        pool,
        settings=SETTINGS,
        cipher=CIPHER,
        citizen=citizen,
        application_id=app_id,
        document="ktp_el_pemohon",
        data=corrected,
        language="id",
    )
    assert [f.requirement for f in pending.pending] == ["ktp_el_pemohon"]
    done = await online_follow_up.resubmit(
        pool,
        settings=SETTINGS,
        cipher=CIPHER,
        citizen=citizen,
        application_id=app_id,
        language="id",
    )
    assert (done.application.status, done.application.progress) == ("submitted", "resubmitted")
    assert done.pending == []
    [new_photo] = [f for f in done.files if f.requirement == "ktp_el_pemohon"]
    assert new_photo.id != old_photo.id
    resubmitted = (await events_of(pool, app_id))[-1]
    assert resubmitted["type"] == "mpp.application.resubmitted.v1"
    assert resubmitted["uploads"] == [
        {
            "requirement": "ktp_el_pemohon",
            "file_id": str(new_photo.id),
            "sha256": new_photo.sha256,
            "size": new_photo.size,
        }
    ]

    # Verified: the verifier no longer opens the papers; a supervisor still may.
    await verification.decide(
        pool,
        cipher=CIPHER,
        officer=VERIFIER,
        application_id=app_id,
        command=verification.DecideApplication(decision=Decision.VERIFIED),
        language="id",
    )
    with pytest.raises(Forbidden):
        await application_files.list_files(
            pool, officer=VERIFIER, application_id=app_id, language="id"
        )
    await application_files.read_file(
        pool,
        settings=SETTINGS,
        cipher=CIPHER,
        officer=SUPERVISOR,
        application_id=app_id,
        file_id=new_photo.id,
    )
    actions = [
        r["action"]
        for r in await pool.fetch(
            "SELECT action FROM audit_log WHERE target_id = $1 ORDER BY id", str(app_id)
        )
    ]
    assert actions.count("application.file_read") == 2
    assert "application.files_listed" in actions and "application.file_uploaded" in actions


async def test_papers_are_deleted_after_the_retention_period_from_pickup(
    pool: asyncpg.Pool,
) -> None:
    citizen = session(nik(), phone().typed)
    app_id = await submitted_online(pool, citizen)
    row = await pool.fetchrow("SELECT tracking_code FROM applications WHERE id = $1", app_id)
    picked_up_at = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    event = build_event(
        DocumentPickedUpV1(
            job_id=uuid.uuid4(),
            application_id=app_id,
            tracking_code=row["tracking_code"],
            service_code=SERVICE,
            state="picked_up",
            version=5,
            occurred_at=picked_up_at,
            handed_over_by="pickup-1",
        ),
        source="/mpp/documents",
        subject=str(app_id),
    )
    async with pool.acquire() as conn, conn.transaction():
        await on_document_progress(conn, event)
    settings = replace_settings(upload_retention_days=30)
    retention = FileRetention(pool, settings=settings, cipher=CIPHER)
    assert await retention.next_due() == picked_up_at + timedelta(days=30)
    retention.now = lambda: picked_up_at + timedelta(days=29)
    assert await retention.tick() == 0
    retention.now = lambda: picked_up_at + timedelta(days=30, seconds=1)
    assert await retention.tick() == 2
    assert await pool.fetchval("SELECT count(*) FROM upload_blobs") == 0
    assert await retention.next_due() is None
    mine = await online_follow_up.my_application(
        pool, cipher=CIPHER, citizen=citizen, application_id=app_id, language="id"
    )
    assert [f.deleted for f in mine.files] == [True, True]
    with pytest.raises(NotFound):
        await online_follow_up.my_file(
            pool,
            settings=SETTINGS,
            cipher=CIPHER,
            citizen=citizen,
            application_id=app_id,
            file_id=mine.files[0].id,
        )


def replace_settings(**changes: object) -> IntakeSettings:
    return IntakeSettings(**{**SETTINGS.model_dump(), **changes})


async def test_a_paper_is_removed_and_a_point_chosen_before_submission(pool: asyncpg.Pool) -> None:
    citizen = session(nik(), phone().typed)
    draft = await online_application.start_draft(
        pool, settings=SETTINGS, citizen=citizen, service_code=SERVICE, language="id"
    )
    draft = await online_application.upload_to_draft(
        pool,
        settings=SETTINGS,
        cipher=CIPHER,
        citizen=citizen,
        draft_id=draft.id,
        document="skpwni",
        data=pdf_paper("a"),
        language="id",
    )
    [uploaded] = [r.file for r in draft.requirements if r.file]
    assert uploaded is not None
    draft = await online_application.remove_from_draft(
        pool,
        settings=SETTINGS,
        cipher=CIPHER,
        citizen=citizen,
        draft_id=draft.id,
        file_id=uploaded.id,
        language="id",
    )
    assert [m.code for m in draft.missing_requirements] == ["skpwni", "ktp_el_pemohon"]
    assert await pool.fetchval("SELECT count(*) FROM upload_blobs") == 0
    with pytest.raises(Invalid):
        await online_application.choose_point(
            pool,
            settings=SETTINGS,
            citizen=citizen,
            draft_id=draft.id,
            pickup_point="NOWHERE",
            language="id",
        )
    chosen = await online_application.choose_point(
        pool,
        settings=SETTINGS,
        citizen=citizen,
        draft_id=draft.id,
        pickup_point="DUKCAPIL",
        language="id",
    )
    assert chosen.pickup_point == "DUKCAPIL"
    # Starting again reopens the same draft.
    again = await online_application.start_draft(
        pool, settings=SETTINGS, citizen=citizen, service_code=SERVICE, language="id"
    )
    assert (again.id, again.pickup_point) == (draft.id, "DUKCAPIL")
