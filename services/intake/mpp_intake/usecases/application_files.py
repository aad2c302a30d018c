"""The officers' view of an application's uploaded papers, and their
deletion after the retention period.

- A verifier lists and opens the papers while the application is being
  verified (submitted, resubmitted, returned); a supervisor at any time until
  they are deleted. Every listing and every opening is in the audit trail.
- `UPLOAD_RETENTION_DAYS` after the document was picked up (the
  `mpp.document.picked_up.v1` handler starts the period), the retention
  scheduler deletes the papers' bytes from the file storage and records
  `deleted_at`; the rows stay, so the listing still shows what was there.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

import asyncpg
from pydantic import BaseModel

from mpp_intake.domain.applications import Status
from mpp_intake.domain.online import verifier_may_read
from mpp_intake.settings import IntakeSettings
from mpp_intake.store import application_files, applications, catalog
from mpp_intake.store.file_storage import file_storage
from mpp_intake.usecases.online_follow_up import NOT_FOUND, FileContent, read_content
from mpp_intake.usecases.online_views import UploadedFile, uploaded_file
from mpp_shared import audit
from mpp_shared.auth import Principal, Role
from mpp_shared.errors import Forbidden, Language
from mpp_shared.pii import FieldCipher, cipher_from_settings
from mpp_shared.runtime import BackgroundTask, Runtime
from mpp_shared.scheduling import TimerScheduler

log = logging.getLogger(__name__)


class RequirementFiles(BaseModel):
    code: str
    name: str
    mandatory: bool
    files: list[UploadedFile]


class ApplicationFiles(BaseModel):
    application_id: uuid.UUID
    tracking_code: str
    status: str
    requirements: list[RequirementFiles]


async def list_files(
    pool: asyncpg.Pool, *, officer: Principal, application_id: uuid.UUID, language: Language
) -> ApplicationFiles:
    """The papers beside each requirement of the application's catalog version."""
    async with pool.acquire() as conn, conn.transaction():
        row = await _readable(conn, officer, application_id)
        service = await catalog.service_version(conn, row["service_code"], row["catalog_version"])
        assert service is not None
        files = [
            uploaded_file(f, service, language)
            for f in await application_files.of_application(conn, application_id)
        ]
        await audit.record(
            conn,
            officer,
            action="application.files_listed",
            target_type="application",
            target_id=str(application_id),
            detail={"files": len(files)},
        )
    return ApplicationFiles(
        application_id=application_id,
        tracking_code=row["tracking_code"],
        status=row["status"],
        requirements=[
            RequirementFiles(
                code=r.code,
                name=r.name(language),
                mandatory=r.mandatory,
                files=[f for f in files if f.requirement == r.code],
            )
            for r in service.requirements
        ],
    )


async def read_file(
    pool: asyncpg.Pool,
    *,
    settings: IntakeSettings,
    cipher: FieldCipher,
    officer: Principal,
    application_id: uuid.UUID,
    file_id: uuid.UUID,
) -> FileContent:
    """One paper's bytes; the opening is audited in the same transaction."""
    async with pool.acquire() as conn, conn.transaction():
        await _readable(conn, officer, application_id)
        content = await read_content(conn, settings, cipher, application_id, file_id)
        await audit.record(
            conn,
            officer,
            action="application.file_read",
            target_type="application",
            target_id=str(application_id),
            detail={"file_id": str(file_id), "requirement": content.requirement},
        )
    return content


async def _readable(
    conn: asyncpg.Connection, officer: Principal, application_id: uuid.UUID
) -> asyncpg.Record:
    row = await applications.fetch(conn, application_id)
    if row is None:
        raise NOT_FOUND
    if Role.SUPERVISOR not in officer.roles and not verifier_may_read(Status(row["status"])):
        raise Forbidden(
            "not_in_verification",
            "Berkas hanya dapat dibuka selama permohonan diverifikasi",
            "The papers can be opened only while the application is being verified",
            current_state=row["status"],
        )
    return row


# --- retention ------------------------------------------------------------------


class FileRetention(TimerScheduler):
    """Deletes the papers whose retention ended; any number may run side by side
    (rows claimed with SKIP LOCKED)."""

    name = "upload retention"
    next_due_query = application_files.NEXT_RETENTION
    metric = (
        "mpp.intake.uploads",
        "mpp.uploads.deleted",
        "Uploaded papers deleted after their retention period",
    )
    kinds = ("deleted",)

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        settings: IntakeSettings,
        cipher: FieldCipher,
        interval: float = 60.0,
    ) -> None:
        super().__init__(pool, interval=interval)
        self.settings = settings
        self.cipher = cipher
        self.retention = timedelta(days=settings.upload_retention_days)

    async def next_due(self) -> datetime | None:
        started = await application_files.next_retention_start(self.pool)
        return None if started is None else started + self.retention

    async def fire_batch(self, now: datetime) -> tuple[int, int]:
        async with self.pool.acquire() as conn, conn.transaction():
            due = await application_files.due(conn, now - self.retention, self.batch_size)
            storage = file_storage(self.settings, conn, self.cipher)
            for row in due:
                await storage.delete(row["storage_key"])
            await application_files.mark_deleted(conn, [r["id"] for r in due], now)
        if due:
            self.fired_counter.add(len(due), {"kind": "deleted"})
            log.info(
                "upload retention: deleted %d paper(s): %s",
                len(due),
                ", ".join(f"{r['application_id']}/{r['id']}" for r in due),
            )
        return len(due), len(due)


def retention_task(settings: IntakeSettings) -> BackgroundTask:
    """The background task of `create_service_app(background=...)`."""

    async def upload_retention(runtime: Runtime) -> None:
        cipher = cipher_from_settings(settings)
        await FileRetention(runtime.pool, settings=settings, cipher=cipher).run()

    return upload_retention
