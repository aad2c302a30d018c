"""The online application of a resident signed in with a one-time code:
a draft per service, a paper uploaded per requirement, a pickup point
(nearest first), then the submission through `usecases.submission.submit`
(channel `online`, the session's principal), so every catalog rule and the
one-active-application-per-NIK rule hold as at the counter.

A draft and its papers belong to the session's NIK AND phone: another
resident's draft is not found (404). Papers are checked by content
(`domain.uploads.inspect_upload`) before anything is written; the bytes go to
the file storage encrypted, the row that describes them commits with the
audit entry; the events carry only references and hashes.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from mpp_intake.domain.catalog import Requirement, ServiceVersion
from mpp_intake.domain.citizen import CitizenSession
from mpp_intake.domain.online import FILE_FIELD, missing_papers, requirement_for
from mpp_intake.domain.uploads import CheckedUpload, check_application_total, inspect_upload
from mpp_intake.settings import IntakeSettings
from mpp_intake.store import application_files, catalog, online_drafts, pickup_points
from mpp_intake.store.file_storage import FileStorage, file_storage
from mpp_intake.usecases import submission
from mpp_intake.usecases.application_views import ApplicationPublic
from mpp_intake.usecases.online_views import (
    DraftSummary,
    DraftView,
    draft_view,
    upload_refs,
)
from mpp_shared import audit, clock
from mpp_shared.errors import Conflict, Invalid, Language, NotFound
from mpp_shared.pii import FieldCipher

DRAFT_NOT_FOUND = NotFound(
    "draft_not_found", "Draf permohonan tidak ditemukan", "Draft application not found"
)


@dataclass(frozen=True)
class SubmitDraft:
    full_name: str
    email: str | None = None
    pickup_point: str | None = None


async def online_service(conn: asyncpg.Connection, code: str) -> ServiceVersion:
    """The current version of a service offered online; refuses (Invalid) others."""
    service = await catalog.current_service_cached(conn, code)
    if service is None:
        raise Invalid.field(
            "service_code",
            "unknown_service",
            f"layanan tidak dikenal: {code}",
            f"unknown service: {code}",
        )
    if "online" not in service.channels:
        raise Invalid.field(
            "service_code",
            "channel_not_offered",
            f"{service.name_id} tidak dapat diajukan online; silakan datang ke loket",
            f"{service.name_en} cannot be applied for online; please come to a counter",
        )
    return service


async def start_draft(
    pool: asyncpg.Pool,
    *,
    settings: IntakeSettings,
    citizen: CitizenSession,
    service_code: str,
    language: Language,
) -> DraftView:
    """The resident's open draft for the service (made on first use)."""
    async with pool.acquire() as conn, conn.transaction():
        service = await online_service(conn, service_code)
        draft = await online_drafts.open_draft(
            conn,
            nik_indexes=citizen.nik_search(),
            phone_indexes=citizen.phone_search(),
            service_code=service.code,
            created_by=citizen.principal().subject,
            at=clock.now(),
        )
        return await _view(conn, settings, citizen, draft, service, language)


async def get_draft(
    pool: asyncpg.Pool,
    *,
    settings: IntakeSettings,
    citizen: CitizenSession,
    draft_id: uuid.UUID,
    language: Language,
) -> DraftView:
    async with pool.acquire() as conn, conn.transaction():
        draft = await _own_open_draft(conn, citizen, draft_id)
        service = await online_service(conn, draft["service_code"])
        return await _view(conn, settings, citizen, draft, service, language)


async def my_drafts(
    pool: asyncpg.Pool, citizen: CitizenSession, language: Language
) -> list[DraftSummary]:
    async with pool.acquire() as conn:
        drafts = await online_drafts.own_open(conn, citizen.nik_search(), citizen.phone_search())
        answer = []
        for d in drafts:
            service = await catalog.current_service_cached(conn, d["service_code"])
            name = service.name(language) if service else d["service_code"]
            answer.append(
                DraftSummary(
                    id=d["id"],
                    service_code=d["service_code"],
                    service_name=name,
                    updated_at=d["updated_at"],
                )
            )
        return answer


async def checked_paper(
    settings: IntakeSettings, requirement: Requirement, data: bytes
) -> CheckedUpload:
    """The content checks (in a worker thread: decoding an image is CPU work)."""
    return await asyncio.to_thread(
        inspect_upload,
        data,
        field=FILE_FIELD,
        requirement_name=(requirement.name("id"), requirement.name("en")),
        max_bytes=settings.upload_max_file_bytes,
    )


def paper_requirement(service: ServiceVersion, document: str) -> Requirement:
    requirement = requirement_for(service, document)
    if requirement is None:
        raise Invalid.field(
            "document",
            "unknown_document",
            f"dokumen tidak dikenal untuk {service.name_id}: {document}",
            f"document unknown for {service.name_en}: {document}",
        )
    return requirement


async def upload_to_draft(
    pool: asyncpg.Pool,
    *,
    settings: IntakeSettings,
    cipher: FieldCipher,
    citizen: CitizenSession,
    draft_id: uuid.UUID,
    document: str,
    data: bytes,
    language: Language,
) -> DraftView:
    """Store a paper for the requirement `document` answers, replacing the
    draft's earlier paper for it; refuses 413/415/422 naming the requirement."""
    async with pool.acquire() as conn:
        draft = await _own_open_draft(conn, citizen, draft_id)
        service = await online_service(conn, draft["service_code"])
    requirement = paper_requirement(service, document)
    paper = await checked_paper(settings, requirement, data)
    replaced: list[str] = []
    async with pool.acquire() as conn, conn.transaction():
        draft = await _own_open_draft(conn, citizen, draft_id, lock=True)
        replaced = await application_files.drop_draft_requirement(conn, draft_id, requirement.code)
        now = clock.now()
        file_id = await store_paper(
            conn,
            file_storage(settings, conn, cipher),
            settings=settings,
            paper=paper,
            requirement=requirement,
            document=document,
            citizen=citizen,
            held_bytes=await application_files.draft_bytes(conn, draft_id),
            draft_id=draft_id,
            at=now,
        )
        await online_drafts.touch(conn, draft_id, now)
        await audit.record(
            conn,
            citizen.principal(),
            action="online_draft.file_uploaded",
            target_type="online_draft",
            target_id=str(draft_id),
            detail={
                "file_id": str(file_id),
                "requirement": requirement.code,
                "document": document,
                "content_type": paper.content_type,
                "size": paper.size,
                "sha256": paper.sha256,
            },
        )
        await _delete_blobs(file_storage(settings, conn, cipher), replaced)
        draft = await _own_open_draft(conn, citizen, draft_id)
        return await _view(conn, settings, citizen, draft, service, language)


async def remove_from_draft(
    pool: asyncpg.Pool,
    *,
    settings: IntakeSettings,
    cipher: FieldCipher,
    citizen: CitizenSession,
    draft_id: uuid.UUID,
    file_id: uuid.UUID,
    language: Language,
) -> DraftView:
    async with pool.acquire() as conn, conn.transaction():
        draft = await _own_open_draft(conn, citizen, draft_id, lock=True)
        service = await online_service(conn, draft["service_code"])
        key = await application_files.drop_draft_file(conn, draft_id, file_id)
        if key is None:
            raise NotFound("file_not_found", "Berkas tidak ditemukan", "File not found")
        await audit.record(
            conn,
            citizen.principal(),
            action="online_draft.file_removed",
            target_type="online_draft",
            target_id=str(draft_id),
            detail={"file_id": str(file_id)},
        )
        await _delete_blobs(file_storage(settings, conn, cipher), [key])
        return await _view(conn, settings, citizen, draft, service, language)


async def choose_point(
    pool: asyncpg.Pool,
    *,
    settings: IntakeSettings,
    citizen: CitizenSession,
    draft_id: uuid.UUID,
    pickup_point: str | None,
    language: Language,
) -> DraftView:
    async with pool.acquire() as conn, conn.transaction():
        draft = await _own_open_draft(conn, citizen, draft_id, lock=True)
        service = await online_service(conn, draft["service_code"])
        _refuse_point(service, pickup_point)
        await online_drafts.set_point(conn, draft_id, pickup_point, clock.now())
        draft = await _own_open_draft(conn, citizen, draft_id)
        return await _view(conn, settings, citizen, draft, service, language)


async def submit_draft(
    pool: asyncpg.Pool,
    *,
    settings: IntakeSettings,
    cipher: FieldCipher,
    citizen: CitizenSession,
    draft_id: uuid.UUID,
    command: SubmitDraft,
    language: Language,
) -> ApplicationPublic:
    """Submit the draft: refuses (Invalid, naming each) while a mandatory paper
    is missing; (Conflict) a draft already submitted, or a second active
    application for the service."""
    principal = citizen.principal()
    async with pool.acquire() as conn, conn.transaction():
        draft = await _own_draft(conn, citizen, draft_id, lock=True)
        if draft["application_id"] is not None:
            raise Conflict(
                "draft_submitted",
                "Draf ini sudah diajukan",
                "This draft was already submitted",
                application_id=str(draft["application_id"]),
            )
        service = await online_service(conn, draft["service_code"])
        files = await application_files.of_draft(conn, draft_id)
        documents = tuple(sorted({f["document"] for f in files}))
        missing = missing_papers(service, documents)
        if missing:
            raise Invalid.field(
                "documents",
                "missing_documents",
                "persyaratan belum diunggah: " + "; ".join(r.name("id") for r in missing),
                "papers not uploaded yet: " + "; ".join(r.name("en") for r in missing),
            )
        point = command.pickup_point or draft["pickup_point"]
        _refuse_point(service, point)
        answer = await submission.submit(
            conn,
            settings=settings,
            cipher=cipher,
            officer=principal,
            command=submission.SubmitApplication(
                service_code=service.code,
                documents=documents,
                nik=citizen.nik,
                full_name=command.full_name,
                phone=citizen.phone,
                email=command.email,
                channel="online",
                pickup_point=point,
                language=language,
                preferred_channel=citizen.channel,
            ),
            language=language,
            uploads=upload_refs(files),
        )
        await application_files.move_to_application(conn, draft_id, answer.id)
        await online_drafts.mark_submitted(conn, draft_id, answer.id, clock.now())
    submission.count_submitted(answer, principal)
    return answer


# --- helpers ------------------------------------------------------------------


def _refuse_point(service: ServiceVersion, point: str | None) -> None:
    if point is not None and point not in service.pickup_points:
        raise Invalid.field(
            "pickup_point",
            "pickup_point_not_offered",
            f"{service.name_id} tidak dapat diambil di {point}",
            f"{service.name_en} cannot be collected at {point}",
        )


async def _own_draft(
    conn: asyncpg.Connection, citizen: CitizenSession, draft_id: uuid.UUID, *, lock: bool = False
) -> asyncpg.Record:
    draft = await online_drafts.own(
        conn, draft_id, citizen.nik_search(), citizen.phone_search(), lock=lock
    )
    if draft is None:
        raise DRAFT_NOT_FOUND
    return draft


async def _own_open_draft(
    conn: asyncpg.Connection, citizen: CitizenSession, draft_id: uuid.UUID, *, lock: bool = False
) -> asyncpg.Record:
    draft = await _own_draft(conn, citizen, draft_id, lock=lock)
    if draft["application_id"] is not None:
        raise Conflict(
            "draft_submitted",
            "Draf ini sudah diajukan",
            "This draft was already submitted",
            application_id=str(draft["application_id"]),
        )
    return draft


async def _view(
    conn: asyncpg.Connection,
    settings: IntakeSettings,
    citizen: CitizenSession,
    draft: asyncpg.Record,
    service: ServiceVersion,
    language: Language,
) -> DraftView:
    return draft_view(
        draft,
        service,
        await application_files.of_draft(conn, draft["id"]),
        await pickup_points.pickup_points(conn),
        nearest=await pickup_points.nearest_point_cached(conn, citizen.nik[:6]),
        max_file_bytes=settings.upload_max_file_bytes,
        max_application_bytes=settings.upload_max_application_bytes,
        language=language,
    )


async def _delete_blobs(storage: FileStorage, keys: list[str]) -> None:
    for key in keys:
        await storage.delete(key)


async def store_paper(
    conn: asyncpg.Connection,
    storage: FileStorage,
    *,
    settings: IntakeSettings,
    paper: CheckedUpload,
    requirement: Requirement,
    document: str,
    citizen: CitizenSession,
    held_bytes: int,
    draft_id: uuid.UUID | None = None,
    application_id: uuid.UUID | None = None,
    at: datetime,
) -> uuid.UUID:
    """Write a checked paper (bytes to the storage, its row in the caller's
    transaction) for a draft or an application; refuses (413) when it would
    take the papers held past the limit per application. Its id."""
    check_application_total(
        held_bytes,
        paper.size,
        field=FILE_FIELD,
        requirement_name=(requirement.name("id"), requirement.name("en")),
        max_bytes=settings.upload_max_application_bytes,
    )
    file_id = uuid.uuid4()
    key = application_files.storage_key(file_id)
    await storage.put(key, paper.data)
    await application_files.insert(
        conn,
        application_files.NewFile(
            id=file_id,
            draft_id=draft_id,
            application_id=application_id,
            requirement=requirement.code,
            document=document,
            storage_key=key,
            content_type=paper.content_type,
            size=paper.size,
            sha256=paper.sha256,
            pages=paper.pages,
            uploaded_by=citizen.principal().subject,
            uploaded_at=at,
        ),
    )
    return file_id
