"""An outreach entry turned into an application at the desa, in one step: the
application is submitted as at any counter (same refusals) and the entry
becomes `applied` with its tracking code, in one transaction. An entry made
from a village's report ends the report's follow-up deadline, and the papers
the family holds stand for the papers handed in unless the officer names them."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass

import asyncpg

from mpp_intake.domain import outreach as rules
from mpp_intake.domain.applications import (
    PREFERRED_CHANNEL_WITHOUT_CONTACT,
    PreferredChannel,
    unreachable_on,
)
from mpp_intake.domain.outreach import EntryStatus
from mpp_intake.store import catalog, outreach, population
from mpp_intake.usecases.application_views import ApplicationPublic
from mpp_intake.usecases.history import SOURCE
from mpp_intake.usecases.outreach_entries import desa_of
from mpp_intake.usecases.submission import SubmitApplication, count_submitted, submit
from mpp_shared import clock
from mpp_shared.auth import Principal
from mpp_shared.errors import Invalid, Language
from mpp_shared.idempotency import Idempotency, StoredAnswer
from mpp_shared.pii import FieldCipher
from mpp_shared.settings import ServiceSettings
from mpp_shared.transitions import begin_transition, finish_transition


@dataclass(frozen=True)
class ApplyFromEntry:
    """What the desa officer adds to an entry (values already checked); NIK,
    name, service and, unless given, phone come from the entry. Its fields are
    those of the request, so an Idempotency-Key retry is recognised by them."""

    documents: tuple[str, ...] = ()
    phone: str | None = None
    email: str | None = None
    preferred_channel: PreferredChannel | None = None
    language: Language = "id"
    pickup_point: str | None = None
    expected_version: int | None = None


async def apply_from_entry(
    pool: asyncpg.Pool,
    *,
    settings: ServiceSettings,
    cipher: FieldCipher,
    officer: Principal,
    entry_id: uuid.UUID,
    command: ApplyFromEntry,
    language: Language,
    idempotency_key: str | None,
) -> ApplicationPublic | StoredAnswer:
    """Submit the entry's application and mark the entry applied. Refuses
    (Forbidden) another desa's entry, (Conflict) an entry already applied for
    or changed since read, and whatever a submission at a counter refuses."""
    now = clock.now()
    async with pool.acquire() as conn, conn.transaction():
        once = Idempotency(conn, f"outreach-applications:{officer.subject}", idempotency_key)
        if (stored := await once.replay({"entry": str(entry_id), **asdict(command)})) is not None:
            return stored
        row = await begin_transition(
            conn,
            outreach.ENTRIES,
            entry_id,
            target=EntryStatus.APPLIED.value,
            expected_version=command.expected_version,
            allowed=lambda row: rules.can_apply(row["status"]),
            authorize=desa_of(officer),
        )
        answer = await submit(
            conn,
            settings=settings,
            cipher=cipher,
            officer=officer,
            command=_application(row, command, cipher, await _papers_held(conn, row)),
            language=language,
        )
        await outreach.mark_applied(
            conn,
            entry_id,
            application_id=answer.id,
            tracking_code=answer.tracking_code,
            at=now,
        )
        if row["report_id"] is not None:
            await population.mark_followed_up(conn, row["report_id"], now)
        await finish_transition(
            conn,
            officer,
            action="outreach.apply",
            target_type="outreach_entry",
            target_id=str(entry_id),
            detail={
                "application_id": str(answer.id),
                "tracking_code": answer.tracking_code,
                "service_code": answer.service_code,
                "from": row["status"],
            },
            source=SOURCE,
            key=str(entry_id),
        )
        await once.remember(answer)
    count_submitted(answer, officer)
    return answer


async def _papers_held(conn: asyncpg.Connection, row: asyncpg.Record) -> tuple[str, ...]:
    """The papers the family already holds (a report's entry) that the
    entry's service takes; the others belong to another service of the report."""
    if not row["papers_held"]:
        return ()
    service = await catalog.current_service_cached(conn, row["service_code"])
    if service is None:
        return ()
    return tuple(p for p in row["papers_held"] if not service.unknown_documents((p,)))


def _application(
    row: asyncpg.Record,
    command: ApplyFromEntry,
    cipher: FieldCipher,
    papers_held: tuple[str, ...] = (),
) -> SubmitApplication:
    """The application of the entry's resident, through the desa channel. The
    entry's values were checked on upload with the rules of a counter; what
    can still be wrong is the officer's preferred channel without its contact,
    refused as the counter's request validation refuses it (a rule of the
    whole request, hence the field `body`). The papers handed in are the
    officer's, or when the officer names none, those the family holds."""
    phone = command.phone
    if phone is None and row["phone_enc"] is not None:
        phone = cipher.decrypt(row["phone_enc"], context="phone")
    if unreachable_on(command.preferred_channel, phone, command.email):
        message_id, message_en = (
            m.format(channel=command.preferred_channel) for m in PREFERRED_CHANNEL_WITHOUT_CONTACT
        )
        raise Invalid.field("body", "preferred_channel_without_contact", message_id, message_en)
    return SubmitApplication(
        service_code=row["service_code"],
        documents=command.documents or papers_held,
        nik=cipher.decrypt(row["nik_enc"], context="nik"),
        full_name=cipher.decrypt(row["name_enc"], context="name"),
        phone=phone,
        email=command.email,
        channel="desa",
        pickup_point=command.pickup_point,
        language=command.language,
        preferred_channel=command.preferred_channel,
    )
