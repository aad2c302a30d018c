"""A resident's erasure, intake's part, and intake's retention job.

`erase_subject` applies the retention rules of `mpp_intake.store.retention`
to the resident's records at intake now (found by the blind index of the
NIK under every configured index key): what is past its period is erased at
once, the rest is listed as kept, with until when and why. The data-subject
request at intake calls it in-process, once the other services have erased
their part. Audited (`personal_data.erased`, counts only)."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from mpp_intake.settings import IntakeSettings
from mpp_intake.store import personal_data, retention
from mpp_shared.auth import Principal
from mpp_shared.errors import Language
from mpp_shared.personal_data import ServiceErasure, Subject
from mpp_shared.pii import FieldCipher, cipher_from_settings
from mpp_shared.retention import erase_for_subject, retention_task
from mpp_shared.runtime import BackgroundTask

SERVICE = "intake"


async def erase_subject(
    pool: asyncpg.Pool,
    *,
    settings: IntakeSettings,
    cipher: FieldCipher,
    officer: Principal,
    request_id: uuid.UUID,
    nik: str,
    reason: str,
    subject: Subject | None = None,
    language: Language = "id",
    now: datetime | None = None,
) -> ServiceErasure:
    """Erase the resident with this NIK from intake's records whose retention
    period has passed; list the others as kept. `subject` (what the other
    services were sent) is accepted for the caller's convenience: intake finds
    its own records by the NIK."""
    async with pool.acquire() as conn:
        found = await personal_data.found_by_nik(conn, cipher.blind_indexes(nik, context="nik"))
        holdings = await retention.holdings(conn, found)
    return await erase_for_subject(
        pool,
        service=SERVICE,
        kinds=retention.kinds(settings, cipher),
        holdings=holdings,
        principal=officer,
        request_id=request_id,
        reason=reason,
        language=language,
        now=now,
    )


def retention_job(settings: IntakeSettings) -> BackgroundTask:
    """The retention job's background task (mpp_shared.retention)."""
    return retention_task(settings, retention.kinds(settings, cipher_from_settings(settings)))
