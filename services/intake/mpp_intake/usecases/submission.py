"""Submitting an application, whichever counter it comes from.

`submit` does the whole submission inside the caller's transaction: the
catalog rules, the duplicate check, the promise, the row and its first
timeline step, the audit entry and the outbox event, all committed together
or not at all. `submit_application` is the counter's use case around it: its
own transaction and the Idempotency-Key. An outreach entry turned into an
application calls `submit` in its own transaction (`usecases.outreach_apply`),
so both refuse alike.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

import asyncpg
from opentelemetry import metrics

from mpp_intake.domain.applications import PreferredChannel, Status
from mpp_intake.domain.catalog import Channel, ServiceVersion, missing_as_json
from mpp_intake.domain.tracking_code import new_tracking_code
from mpp_intake.store import applications, catalog, pickup_points
from mpp_intake.store.applications import NewApplication
from mpp_intake.usecases.application_views import ApplicationPublic, public_answer
from mpp_intake.usecases.history import SOURCE
from mpp_intake.usecases.promise import expected_ready_at
from mpp_shared import audit, clock
from mpp_shared.auth import Principal
from mpp_shared.errors import Conflict, Invalid, Language
from mpp_shared.events import EventData, build_event
from mpp_shared.events.schemas import (
    ApplicationIncompleteV1,
    ApplicationSubmittedV1,
    MissingItem,
    UploadRef,
)
from mpp_shared.idempotency import Idempotency, StoredAnswer
from mpp_shared.messaging import outbox
from mpp_shared.pii import FieldCipher, mask_name, mask_nik, seal_for_notify
from mpp_shared.settings import ServiceSettings

_submitted = metrics.get_meter("mpp.intake").create_counter(
    "mpp.applications.submitted",
    unit="{application}",
    description="Applications taken, per service, channel, pickup point and counter",
)

# Where a service collected at none of the points nearest the resident goes.
DEFAULT_POINT = "MPP"


@dataclass(frozen=True)
class SubmitApplication:
    """An application as the counter takes it (values already checked: NIK,
    contacts, a preferred channel with its contact). Its fields are those of
    the request, so an Idempotency-Key retry is recognised by them."""

    service_code: str
    documents: tuple[str, ...]
    nik: str
    full_name: str
    phone: str | None
    email: str | None
    channel: Channel
    pickup_point: str | None
    language: Language
    preferred_channel: PreferredChannel | None


async def submit_application(
    pool: asyncpg.Pool,
    *,
    settings: ServiceSettings,
    cipher: FieldCipher,
    officer: Principal,
    command: SubmitApplication,
    language: Language,
    idempotency_key: str | None,
) -> ApplicationPublic | StoredAnswer:
    """Submit at a counter; a retry with the same Idempotency-Key gets the
    first answer back (`StoredAnswer`)."""
    async with pool.acquire() as conn, conn.transaction():
        once = Idempotency(conn, f"applications:{officer.subject}", idempotency_key)
        if (stored := await once.replay(asdict(command))) is not None:
            return stored
        answer = await submit(
            conn,
            settings=settings,
            cipher=cipher,
            officer=officer,
            command=command,
            language=language,
        )
        await once.remember(answer)
    count_submitted(answer, officer)
    return answer


def count_submitted(answer: ApplicationPublic, officer: Principal) -> None:
    """Count an application once its transaction committed (mpp.applications.submitted)."""
    _submitted.add(
        1,
        {
            "service_code": answer.service_code,
            "channel": answer.channel,
            "point": answer.pickup_point or "none",
            "counter": officer.counter or "none",
        },
    )


async def submit(
    conn: asyncpg.Connection,
    *,
    settings: ServiceSettings,
    cipher: FieldCipher,
    officer: Principal,
    command: SubmitApplication,
    language: Language,
    uploads: Sequence[UploadRef] = (),
) -> ApplicationPublic:
    """Submit inside the caller's transaction; the officer's answer. `uploads`:
    the papers uploaded online, named in the event by reference and hash.

    Refuses (Invalid) an unknown service, a channel the service is not offered
    through, unknown documents or a pickup point not offered; (Conflict) a
    resident who already has an active application for the service.
    """
    now = clock.now()
    service = await offered_service(conn, command)
    point = await pickup_point(conn, service, command)
    missing = service.missing(set(command.documents))
    status = Status.INCOMPLETE if missing else Status.SUBMITTED
    promised = None if missing else await expected_ready_at(conn, settings, service, point, now)
    new = _new_application(
        command,
        service,
        cipher,
        officer,
        status=status,
        pickup_point=point,
        missing=missing_as_json(missing),
        expected_ready_at=promised,
        at=now,
    )
    if len(cipher.index.keys) > 1:
        # While an index key rotates, an active application may still carry an
        # older index version, which the insert's ON CONFLICT cannot see.
        older = await applications.first_active_tracking_code(
            conn, cipher.blind_indexes(command.nik, context="nik"), service.code
        )
        if older is not None:
            raise duplicate(older, service)
    data = _event(new, service, command, sealed=_sealed_contact(command, settings), uploads=uploads)
    event = build_event(data, source=SOURCE, subject=str(new.id))
    # A second active application for the resident is caught by the insert
    # itself (ON CONFLICT on the one-active index), race-free and without a
    # query of its own.
    # Its audit entry and its event are written by the same statement, exactly
    # when it is.
    entry = audit.entry(
        officer,
        action="application.submit",
        target_type="application",
        target_id=str(new.id),
        detail={"service_code": service.code, "channel": command.channel, "status": new.status},
    )
    announced = outbox.row(event, topic=data.topic, key=str(new.id))
    if not await applications.insert_with_first_step(
        conn, new, first_event_id=event.id, along=(entry, announced)
    ):
        first = await applications.first_active_tracking_code(conn, [new.nik_index], service.code)
        raise duplicate(first or "?", service)
    return _answer(new, service, language)


# --- catalog rules --------------------------------------------------------------


async def offered_service(conn: asyncpg.Connection, command: SubmitApplication) -> ServiceVersion:
    """The current version of the service, offered through the command's channel
    and knowing every document handed in."""
    service = await catalog.current_service_cached(conn, command.service_code)
    if service is None:
        raise Invalid.field(
            "service_code",
            "unknown_service",
            f"layanan tidak dikenal: {command.service_code}",
            f"unknown service: {command.service_code}",
        )
    if command.channel not in service.channels:
        raise Invalid.field(
            "channel",
            "channel_not_offered",
            f"{service.name_id} tidak dilayani melalui {command.channel}",
            f"{service.name_en} is not offered through {command.channel}",
        )
    refuse_unknown_documents(service, command.documents)
    return service


def refuse_unknown_documents(service: ServiceVersion, documents: tuple[str, ...]) -> None:
    unknown = service.unknown_documents(documents)
    if unknown:
        raise Invalid.field(
            "documents",
            "unknown_document",
            f"dokumen tidak dikenal untuk {service.name_id}: {', '.join(unknown)}",
            f"documents unknown for {service.name_en}: {', '.join(unknown)}",
        )


async def pickup_point(
    conn: asyncpg.Connection, service: ServiceVersion, command: SubmitApplication
) -> str:
    """The point asked for, if the service is collected there; without one, the
    point nearest the resident's kecamatan, else the MPP, else the first."""
    offered = service.pickup_points
    if command.pickup_point:
        if command.pickup_point not in offered:
            raise Invalid.field(
                "pickup_point",
                "pickup_point_not_offered",
                f"{service.name_id} tidak dapat diambil di {command.pickup_point}; pilih: "
                + ", ".join(offered),
                f"{service.name_en} cannot be collected at {command.pickup_point}; choose: "
                + ", ".join(offered),
            )
        return command.pickup_point
    nearest = await pickup_points.nearest_point_cached(conn, command.nik[:6])
    if nearest in offered:
        return str(nearest)
    return DEFAULT_POINT if DEFAULT_POINT in offered else offered[0]


def duplicate(first: str, service: ServiceVersion) -> Conflict:
    return Conflict(
        "duplicate_application",
        f"Sudah ada permohonan {service.name_id} yang masih berjalan untuk NIK ini: {first}",
        f"There is already an active {service.name_en} application for this NIK: {first}",
        first_tracking_code=first,
    )


# --- what is written and answered -------------------------------------------------


def _sealed_contact(command: SubmitApplication, settings: ServiceSettings) -> str:
    """The contact details, readable by notify alone."""
    contact = {
        "name": command.full_name,
        "phone": command.phone,
        "email": command.email,
        "preferred_channel": command.preferred_channel,
        "language": command.language,
    }
    return seal_for_notify(
        {k: v for k, v in contact.items() if v},
        settings.notify_seal_public_key,
        settings.notify_seal_key_id,
    )


def _new_application(
    command: SubmitApplication,
    service: ServiceVersion,
    cipher: FieldCipher,
    officer: Principal,
    *,
    status: Status,
    pickup_point: str,
    missing: list[dict[str, str]],
    expected_ready_at: datetime | None,
    at: datetime,
) -> NewApplication:
    """The row to write: personal data encrypted, found by the NIK's blind index."""
    return NewApplication(
        id=uuid.uuid4(),
        tracking_code=new_tracking_code(),
        service_code=service.code,
        channel=command.channel,
        status=status.value,
        nik_enc=cipher.encrypt(command.nik, context="nik"),
        nik_index=cipher.blind_index(command.nik, context="nik"),
        nik_masked=mask_nik(command.nik),
        name_enc=cipher.encrypt(command.full_name, context="name"),
        name_masked=mask_name(command.full_name),
        phone_enc=cipher.encrypt(command.phone, context="phone") if command.phone else None,
        email_enc=cipher.encrypt(command.email, context="email") if command.email else None,
        language=command.language,
        preferred_channel=command.preferred_channel,
        pickup_point=pickup_point,
        submitted_by=officer.subject,
        counter=officer.counter,
        created_at=at,
        catalog_version=service.version,
        documents=sorted(set(command.documents)),
        missing=missing,
        domicile_region=command.nik[:6],
        expected_ready_at=expected_ready_at,
    )


def _event(
    new: NewApplication,
    service: ServiceVersion,
    command: SubmitApplication,
    *,
    sealed: str,
    uploads: Sequence[UploadRef] = (),
) -> EventData:
    """application.incomplete (saying what is missing) or application.submitted."""
    common = {
        "application_id": new.id,
        "tracking_code": new.tracking_code,
        "service_code": service.code,
        "channel": command.channel,
        "nik_masked": new.nik_masked,
        "applicant_name_masked": new.name_masked,
        "pickup_point": new.pickup_point,
        "language": command.language,
        "preferred_channel": command.preferred_channel,
        "contact_sealed": sealed,
        "catalog_version": service.version,
        "submitted_at": new.created_at,
        "service_name_id": service.name_id,
        "service_name_en": service.name_en,
        "uploads": list(uploads) or None,
    }
    if new.missing:
        return ApplicationIncompleteV1(**common, missing=[MissingItem(**m) for m in new.missing])
    return ApplicationSubmittedV1(
        **common, status=new.status, expected_ready_at=new.expected_ready_at
    )


def _answer(new: NewApplication, service: ServiceVersion, language: Language) -> ApplicationPublic:
    """The answer from what was just written, without reading it back."""
    written = {
        **new.as_dict(),
        "service_name_id": service.name_id,
        "service_name_en": service.name_en,
        "fee_idr": service.fee_idr,
        "progress": new.status,
        "returned_items": [],
        "reason_codes": [],
        "decision_reason": None,
        "version": 1,
    }
    return public_answer(written, language)
