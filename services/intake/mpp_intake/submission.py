"""Submitting an application, whichever counter it comes from.

`submit` does the whole submission inside the caller's transaction: the
catalog rules, the duplicate check, the promise, the row and its first
timeline step, the audit entry and the outbox event. The callers (the
applications route, an outreach entry turned into an application) keep what
is theirs: the Idempotency-Key, and any change of their own in the same
transaction. Refusals are `ApiError`s, the same from every caller.

The officer's answer for an application (`public_answer`, `fetch`,
`next_step`) lives here too, so every route answers alike.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import asyncpg

from mpp_intake import catalog_store
from mpp_intake.api.schemas import ApplicationCreate, ApplicationPublic, MissingRequirement
from mpp_intake.domain.applications import Status
from mpp_intake.domain.catalog import ServiceVersion, missing_as_json
from mpp_intake.domain.tracking_code import new_tracking_code
from mpp_intake.promise import expected_ready_at
from mpp_shared import audit
from mpp_shared.auth import Principal
from mpp_shared.events import EventData, build_event
from mpp_shared.events.schemas import (
    ApplicationIncompleteV1,
    ApplicationSubmittedV1,
    MissingItem,
)
from mpp_shared.messaging.outbox import enqueue
from mpp_shared.pii import FieldCipher, mask_name, mask_nik, seal_for_notify
from mpp_shared.settings import ServiceSettings
from mpp_shared.web import ApiError, Language

SOURCE = "/mpp/intake"

SELECT = """
SELECT a.*, v.name_id AS service_name_id, v.name_en AS service_name_en, v.fee_idr
FROM applications a
JOIN catalog_service_versions v ON v.code = a.service_code AND v.version = a.catalog_version
"""
# The application and the first step of its timeline, in one round trip. A
# second active application for the same NIK and service inserts nothing
# (no error, so the caller's transaction stays usable to say which one).
_INSERT = """
WITH application AS (
    INSERT INTO applications (
        id, tracking_code, service_code, channel, status, progress,
        nik_enc, nik_index, nik_masked, name_enc, name_masked, phone_enc, email_enc,
        language, preferred_channel, pickup_point, submitted_by, counter, created_at, updated_at,
        catalog_version, documents, missing, domicile_region, expected_ready_at
    ) VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10, $11, $12,
              $13, $14, $15, $16, $17, $18, $18, $19, $20, $21, $22, $23)
    ON CONFLICT (nik_index, service_code) WHERE active DO NOTHING
    RETURNING id
)
INSERT INTO application_timeline (application_id, step, at, pickup_point, source_event_id)
SELECT id, $5, $18, $15, $24 FROM application
"""
_FIRST_ACTIVE = (
    "SELECT tracking_code FROM applications WHERE nik_index = $1 AND service_code = $2 AND active"
)


# --- answers ------------------------------------------------------------------


def named_items(items: list[dict[str, Any]], language: str) -> list[MissingRequirement]:
    return [
        MissingRequirement(
            code=i["code"],
            name=i["name_en"] if language == "en" else i["name_id"],
            note=i.get("note"),
        )
        for i in items
    ]


def next_step(
    status: str, progress: str, missing: list[str], returned: list[str], language: str
) -> str:
    """One sentence telling the citizen (through the officer) what happens next."""
    en = language == "en"
    if status == Status.INCOMPLETE:
        listing = "; ".join(missing)
        return (
            f"Bring the missing papers: {listing}"
            if en
            else f"Lengkapi persyaratan berikut: {listing}"
        )
    if status == Status.RETURNED:
        listing = "; ".join(returned)
        return (
            f"Correct and hand in again: {listing}"
            if en
            else f"Perbaiki lalu serahkan kembali: {listing}"
        )
    if status == Status.SUBMITTED:
        return "Waiting for verification of the papers" if en else "Menunggu verifikasi berkas"
    if status == Status.REJECTED:
        return (
            "The application was rejected; see the reason"
            if en
            else "Permohonan ditolak; lihat alasannya"
        )
    steps = {
        "ready_for_pickup": (
            "Ready: collect it at the pickup point with your KTP-el",
            "Siap diambil: bawa KTP-el asli ke tempat pengambilan",
        ),
        "uncollected": (
            "Not collected in time: the document is now kept at the Disdukcapil office; "
            "collect it there with your KTP-el",
            "Tidak diambil sampai batas waktu: dokumen kini disimpan di kantor Disdukcapil; "
            "ambil di sana dengan membawa KTP-el asli",
        ),
        "picked_up": ("Handed over", "Sudah diserahkan"),
    }
    steps["on_hold"] = (
        "Production is held; the reason is shown and we will tell you when it resumes",
        "Proses tertunda; alasannya tertera dan kami kabari saat dilanjutkan",
    )
    steps["cancelled"] = (
        "The document was cancelled; please ask at the counter",
        "Dokumen dibatalkan; silakan tanyakan di loket",
    )
    default = (
        "Being produced; we will tell you when it is ready",
        "Sedang diproses; kami kabari saat siap",
    )
    pair = steps.get(progress, default)
    return pair[0] if en else pair[1]


def public_answer(row: Mapping[str, Any], language: str) -> ApplicationPublic:
    """The officer's (masked) view of an application row read with `SELECT`."""
    missing = named_items(row["missing"], language)
    returned = named_items(row["returned_items"], language)
    return ApplicationPublic(
        id=row["id"],
        tracking_code=row["tracking_code"],
        service_code=row["service_code"],
        service_name=row["service_name_en"] if language == "en" else row["service_name_id"],
        catalog_version=row["catalog_version"],
        fee_idr=row["fee_idr"],
        channel=row["channel"],
        status=row["status"],
        progress=row["progress"],
        nik_masked=row["nik_masked"],
        applicant_name_masked=row["name_masked"],
        pickup_point=row["pickup_point"],
        documents=list(row["documents"]),
        missing_requirements=missing,
        returned_items=returned,
        reason_codes=list(row["reason_codes"]),
        decision_reason=row["decision_reason"],
        expected_ready_at=row["expected_ready_at"],
        next_step=next_step(
            row["status"],
            row["progress"],
            [m.name for m in missing],
            [r.name for r in returned],
            language,
        ),
        version=row["version"],
        submitted_at=row["created_at"],
    )


async def fetch(
    conn: asyncpg.Connection | asyncpg.Pool, application_id: uuid.UUID, lock: bool = False
) -> asyncpg.Record:
    row = await conn.fetchrow(
        SELECT + " WHERE a.id = $1" + (" FOR UPDATE OF a" if lock else ""), application_id
    )
    if row is None:
        raise ApiError(404, "not_found", "Permohonan tidak ditemukan", "Application not found")
    return row


# --- catalog rules --------------------------------------------------------------


def unknown_documents(service: ServiceVersion, documents: list[str]) -> None:
    unknown = sorted(set(documents) - service.known_document_codes())
    if unknown:
        raise ApiError.invalid(
            "documents",
            "unknown_document",
            f"dokumen tidak dikenal untuk {service.name_id}: {', '.join(unknown)}",
            f"documents unknown for {service.name_en}: {', '.join(unknown)}",
        )


async def choose_point(
    conn: asyncpg.Connection, service: ServiceVersion, body: ApplicationCreate
) -> str:
    if body.pickup_point:
        if body.pickup_point not in service.pickup_points:
            raise ApiError.invalid(
                "pickup_point",
                "pickup_point_not_offered",
                f"{service.name_id} tidak dapat diambil di {body.pickup_point}; pilih: "
                + ", ".join(service.pickup_points),
                f"{service.name_en} cannot be collected at {body.pickup_point}; choose: "
                + ", ".join(service.pickup_points),
            )
        return body.pickup_point
    nearest = await catalog_store.nearest_point_cached(conn, body.nik[:6])
    if nearest in service.pickup_points:
        return str(nearest)
    return "MPP" if "MPP" in service.pickup_points else service.pickup_points[0]


def duplicate(first: str, service: ServiceVersion) -> ApiError:
    return ApiError(
        409,
        "duplicate_application",
        f"Sudah ada permohonan {service.name_id} yang masih berjalan untuk NIK ini: {first}",
        f"There is already an active {service.name_en} application for this NIK: {first}",
        {"first_tracking_code": first},
    )


# --- submission ---------------------------------------------------------------


async def submit(
    conn: asyncpg.Connection,
    *,
    settings: ServiceSettings,
    cipher: FieldCipher,
    officer: Principal,
    body: ApplicationCreate,
    language: Language,
) -> ApplicationPublic:
    """Submit `body` inside the caller's transaction and return the officer's answer.

    Raises ApiError: 422 for an unknown service, a channel the service is not
    offered through, unknown documents or a pickup point not offered; 409 when
    the resident already has an active application for the service.
    """
    now = datetime.now(UTC)
    application_id = uuid.uuid4()
    tracking_code = new_tracking_code()
    nik_index = cipher.blind_index(body.nik, context="nik")
    contact = {
        k: v
        for k, v in {
            "name": body.full_name,
            "phone": body.phone,
            "email": body.email,
            "preferred_channel": body.preferred_channel,
            "language": body.language,
        }.items()
        if v
    }
    service = await catalog_store.current_service_cached(conn, body.service_code)
    if service is None:
        raise ApiError.invalid(
            "service_code",
            "unknown_service",
            f"layanan tidak dikenal: {body.service_code}",
            f"unknown service: {body.service_code}",
        )
    if body.channel not in service.channels:
        raise ApiError.invalid(
            "channel",
            "channel_not_offered",
            f"{service.name_id} tidak dilayani melalui {body.channel}",
            f"{service.name_en} is not offered through {body.channel}",
        )
    unknown_documents(service, body.documents)
    # A second active application for the resident is caught by the insert
    # itself (ON CONFLICT on the one-active index), race-free and without a
    # query of its own.
    point = await choose_point(conn, service, body)
    missing = service.missing(set(body.documents))
    status = Status.INCOMPLETE if missing else Status.SUBMITTED
    promised = None if missing else await expected_ready_at(conn, settings, service, point, now)
    sealed = seal_for_notify(contact, settings.notify_seal_public_key)
    data: EventData
    if missing:
        data = ApplicationIncompleteV1(
            application_id=application_id,
            tracking_code=tracking_code,
            service_code=service.code,
            channel=body.channel,
            nik_masked=mask_nik(body.nik),
            applicant_name_masked=mask_name(body.full_name),
            pickup_point=point,
            language=body.language,
            preferred_channel=body.preferred_channel,
            contact_sealed=sealed,
            catalog_version=service.version,
            missing=[MissingItem(**m) for m in missing_as_json(missing)],
            submitted_at=now,
            service_name_id=service.name_id,
            service_name_en=service.name_en,
        )
    else:
        data = ApplicationSubmittedV1(
            application_id=application_id,
            tracking_code=tracking_code,
            service_code=service.code,
            channel=body.channel,
            status=status,
            nik_masked=mask_nik(body.nik),
            applicant_name_masked=mask_name(body.full_name),
            pickup_point=point,
            language=body.language,
            preferred_channel=body.preferred_channel,
            contact_sealed=sealed,
            submitted_at=now,
            catalog_version=service.version,
            expected_ready_at=promised,
            service_name_id=service.name_id,
            service_name_en=service.name_en,
        )
    event = build_event(data, source=SOURCE, subject=str(application_id))
    inserted = await conn.execute(
        _INSERT,
        application_id,
        tracking_code,
        service.code,
        body.channel,
        status.value,
        cipher.encrypt(body.nik, context="nik"),
        nik_index,
        mask_nik(body.nik),
        cipher.encrypt(body.full_name, context="name"),
        mask_name(body.full_name),
        cipher.encrypt(body.phone, context="phone") if body.phone else None,
        cipher.encrypt(body.email, context="email") if body.email else None,
        body.language,
        body.preferred_channel,
        point,
        officer.subject,
        officer.counter,
        now,
        service.version,
        sorted(set(body.documents)),
        missing_as_json(missing),
        body.nik[:6],
        promised,
        event.id,
    )
    if inserted == "INSERT 0 0":
        # A concurrent submission for the same NIK and service committed first.
        first = await conn.fetchval(_FIRST_ACTIVE, nik_index, service.code)
        raise duplicate(first or "?", service)
    await audit.record(
        conn,
        officer,
        action="application.submit",
        target_type="application",
        target_id=str(application_id),
        detail={"service_code": service.code, "channel": body.channel, "status": status.value},
    )
    await enqueue(conn, event, topic=data.topic, key=str(application_id))
    # The answer from what was just written, without reading it back.
    written = {
        "id": application_id,
        "tracking_code": tracking_code,
        "service_code": service.code,
        "service_name_id": service.name_id,
        "service_name_en": service.name_en,
        "catalog_version": service.version,
        "fee_idr": service.fee_idr,
        "channel": body.channel,
        "status": status.value,
        "progress": status.value,
        "nik_masked": mask_nik(body.nik),
        "name_masked": mask_name(body.full_name),
        "pickup_point": point,
        "documents": sorted(set(body.documents)),
        "missing": missing_as_json(missing),
        "returned_items": [],
        "reason_codes": [],
        "decision_reason": None,
        "expected_ready_at": promised,
        "version": 1,
        "created_at": now,
    }
    return public_answer(written, language)
