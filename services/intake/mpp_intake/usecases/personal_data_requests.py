"""A resident's requests about their data (UU 27/2022 on Pelindungan Data
Pribadi), run by a supervisor at intake, where the NIK is known.

Intake finds its own records by the blind index of the NIK (under every
configured index key), builds the `Subject` the other services know the
resident by (the phones and e-mails in those records, the application ids
and tracking codes, intake's NIK check as documents keeps it), and asks
documents, complaints and notify for their part by the documented internal
call (POST EXPORT_PATH / CORRECTION_PATH / ERASURE_PATH, mpp_shared.personal_data)
with the supervisor's own token, each within PERSONAL_DATA_CALL_TIMEOUT and
all at once. A service that does not answer is named in the answer ("coba
lagi sebentar") instead of failing the whole request.

A correction or an erasure changes intake's own records only once every
other service has done its part: the resident's old contacts stay at intake
until then, so the same request run again finds what is left elsewhere.

The request is recorded (`personal_data_requests`: who, when, why, what each
service did; never the resident) and audited, here and in every service that
acted. The NIK travels only in the body of the supervisor's POST: never in a
URL, a log line, a span or an event."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import asyncpg
import httpx
from pydantic import BaseModel, ValidationError

from mpp_intake.settings import IntakeSettings
from mpp_intake.store import personal_data
from mpp_intake.usecases import personal_data_erasure
from mpp_shared import audit, clock, wording
from mpp_shared.auth import Principal
from mpp_shared.errors import Language
from mpp_shared.personal_data import (
    CORRECTION_PATH,
    ERASURE_PATH,
    EXPORT_PATH,
    CorrectionRequest,
    Record,
    RequestKind,
    ServiceCorrection,
    ServiceErasure,
    ServiceExport,
    Subject,
    SubjectRequest,
)
from mpp_shared.pii import FieldCipher, mask_phone
from mpp_shared.subject_records import record

log = logging.getLogger(__name__)

SERVICE = "intake"
OTHERS = ("documents", "complaints", "notify")
PATHS: dict[str, str] = {
    "export": EXPORT_PATH,
    "correction": CORRECTION_PATH,
    "erasure": ERASURE_PATH,
}
ANSWERS: dict[str, type[ServiceExport] | type[ServiceCorrection] | type[ServiceErasure]] = {
    "export": ServiceExport,
    "correction": ServiceCorrection,
    "erasure": ServiceErasure,
}
TARGET = "personal_data_request"
Status = Literal["done", "unavailable", "deferred"]

UNAVAILABLE = (
    "Layanan {service} tidak menjawab: coba lagi sebentar",
    "The {service} service did not answer: try again in a moment",
)
DEFERRED = (
    "Data di intake diubah setelah semua layanan menjawab: coba lagi sebentar",
    "Intake changes its own records once every service has answered: try again in a moment",
)


@dataclass(frozen=True)
class DataRequest:
    """What the supervisor asked (checked and normalised at the edge)."""

    kind: RequestKind
    nik: str
    reason: str
    new_phone: str | None = None
    new_email: str | None = None


class ServiceOutcome(BaseModel):
    service: str
    status: Status
    message: str | None = None


class RequestAnswer(BaseModel):
    """Every service's part of one request, gathered."""

    id: uuid.UUID
    kind: RequestKind
    requested_by: str
    requested_at: datetime
    complete: bool
    outcomes: list[ServiceOutcome]
    exports: list[ServiceExport] = []
    corrections: list[ServiceCorrection] = []
    erasures: list[ServiceErasure] = []


class RequestSummary(BaseModel):
    """A request as the list shows it: no personal data."""

    id: uuid.UUID
    kind: RequestKind
    requested_by: str
    counter: str | None
    requested_at: datetime
    reason: str
    complete: bool
    outcome: dict[str, Any]


class RequestList(BaseModel):
    items: list[RequestSummary]
    total: int
    page: int
    page_size: int


@dataclass
class ServiceCalls:
    """The internal calls to the other services' personal-data routes."""

    urls: Mapping[str, str]
    timeout: float
    client: httpx.AsyncClient | None = field(default=None)

    @classmethod
    def from_settings(cls, settings: Any) -> ServiceCalls:
        return cls(
            urls={s: str(getattr(settings, f"{s}_internal_url")).rstrip("/") for s in OTHERS},
            timeout=float(settings.personal_data_call_timeout),
        )

    async def post(
        self, service: str, path: str, body: BaseModel, authorization: str
    ) -> dict[str, Any] | None:
        """The service's answer, or None when it did not answer in time or
        answered with an error (logged by service and status, nothing more)."""
        url = f"{self.urls[service]}{path}"
        kwargs: dict[str, Any] = {
            "content": body.model_dump_json(),
            "headers": {"Authorization": authorization, "Content-Type": "application/json"},
            "timeout": self.timeout,
        }
        try:
            if self.client is not None:
                response = await self.client.post(url, **kwargs)
            else:
                async with httpx.AsyncClient() as client:
                    response = await client.post(url, **kwargs)
        except httpx.HTTPError as exc:
            log.warning("personal-data call to %s failed: %s", service, type(exc).__name__)
            return None
        if not response.is_success:
            log.warning("personal-data call to %s answered %s", service, response.status_code)
            return None
        try:
            found: dict[str, Any] = response.json()
        except ValueError:
            log.warning("personal-data call to %s answered no JSON", service)
            return None
        return found


def _unique(values: Sequence[str | None]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def _opened(cipher: FieldCipher, row: Mapping[str, Any]) -> dict[str, str]:
    """The row's encrypted columns in clear (`<name>_enc` is sealed with context `<name>`)."""
    return {
        column[: -len("_enc")]: cipher.decrypt(bytes(value), context=column[: -len("_enc")])
        for column, value in row.items()
        if column.endswith("_enc") and value is not None
    }


def subject_of(
    cipher: FieldCipher, nik: str, found: Mapping[str, Sequence[asyncpg.Record]]
) -> Subject:
    """How the other services know the resident."""
    with_contacts = [
        _opened(cipher, row)
        for kind in ("application", "outreach_entry", "signin_code", "citizen_session")
        for row in found[kind]
    ]
    applications = found["application"]
    return Subject(
        phones=_unique([c.get("phone") for c in with_contacts]),
        emails=_unique([(c.get("email") or "").lower() for c in with_contacts]),
        application_ids=[a["id"] for a in applications],
        tracking_codes=_unique([a["tracking_code"] for a in applications]),
        nik_checks=[check.hex() for check in cipher.blind_indexes(nik, context="handover")],
    )


def own_records(cipher: FieldCipher, found: Mapping[str, Sequence[asyncpg.Record]]) -> list[Record]:
    at_column = {
        "application_step": "at",
        "uploaded_paper": "uploaded_at",
        "population_report": "reported_at",
    }
    return [
        record(kind, row, clear=_opened(cipher, row), at_column=at_column.get(kind, "created_at"))
        for kind, rows in found.items()
        for row in rows
    ]


async def run_request(
    pool: asyncpg.Pool,
    *,
    settings: IntakeSettings,
    cipher: FieldCipher,
    calls: ServiceCalls,
    officer: Principal,
    authorization: str,
    command: DataRequest,
    language: Language,
) -> RequestAnswer:
    """Run one request across the four services and record it."""
    request_id = uuid.uuid4()
    at = clock.now()
    nik_indexes = cipher.blind_indexes(command.nik, context="nik")
    async with pool.acquire() as conn:
        found = await personal_data.found_by_nik(conn, nik_indexes)
    subject = subject_of(cipher, command.nik, found)
    body: SubjectRequest = (
        CorrectionRequest(
            request_id=request_id,
            reason=command.reason,
            subject=subject,
            new_phone=command.new_phone,
            new_email=command.new_email,
        )
        if command.kind == "correction"
        else SubjectRequest(request_id=request_id, reason=command.reason, subject=subject)
    )
    answers = await asyncio.gather(
        *(calls.post(s, PATHS[command.kind], body, authorization) for s in OTHERS)
    )
    parts: list[ServiceExport | ServiceCorrection | ServiceErasure] = []
    outcomes: list[ServiceOutcome] = []
    for service, answer in zip(OTHERS, answers, strict=True):
        part = _parsed(command.kind, answer)
        if part is None:
            outcomes.append(_unavailable(service, language))
        else:
            parts.append(part)
            outcomes.append(ServiceOutcome(service=service, status="done"))
    everyone = len(parts) == len(OTHERS)

    own: ServiceExport | ServiceCorrection | ServiceErasure | None = None
    if command.kind == "export":
        own = ServiceExport(service=SERVICE, records=own_records(cipher, found))
    elif command.kind == "erasure" and everyone:
        own = await personal_data_erasure.erase_subject(
            pool,
            settings=settings,
            cipher=cipher,
            officer=officer,
            request_id=request_id,
            nik=command.nik,
            reason=command.reason,
            language=language,
        )
    async with pool.acquire() as conn, conn.transaction():
        if command.kind == "correction" and everyone:
            own = await _correct_own(conn, cipher, nik_indexes, command, at)
        if own is None:
            outcomes.insert(0, _deferred(language))
        else:
            parts.insert(0, own)
            outcomes.insert(0, ServiceOutcome(service=SERVICE, status="done"))
        complete = all(o.status == "done" for o in outcomes)
        by_service = {p.service: p for p in parts}
        outcome = {
            o.service: {"status": o.status, "counts": _counts(by_service.get(o.service))}
            for o in outcomes
        }
        await personal_data.insert_request(
            conn,
            request_id=request_id,
            kind=command.kind,
            requested_by=officer.subject,
            counter=officer.counter,
            requested_at=at,
            reason=command.reason,
            complete=complete,
            outcome=outcome,
        )
        await audit.record(
            conn,
            officer,
            action=f"personal_data.{command.kind}",
            target_type=TARGET,
            target_id=str(request_id),
            detail={"complete": complete, "outcome": outcome},
        )
    return RequestAnswer(
        id=request_id,
        kind=command.kind,
        requested_by=officer.subject,
        requested_at=at,
        complete=complete,
        outcomes=outcomes,
        exports=[p for p in parts if isinstance(p, ServiceExport)],
        corrections=[p for p in parts if isinstance(p, ServiceCorrection)],
        erasures=[p for p in parts if isinstance(p, ServiceErasure)],
    )


def _parsed(
    kind: str, answer: dict[str, Any] | None
) -> ServiceExport | ServiceCorrection | ServiceErasure | None:
    if answer is None:
        return None
    try:
        return ANSWERS[kind].model_validate(answer)
    except ValidationError:
        log.warning("a personal-data answer did not match its contract (%s)", kind)
        return None


def _unavailable(service: str, language: Language) -> ServiceOutcome:
    text = wording.pick(UNAVAILABLE, language).format(service=service)
    return ServiceOutcome(service=service, status="unavailable", message=text)


def _deferred(language: Language) -> ServiceOutcome:
    return ServiceOutcome(
        service=SERVICE, status="deferred", message=wording.pick(DEFERRED, language)
    )


def _counts(part: ServiceExport | ServiceCorrection | ServiceErasure | None) -> dict[str, int]:
    """Counts per kind, for the request's record and the audit (never a value)."""
    if part is None:
        return {}
    if isinstance(part, ServiceExport):
        counts: dict[str, int] = {}
        for r in part.records:
            counts[r.kind] = counts.get(r.kind, 0) + 1
        return counts
    if isinstance(part, ServiceCorrection):
        return dict(part.corrected)
    return {**part.erased, "kept": len(part.kept)}


async def _correct_own(
    conn: asyncpg.Connection,
    cipher: FieldCipher,
    nik_indexes: Sequence[bytes],
    command: DataRequest,
    at: datetime,
) -> ServiceCorrection:
    """The new phone / e-mail in the resident's unfinished applications,
    outreach entries and village reports (as their applicant), encrypted (no
    index is kept of them at intake)."""
    phone_enc = cipher.encrypt(command.new_phone, context="phone") if command.new_phone else None
    email_enc = cipher.encrypt(command.new_email, context="email") if command.new_email else None
    applications = await personal_data.correct_applications(
        conn, nik_indexes, phone_enc=phone_enc, email_enc=email_enc, at=at
    )
    entries: list[uuid.UUID] = []
    reports: list[uuid.UUID] = []
    if command.new_phone and phone_enc is not None:
        entries = await personal_data.correct_outreach(
            conn,
            nik_indexes,
            phone_enc=cipher.encrypt(command.new_phone, context="phone"),
            phone_masked=mask_phone(command.new_phone),
            at=at,
        )
        reports = await personal_data.correct_population(
            conn,
            nik_indexes,
            phone_enc=cipher.encrypt(command.new_phone, context="phone"),
            phone_masked=mask_phone(command.new_phone),
        )
    return ServiceCorrection(
        service=SERVICE,
        corrected={
            "application": len(applications),
            "outreach_entry": len(entries),
            "population_report": len(reports),
        },
    )


async def list_requests(
    pool: asyncpg.Pool, *, kind: RequestKind | None, page: int, page_size: int
) -> RequestList:
    rows = await personal_data.list_requests(pool, kind, page_size, (page - 1) * page_size)
    return RequestList(
        items=[RequestSummary(**{k: r[k] for k in RequestSummary.model_fields}) for r in rows],
        total=rows[0]["total"] if rows else 0,
        page=page,
        page_size=page_size,
    )
