"""The receipt (tanda terima) the counter hands the citizen: the tracking code
and where it leads, the papers handed in and those still missing (named as
the counter names them), the promise, the pickup point, the fee (Rp 0) and
where to report a request for money, the counter, never a NIK or a name.

Every print is audited: the first as `application.receipt_printed`, each
later one as `application.receipt_reprinted` with its number, which is
counted from the trail itself while the application's row is locked (two
officers printing at once get two different numbers). How the receipt looks
(thermal, A4, PDF) is the API's business; this use case gives its content.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg

from mpp_intake.domain.catalog import PickupPoint
from mpp_intake.domain.guidance import next_step
from mpp_intake.store import applications, catalog, pickup_points
from mpp_intake.usecases.application_views import MissingRequirement, named_items
from mpp_shared import audit, clock
from mpp_shared.auth import Principal
from mpp_shared.errors import Language
from mpp_shared.settings import ServiceSettings

ReceiptFormat = Literal["thermal", "a4", "pdf"]
PRINTED = "application.receipt_printed"
REPRINTED = "application.receipt_reprinted"
# The complaint category of a request for money the citizen should not pay.
PUNGLI = "pungli"


@dataclass(frozen=True)
class PrintReceipt:
    application_id: uuid.UUID
    format: ReceiptFormat
    language: Language


@dataclass(frozen=True)
class Receipt:
    """What a receipt says, in the reader's language; no NIK, name or contact."""

    application_id: uuid.UUID
    language: Language
    tracking_code: str
    tracking_url: str  # the public tracking page the QR code opens
    service_code: str
    service_name: str
    status: str
    progress: str
    channel: str
    counter: str | None  # the counter the application was taken at
    submitted_at: datetime
    papers_handed_in: tuple[str, ...]  # names
    papers_missing: tuple[MissingRequirement, ...]  # missing, then to correct
    next_step: str
    expected_ready_at: datetime | None
    sla_amount: int
    sla_unit: str
    pickup_point: PickupPoint | None
    fee_idr: int
    complaint_url: str  # the public complaint form
    complaint_category: str  # the category to choose for a request for money
    printed_at: datetime
    print_number: int  # 1 for the first print

    @property
    def reprinted(self) -> bool:
        return self.print_number > 1


async def print_receipt(
    pool: asyncpg.Pool,
    *,
    settings: ServiceSettings,
    officer: Principal,
    command: PrintReceipt,
) -> Receipt:
    """The receipt of the application; counts and audits the print. Refuses
    (NotFound) an unknown application."""
    language = command.language
    async with pool.acquire() as conn, conn.transaction():
        row = await applications.lock(conn, command.application_id)
        if row is None:
            raise applications.APPLICATIONS.not_found()
        number = 1 + await applications.audited(conn, row["id"], [PRINTED, REPRINTED])
        service = await catalog.service_version(conn, row["service_code"], row["catalog_version"])
        point = (
            await pickup_points.pickup_point(conn, row["pickup_point"])
            if row["pickup_point"]
            else None
        )
        await audit.record(
            conn,
            officer,
            action=PRINTED if number == 1 else REPRINTED,
            target_type="application",
            target_id=str(command.application_id),
            detail={
                "print_count": number,
                "format": command.format,
                "tracking_code": row["tracking_code"],
            },
        )
    missing = named_items(row["missing"], language)
    returned = named_items(row["returned_items"], language)
    en = language == "en"
    intake_url = settings.public_intake_url.rstrip("/")
    return Receipt(
        application_id=row["id"],
        language=language,
        tracking_code=row["tracking_code"],
        tracking_url=f"{intake_url}/track/{row['tracking_code']}",
        service_code=row["service_code"],
        service_name=row["service_name_en"] if en else row["service_name_id"],
        status=row["status"],
        progress=row["progress"],
        channel=row["channel"],
        counter=row["counter"],
        submitted_at=row["created_at"],
        papers_handed_in=tuple(
            service.paper_name(code, language) if service else code for code in row["documents"]
        ),
        papers_missing=tuple(missing + returned),
        next_step=next_step(
            row["status"],
            row["progress"],
            [m.name for m in missing],
            [r.name for r in returned],
            language,
        ),
        expected_ready_at=row["expected_ready_at"],
        sla_amount=service.sla_amount if service else 0,
        sla_unit=service.sla_unit if service else "working_days",
        pickup_point=point,
        fee_idr=row["fee_idr"],
        complaint_url=f"{settings.public_complaints_url.rstrip('/')}/complaints/new",
        complaint_category=PUNGLI,
        printed_at=clock.now(),
        print_number=number,
    )
