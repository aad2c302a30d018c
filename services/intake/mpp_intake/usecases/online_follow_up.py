"""After an online submission: the resident's own applications and papers,
and the correction of a returned (or incomplete) application: a corrected
paper uploaded per returned requirement, then the resubmission through
`usecases.papers_handed_in` (as if handed in at a counter).

A session reaches only applications whose NIK AND phone are the session's;
any other is 404, as if it did not exist.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

from mpp_intake.domain.applications import ACCEPTS_DOCUMENTS, Status
from mpp_intake.domain.citizen import CitizenSession
from mpp_intake.settings import IntakeSettings
from mpp_intake.store import application_files, applications, catalog
from mpp_intake.store.file_storage import FileMissing, file_storage
from mpp_intake.usecases.application_views import ApplicationPublic, public_answer
from mpp_intake.usecases.online_application import checked_paper, paper_requirement, store_paper
from mpp_intake.usecases.online_views import CitizenApplication, upload_refs, uploaded_file
from mpp_intake.usecases.papers_handed_in import HandInPapers, hand_in_papers_in
from mpp_shared import audit, clock
from mpp_shared.errors import Conflict, Invalid, Language, NotFound
from mpp_shared.pii import FieldCipher

# How many of a resident's applications the online home lists.
OWN_LIMIT = 50
NOT_FOUND = NotFound(
    "not_found", applications.APPLICATIONS.missing[0], applications.APPLICATIONS.missing[1]
)
FILE_NOT_FOUND = NotFound("file_not_found", "Berkas tidak ditemukan", "File not found")


@dataclass(frozen=True)
class FileContent:
    """A paper's bytes, for the verifier or its owner."""

    file_id: uuid.UUID
    content_type: str
    data: bytes
    requirement: str


def owns(row: asyncpg.Record, cipher: FieldCipher, citizen: CitizenSession) -> bool:
    """The application is the session's: same NIK (blind index) and same phone."""
    # An application whose person was erased after its retention period is nobody's.
    if row["nik_index"] is None or row["phone_enc"] is None:
        return False
    if bytes(row["nik_index"]) not in citizen.nik_search():
        return False
    return bool(cipher.decrypt(row["phone_enc"], context="phone") == citizen.phone)


async def own_application(
    conn: asyncpg.Connection, cipher: FieldCipher, citizen: CitizenSession, app_id: uuid.UUID
) -> asyncpg.Record:
    row = await applications.fetch(conn, app_id)
    if row is None or not owns(row, cipher, citizen):
        raise NOT_FOUND
    return row


async def my_applications(
    pool: asyncpg.Pool, cipher: FieldCipher, citizen: CitizenSession, language: Language
) -> list[ApplicationPublic]:
    rows = await applications.by_nik(pool, citizen.nik_search(), OWN_LIMIT)
    return [public_answer(r, language) for r in rows if owns(r, cipher, citizen)]


async def my_application(
    pool: asyncpg.Pool,
    *,
    cipher: FieldCipher,
    citizen: CitizenSession,
    application_id: uuid.UUID,
    language: Language,
) -> CitizenApplication:
    async with pool.acquire() as conn:
        row = await own_application(conn, cipher, citizen, application_id)
        return await _with_files(conn, row, language)


async def upload_correction(
    pool: asyncpg.Pool,
    *,
    settings: IntakeSettings,
    cipher: FieldCipher,
    citizen: CitizenSession,
    application_id: uuid.UUID,
    document: str,
    data: bytes,
    language: Language,
) -> CitizenApplication:
    """A corrected (or missing) paper for an application that takes papers;
    it is handed in by `resubmit`. Replaces a correction not yet handed in."""
    async with pool.acquire() as conn:
        row = await own_application(conn, cipher, citizen, application_id)
        service = await catalog.service_version(conn, row["service_code"], row["catalog_version"])
        assert service is not None
    _refuse_unless_accepting(row)
    requirement = paper_requirement(service, document)
    paper = await checked_paper(settings, requirement, data)
    async with pool.acquire() as conn, conn.transaction():
        row = await applications.lock(conn, application_id)
        assert row is not None
        _refuse_unless_accepting(row)
        storage = file_storage(settings, conn, cipher)
        for key in await application_files.drop_pending_requirement(
            conn, application_id, requirement.code
        ):
            await storage.delete(key)
        file_id = await store_paper(
            conn,
            storage,
            settings=settings,
            paper=paper,
            requirement=requirement,
            document=document,
            citizen=citizen,
            held_bytes=await application_files.application_bytes(conn, application_id),
            application_id=application_id,
            at=clock.now(),
        )
        await audit.record(
            conn,
            citizen.principal(),
            action="application.file_uploaded",
            target_type="application",
            target_id=str(application_id),
            detail={
                "file_id": str(file_id),
                "requirement": requirement.code,
                "document": document,
                "content_type": paper.content_type,
                "size": paper.size,
                "sha256": paper.sha256,
            },
        )
        return await _with_files(conn, row, language)


async def resubmit(
    pool: asyncpg.Pool,
    *,
    settings: IntakeSettings,
    cipher: FieldCipher,
    citizen: CitizenSession,
    application_id: uuid.UUID,
    language: Language,
) -> CitizenApplication:
    """Hand in the corrections uploaded: a returned application whose returned
    items are all answered is resubmitted (an incomplete one completed);
    refuses (Invalid) when no correction was uploaded."""
    async with pool.acquire() as conn, conn.transaction():
        await own_application(conn, cipher, citizen, application_id)
        pending = await application_files.pending(conn, application_id)
        if not pending:
            raise Invalid.field(
                "files",
                "nothing_uploaded",
                "unggah dulu berkas perbaikan untuk persyaratan yang dikembalikan",
                "upload the corrected paper for the returned requirement first",
            )
        await hand_in_papers_in(
            conn,
            settings=settings,
            officer=citizen.principal(),
            application_id=application_id,
            command=HandInPapers(documents=tuple(sorted({f["document"] for f in pending}))),
            language=language,
            uploads=upload_refs(pending),
        )
        await application_files.hand_in_pending(conn, application_id, clock.now())
        row = await applications.fetch(conn, application_id)
        assert row is not None
        return await _with_files(conn, row, language)


async def my_file(
    pool: asyncpg.Pool,
    *,
    settings: IntakeSettings,
    cipher: FieldCipher,
    citizen: CitizenSession,
    application_id: uuid.UUID,
    file_id: uuid.UUID,
) -> FileContent:
    async with pool.acquire() as conn:
        await own_application(conn, cipher, citizen, application_id)
        return await read_content(conn, settings, cipher, application_id, file_id)


async def read_content(
    conn: asyncpg.Connection,
    settings: IntakeSettings,
    cipher: FieldCipher,
    application_id: uuid.UUID,
    file_id: uuid.UUID,
) -> FileContent:
    """A paper's bytes; 404 for an unknown paper or one deleted after its retention."""
    found = await application_files.one_of_application(conn, application_id, file_id)
    if found is None or found["deleted_at"] is not None:
        raise FILE_NOT_FOUND
    try:
        data = await file_storage(settings, conn, cipher).get(found["storage_key"])
    except FileMissing as exc:
        raise FILE_NOT_FOUND from exc
    return FileContent(file_id, found["content_type"], data, found["requirement"])


def _refuse_unless_accepting(row: asyncpg.Record) -> None:
    if Status(row["status"]) not in ACCEPTS_DOCUMENTS:
        raise Conflict(
            "illegal_transition",
            "Permohonan ini tidak sedang menunggu berkas",
            "This application is not waiting for papers",
            current_state=row["status"],
            current_version=row["version"],
        )


async def _with_files(
    conn: asyncpg.Connection, row: asyncpg.Record, language: Language
) -> CitizenApplication:
    service = await catalog.service_version(conn, row["service_code"], row["catalog_version"])
    files = await application_files.of_application(conn, row["id"])
    described = [uploaded_file(f, service, language) for f in files]
    return CitizenApplication(
        application=public_answer(row, language),
        files=[f for f in described if f.handed_in],
        pending=[f for f in described if not f.handed_in],
    )
