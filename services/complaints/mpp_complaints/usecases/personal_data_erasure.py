"""A resident's erasure, complaints' part (asked by intake with a
`SubjectRequest`, see mpp_shared.personal_data): the retention rules of
`mpp_complaints.store.retention` applied now to the complaints the resident
filed (their phone or e-mail) and to the anonymous ones naming their
applications. A complaint naming their application but filed by someone
else holds that person's contact: it is listed as kept, not erased.
Audited (`personal_data.erased`, counts only)."""

from __future__ import annotations

import asyncpg

from mpp_complaints.settings import ComplaintsSettings
from mpp_complaints.store import retention
from mpp_complaints.usecases import reporter_contact
from mpp_complaints.usecases.personal_data_export import find, is_theirs
from mpp_shared.auth import Principal
from mpp_shared.errors import Language
from mpp_shared.personal_data import ServiceErasure, SubjectRequest
from mpp_shared.pii import FieldCipher
from mpp_shared.retention import Holding, erase_for_subject, retention_task
from mpp_shared.runtime import BackgroundTask

SERVICE = "complaints"
SOMEONE_ELSE = (
    "diajukan oleh orang lain: kontaknya bukan milik pemohon ini",
    "filed by someone else: the contact is another person's",
)


async def erase(
    pool: asyncpg.Pool,
    *,
    settings: ComplaintsSettings,
    cipher: FieldCipher,
    officer: Principal,
    request: SubjectRequest,
    language: Language = "id",
) -> ServiceErasure:
    async with pool.acquire() as conn:
        rows = await find(conn, cipher, request.subject)
    theirs, others = [], []
    for row in rows:
        enc = row["reporter_enc"]
        if enc is None or is_theirs(reporter_contact.opened(cipher, enc), request.subject):
            theirs.append(row)
        else:
            others.append(row)
    holdings = retention.holdings(theirs) + [
        Holding(
            kind="complaints_of_others", id=str(r["id"]), started=None, open_reason=SOMEONE_ELSE
        )
        for r in others
    ]
    return await erase_for_subject(
        pool,
        service=SERVICE,
        kinds=retention.kinds(settings.retention_complaints_days),
        holdings=holdings,
        principal=officer,
        request_id=request.request_id,
        reason=request.reason,
        language=language,
    )


def retention_job(settings: ComplaintsSettings) -> BackgroundTask:
    """The retention job's background task (mpp_shared.retention)."""
    return retention_task(settings, retention.kinds(settings.retention_complaints_days))
