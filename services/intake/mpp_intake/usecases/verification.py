"""The verifier's decision on an application: verified (production may
start), rejected (the application ends, the NIK may apply again), or returned
for the correction of named items."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import asyncpg

from mpp_intake.domain.applications import (
    Decision,
    RejectReason,
    Status,
    can_decide,
    rejection_text,
)
from mpp_intake.domain.catalog import ServiceVersion
from mpp_intake.domain.papers import PaperCheck, items_to_correct
from mpp_intake.store import applications, catalog
from mpp_intake.usecases.application_views import (
    ApplicationPublic,
    public_answer,
    read_application,
)
from mpp_intake.usecases.history import finish_change
from mpp_shared import clock
from mpp_shared.auth import Principal
from mpp_shared.errors import Invalid, Language
from mpp_shared.events import EventData
from mpp_shared.events.schemas import (
    ApplicationRejectedV1,
    ApplicationReturnedV1,
    ApplicationVerifiedV1,
    MissingItem,
)
from mpp_shared.pii import FieldCipher
from mpp_shared.transitions import begin_transition


@dataclass(frozen=True)
class DecideApplication:
    """A decision checked for coherence (a rejection has reason codes, a
    verification no invalid check, a return names what to correct)."""

    decision: Decision
    checks: tuple[PaperCheck, ...] = ()
    reason_codes: tuple[RejectReason, ...] = ()
    reason: str | None = None
    items: tuple[str, ...] = ()  # to correct when returned; default: those checked invalid
    expected_version: int | None = None


async def decide(
    pool: asyncpg.Pool,
    *,
    cipher: FieldCipher,
    officer: Principal,
    application_id: uuid.UUID,
    command: DecideApplication,
    language: Language,
) -> ApplicationPublic:
    """Record the decision; refuses (Conflict) a decision the application's
    status does not allow or a stale version, (Invalid) checks or items naming
    no requirement of the service."""
    decision = command.decision
    now = clock.now()
    async with pool.acquire() as conn, conn.transaction():
        row = await begin_transition(
            conn,
            applications.APPLICATIONS,
            application_id,
            target=decision.value,
            expected_version=command.expected_version,
            allowed=lambda row: can_decide(Status(row["status"]), decision),
        )
        service = await catalog.service_version(conn, row["service_code"], row["catalog_version"])
        assert service is not None  # an application keeps its catalog version
        _refuse_unknown_requirements(service, command)
        returned_items = (
            items_to_correct(service, command.checks, command.items)
            if decision is Decision.RETURNED
            else []
        )
        status = Status(decision.value)
        await applications.record_decision(
            conn,
            application_id,
            status=status.value,
            reason=command.reason,
            checks=[_signed(check, officer, now) for check in command.checks],
            returned_items=returned_items,
            reason_codes=[r.value for r in command.reason_codes],
            active=status is not Status.REJECTED,
            at=now,
        )
        data = _event(row, service, command, returned_items, officer, cipher, now)
        await finish_change(
            conn,
            officer,
            application_id,
            action=f"application.{decision.value}",
            detail={
                "checks": [asdict(c) for c in command.checks],
                "reason_codes": [r.value for r in command.reason_codes],
                "items": [i["code"] for i in returned_items],
            },
            step=(status.value, data),
            pickup_point=row["pickup_point"],
            at=now,
        )
        return public_answer(await read_application(conn, application_id), language)


def _signed(check: PaperCheck, officer: Principal, at: datetime) -> dict[str, Any]:
    """A check as the application keeps it: who checked, and when."""
    return {**asdict(check), "checked_by": officer.subject, "at": at.isoformat()}


def _refuse_unknown_requirements(service: ServiceVersion, command: DecideApplication) -> None:
    named = [c.requirement for c in command.checks] + list(command.items)
    unknown = service.unknown_requirements(named)
    if unknown:
        raise Invalid.field(
            "checks",
            "unknown_requirement",
            f"persyaratan tidak dikenal untuk {service.name_id}: {', '.join(unknown)}",
            f"requirements unknown for {service.name_en}: {', '.join(unknown)}",
        )


def _event(
    row: asyncpg.Record,
    service: ServiceVersion,
    command: DecideApplication,
    returned_items: list[dict[str, Any]],
    officer: Principal,
    cipher: FieldCipher,
    at: datetime,
) -> EventData:
    """application.verified, .rejected or .returned."""
    common = {
        "application_id": row["id"],
        "tracking_code": row["tracking_code"],
        "service_code": service.code,
    }
    if command.decision is Decision.VERIFIED:
        # The handover check is a keyed hash of the NIK, never the NIK itself.
        nik = cipher.decrypt(row["nik_enc"], context="nik")
        return ApplicationVerifiedV1(
            **common,
            pickup_point=row["pickup_point"],
            verified_by=officer.subject,
            verified_at=at,
            expected_ready_at=row["expected_ready_at"],
            applicant_name_masked=row["name_masked"],
            nik_masked=row["nik_masked"],
            holder_nik_check=cipher.blind_index(nik, context="handover").hex(),
        )
    if command.decision is Decision.REJECTED:
        return ApplicationRejectedV1(
            **common,
            reason=rejection_text(command.reason_codes, command.reason),
            reason_codes=[r.value for r in command.reason_codes],
            rejected_by=officer.subject,
            rejected_at=at,
        )
    return ApplicationReturnedV1(
        **common,
        items=[MissingItem(**i) for i in returned_items],
        returned_by=officer.subject,
        returned_at=at,
    )
