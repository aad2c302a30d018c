"""Application state machine, decisions and the citizen-facing progress steps."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Literal

PreferredChannel = Literal["sms", "whatsapp", "email"]


class Status(StrEnum):
    INCOMPLETE = "incomplete"  # a mandatory paper is missing; the citizen is told which
    SUBMITTED = "submitted"  # complete, waiting for the verifier
    RETURNED = "returned"  # the verifier asks for corrections of named items
    VERIFIED = "verified"
    REJECTED = "rejected"


class Decision(StrEnum):
    VERIFIED = "verified"
    REJECTED = "rejected"
    RETURNED = "returned"


class RejectReason(StrEnum):
    FORGED_DOCUMENT = "dokumen_tidak_asli"
    DATA_MISMATCH = "data_tidak_sesuai_database"
    NOT_OUR_JURISDICTION = "bukan_kewenangan"
    NOT_ELIGIBLE = "tidak_memenuhi_syarat"
    DUPLICATE = "permohonan_ganda"
    OTHER = "lainnya"


REJECT_REASON_NAMES: dict[RejectReason, tuple[str, str]] = {
    RejectReason.FORGED_DOCUMENT: ("dokumen tidak asli", "a document is not genuine"),
    RejectReason.DATA_MISMATCH: (
        "data tidak sesuai dengan database kependudukan",
        "the data do not match the population register",
    ),
    RejectReason.NOT_OUR_JURISDICTION: (
        "bukan kewenangan kabupaten ini",
        "not this district's competence",
    ),
    RejectReason.NOT_ELIGIBLE: ("tidak memenuhi syarat layanan", "not eligible for the service"),
    RejectReason.DUPLICATE: ("permohonan ganda", "a duplicate application"),
    RejectReason.OTHER: ("alasan lain (lihat catatan)", "another reason (see the note)"),
}


def rejection_text(reason_codes: Iterable[RejectReason], note: str | None) -> str:
    """The reason a citizen is given: the named reasons, then the verifier's note."""
    names = "; ".join(REJECT_REASON_NAMES[RejectReason(r)][0] for r in reason_codes)
    return f"{names}. {note}" if note else names


# A preferred channel is only a choice when the citizen can be reached on it.
PREFERRED_CHANNEL_WITHOUT_CONTACT = (
    "saluran pilihan {channel} memerlukan kontaknya",
    "the preferred channel {channel} needs its contact",
)


def unreachable_on(
    preferred_channel: PreferredChannel | None, phone: str | None, email: str | None
) -> bool:
    """True when the preferred channel lacks its contact (a phone for sms and
    whatsapp, an e-mail address for email)."""
    if preferred_channel is None:
        return False
    needs = {"sms": phone, "whatsapp": phone, "email": email}
    return not needs[preferred_channel]


# What moves an application, and from where.
_DECISIONS: dict[Status, set[Decision]] = {
    Status.SUBMITTED: {Decision.VERIFIED, Decision.REJECTED, Decision.RETURNED},
    Status.INCOMPLETE: {Decision.REJECTED},
    Status.RETURNED: {Decision.REJECTED},
    Status.VERIFIED: set(),
    Status.REJECTED: set(),
}
ACCEPTS_DOCUMENTS = {Status.INCOMPLETE, Status.RETURNED}

# Progress steps the public tracking shows, in order; document events move
# an application along them after verification.
#
# "uncollected": the pickup window ended and the document now waits at
# Disdukcapil. It lies on the path between ready_for_pickup and picked_up, not
# among the interruptions: a late ready_for_pickup event does not hide it, a
# handover (still possible, the job stays ready_for_pickup) or a cancellation
# ends it, and the application stays active, so the NIK is sent to collect the
# document rather than apply again.
PROGRESS_STEPS = [
    "incomplete",
    "submitted",
    "returned",
    "resubmitted",
    "verified",
    "rejected",
    "queued",
    "in_production",
    "produced",
    "in_transit",
    "ready_for_pickup",
    "uncollected",
    "picked_up",
    "on_hold",
    "cancelled",
]
PROGRESS_FROM_DOCUMENT_EVENT = {
    "mpp.document.queued.v1": "queued",
    "mpp.document.in_production.v1": "in_production",
    "mpp.document.produced.v1": "produced",
    "mpp.document.in_transit.v1": "in_transit",
    "mpp.document.ready_for_pickup.v1": "ready_for_pickup",
    "mpp.document.picked_up.v1": "picked_up",
    "mpp.document.on_hold.v1": "on_hold",
    "mpp.document.cancelled.v1": "cancelled",
    "mpp.document.uncollected.v1": "uncollected",
}
# Document events that move no progress: a reminder to collect says the
# document still waits where it did.
NO_PROGRESS_DOCUMENT_EVENTS = {"mpp.document.pickup_reminder.v1"}
# Steps that are not further along the path but interrupt or end it.
INTERRUPTIONS = {"on_hold", "cancelled"}


def can_decide(current: Status, decision: Decision) -> bool:
    return decision in _DECISIONS[current]


def later_progress(current: str, new: str) -> str:
    """Progress never moves backwards along the production path, whatever order
    document events arrive in; a hold shows until the job moves on, and a
    cancellation or handover is final."""
    if current in ("cancelled", "picked_up"):
        return current
    if new in INTERRUPTIONS or current == "on_hold":
        return new
    return new if PROGRESS_STEPS.index(new) > PROGRESS_STEPS.index(current) else current
