"""Handover at the pickup point: who may take a finished document away.

A document goes only to
- its holder, proven by the NIK the collector shows: its keyed hash (context
  "handover", the key shared with intake) must equal the job's
  `holder_nik_check`, which intake computed from the NIK at submission; or
- a representative (wakil) recorded with full name, NIK, relationship to the
  holder and the reference of the letter of authority (surat kuasa). Only the
  masked name and NIK are kept.

Jobs made before the check existed have no `holder_nik_check`: they go to a
representative as above, or to a collector NIK without comparison when the
officer holds the supervisor role (or admin), as a recorded override.

A wrong NIK, or a NIK offered for a job without the check by an officer who is
not a supervisor, is a refusal: the use case records it in the audit trail. A
missing or doubled choice of path is an ordinary invalid request.

The clear NIK never leaves this module's callers' memory: nothing here logs
it, stores it or puts it in an error.

The pickup board's arithmetic (days waiting, overdue) is here too.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from mpp_shared.pii import mask_name, mask_nik

NIK_PATTERN = r"^[0-9]{16}$"
# The blind-index context intake uses for ApplicationVerifiedV1.holder_nik_check.
HANDOVER_CONTEXT = "handover"
# Pickup point codes as intake names them (MPP, KEC-PARE, ...).
POINT_CODE_PATTERN = r"^[A-Z][A-Z0-9-]{1,30}$"

_NIK = re.compile(NIK_PATTERN)
_POINT_CODE = re.compile(POINT_CODE_PATTERN)


class CollectedBy(StrEnum):
    HOLDER = "holder"
    REPRESENTATIVE = "representative"


class HandoverPath(StrEnum):
    HOLDER_NIK = "holder_nik"  # the collector's NIK matched the holder's
    REPRESENTATIVE = "representative"  # a wakil with a surat kuasa
    SUPERVISOR_OVERRIDE = "supervisor_override"  # old job without a check, supervisor's word


@dataclass
class HandoverError(Exception):
    """Why a handover is not allowed, about one field, in both languages.

    `refused` marks a decision about the person at the desk (recorded in the
    audit trail); otherwise the request itself is incomplete.
    """

    field_name: str
    type: str
    message_id: str
    message_en: str
    refused: bool = False
    detail: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.field_name}: {self.type}"


@dataclass(frozen=True)
class RepresentativeInfo:
    full_name: str
    nik: str
    relationship: str
    authority_letter_ref: str

    def __repr__(self) -> str:  # never show the clear NIK or name in a traceback or log
        return (
            f"RepresentativeInfo(masked={mask_representative(self.full_name, self.nik)!r}, "
            f"relationship={self.relationship!r}, "
            f"authority_letter_ref={self.authority_letter_ref!r})"
        )


@dataclass(frozen=True)
class Handover:
    path: HandoverPath
    collected_by: CollectedBy
    representative_masked: str | None = None
    relationship: str | None = None
    authority_letter_ref: str | None = None

    def audit_detail(self) -> dict[str, Any]:
        """What the audit trail keeps of the handover (masked values only)."""
        detail: dict[str, Any] = {
            "handover_path": self.path.value,
            "collected_by": self.collected_by.value,
        }
        if self.collected_by is CollectedBy.REPRESENTATIVE:
            detail |= {
                "representative_masked": self.representative_masked,
                "relationship": self.relationship,
                "authority_letter_ref": self.authority_letter_ref,
            }
        return detail


def is_nik(value: str) -> bool:
    return bool(_NIK.match(value))


def is_point_code(value: str) -> bool:
    return bool(_POINT_CODE.match(value))


def mask_representative(full_name: str, nik: str) -> str:
    """ "Ahmad Fauzi", 3506041203850002 -> "A*** F*** 3506**********02"."""
    return f"{mask_name(full_name)} {mask_nik(nik)}".strip()


def collector_required() -> HandoverError:
    return HandoverError(
        "collector_nik",
        "collector_required",
        "NIK pengambil wajib diisi; bila diwakilkan, isi data wakil beserta nomor surat kuasanya",
        "the collector's NIK is required; for a representative, give the representative's "
        "details and the letter of authority's reference",
    )


def check_request(*, collector_nik: str | None, representative: object | None) -> HandoverPath:
    """Which path a handover request takes, before the job is read."""
    if collector_nik and representative is not None:
        raise HandoverError(
            "representative",
            "collector_ambiguous",
            "isi NIK pengambil atau data wakil, tidak keduanya",
            "give the collector's NIK or a representative, not both",
        )
    if representative is not None:
        return HandoverPath.REPRESENTATIVE
    if not collector_nik:
        raise collector_required()
    if not is_nik(collector_nik):
        raise HandoverError(
            "collector_nik",
            "string_pattern_mismatch",
            "NIK harus 16 angka",
            "a NIK has 16 digits",
        )
    return HandoverPath.HOLDER_NIK


def decide(
    *,
    holder_nik_check: str | None,
    collector_nik: str | None,
    representative: RepresentativeInfo | None,
    supervisor: bool,
    nik_check: Callable[[str], str],
) -> Handover:
    """The handover of one job, or a HandoverError.

    `nik_check(nik)` is the hex keyed hash of a NIK in the handover context
    (`holder_check` with the service's cipher); `supervisor` is whether the
    officer may override the comparison for a job that has no check.
    """
    path = check_request(collector_nik=collector_nik, representative=representative)
    if path is HandoverPath.REPRESENTATIVE:
        assert representative is not None
        return Handover(
            path=path,
            collected_by=CollectedBy.REPRESENTATIVE,
            representative_masked=mask_representative(representative.full_name, representative.nik),
            relationship=representative.relationship,
            authority_letter_ref=representative.authority_letter_ref,
        )
    assert collector_nik is not None
    shown = {"collector_nik_masked": mask_nik(collector_nik)}
    if not holder_nik_check:
        if supervisor:
            return Handover(path=HandoverPath.SUPERVISOR_OVERRIDE, collected_by=CollectedBy.HOLDER)
        raise HandoverError(
            "collector_nik",
            "holder_check_unavailable",
            "dokumen ini terdaftar sebelum pencocokan NIK; serahkan kepada wakil dengan surat "
            "kuasa, atau minta supervisor menyerahkannya",
            "this document predates the NIK check; hand it to a representative with a letter "
            "of authority, or ask a supervisor to hand it over",
            refused=True,
            detail={"reason": "holder_check_unavailable", **shown},
        )
    if not hmac.compare_digest(nik_check(collector_nik), holder_nik_check):
        raise HandoverError(
            "collector_nik",
            "nik_mismatch",
            "NIK pengambil tidak sama dengan NIK pemilik dokumen; bila diwakilkan, catat wakil "
            "dan surat kuasanya",
            "the collector's NIK is not the document holder's; for a representative, record "
            "the representative and the letter of authority",
            refused=True,
            detail={"reason": "nik_mismatch", **shown},
        )
    return Handover(path=HandoverPath.HOLDER_NIK, collected_by=CollectedBy.HOLDER)


# --- the pickup board -----------------------------------------------------------


def days_waiting(ready_at: datetime, now: datetime) -> int:
    """Whole days (of 24 hours) a document has waited since it became ready."""
    return max(0, (now - ready_at) // timedelta(days=1))


def overdue_since(now: datetime, window_days: int) -> datetime:
    """Documents ready before this moment have waited longer than the pickup window."""
    return now - timedelta(days=window_days)


def is_overdue(ready_at: datetime, now: datetime, window_days: int) -> bool:
    return ready_at < overdue_since(now, window_days)
