"""The three kinds of reports SP4N-LAPOR! sorts what citizens send into, and
how each is handled. Pure: no I/O and no clock.

- pengaduan (a complaint): the lifecycle of domain/lifecycle.py, a missed
  verification or follow-up step escalated to the supervisor;
- aspirasi (a suggestion or proposal): routed (verified, assigned to the
  OPD) and answered like a complaint, but a missed step is never escalated;
- permintaan_informasi (a request for public information, UU 14/2008): one
  step, `information`, runs from filing to the answer: due
  `answer_days` working days after filing (10), extended once by
  `extension_days` (7) with a reason given to the requester; assigning it to
  an OPD keeps that clock; a missed (possibly extended) deadline is
  escalated like a complaint's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from mpp_complaints.domain.lifecycle import Status, Step
from mpp_shared.workcal import WorkCalendar


class Kind(StrEnum):
    ASPIRASI = "aspirasi"
    PENGADUAN = "pengaduan"
    PERMINTAAN_INFORMASI = "permintaan_informasi"


KINDS: tuple[str, ...] = tuple(k.value for k in Kind)
DEFAULT_KIND = Kind.PENGADUAN

# What a citizen reads for each kind (Bahasa Indonesia, English).
KIND_WORDS: dict[str, tuple[str, str]] = {
    Kind.ASPIRASI: ("Aspirasi (saran atau usulan)", "Suggestion or proposal (aspirasi)"),
    Kind.PENGADUAN: ("Pengaduan (keluhan atas pelayanan)", "Complaint (pengaduan)"),
    Kind.PERMINTAAN_INFORMASI: (
        "Permintaan informasi publik",
        "Request for public information",
    ),
}

# The kinds whose answer may be published as a public question and answer.
PUBLISHABLE = frozenset({Kind.ASPIRASI, Kind.PERMINTAAN_INFORMASI})
ANSWERED = frozenset({Status.RESPONDED, Status.CLOSED})

DEFAULT_INFORMATION_ANSWER_DAYS = 10
DEFAULT_INFORMATION_EXTENSION_DAYS = 7


def first_step(kind: str) -> Step:
    """The step a newly filed report enters."""
    return Step.INFORMATION if kind == Kind.PERMINTAAN_INFORMASI else Step.VERIFICATION


def keeps_clock_when_assigned(kind: str) -> bool:
    """Assigning a request for information keeps its answer deadline running
    (no follow-up step of its own)."""
    return kind == Kind.PERMINTAAN_INFORMASI


def escalates(kind: str, step: str) -> bool:
    """Whether a missed `step` of a report of `kind` goes to the supervisor;
    the auto-close step never does (it closes the report)."""
    return kind != Kind.ASPIRASI and step != Step.AUTO_CLOSE


def is_publishable(kind: str, status: str) -> bool:
    return kind in PUBLISHABLE and status in ANSWERED


@dataclass(frozen=True)
class InformationClock:
    """The public-information law's deadlines, in working days."""

    answer_days: int = DEFAULT_INFORMATION_ANSWER_DAYS
    extension_days: int = DEFAULT_INFORMATION_EXTENSION_DAYS

    def __post_init__(self) -> None:
        if self.answer_days < 1 or self.extension_days < 1:
            raise ValueError("information deadlines must be at least 1 working day")

    def answer_due(self, calendar: WorkCalendar, filed_at: datetime) -> datetime:
        """The closing time of the `answer_days`-th working day after filing."""
        return calendar.add_working_days(filed_at, self.answer_days)

    def extended_due(self, calendar: WorkCalendar, due: datetime) -> datetime:
        """`extension_days` working days after the deadline's own working day.
        A deadline is a closing time, which the calendar counts as the next
        day's; one minute before it is still that day."""
        return calendar.add_working_days(due - timedelta(minutes=1), self.extension_days)


# Why an extension is refused (a code, and the words in Bahasa Indonesia and English).
Refusal = tuple[str, str, str]


def extension_refusal(
    *,
    kind: str,
    step: str | None,
    extended_at: datetime | None,
    due: datetime | None,
    now: datetime,
) -> Refusal | None:
    """Why the answer deadline of this report may not be extended now, or
    None when it may: only a request for information, once, while its
    information step runs and before the deadline has passed."""
    if kind != Kind.PERMINTAAN_INFORMASI:
        return (
            "not_an_information_request",
            "Hanya tenggat permintaan informasi yang dapat diperpanjang",
            "Only a request for information's deadline can be extended",
        )
    if extended_at is not None:
        return (
            "already_extended",
            "Tenggat permintaan informasi ini sudah pernah diperpanjang (hanya sekali)",
            "This request's deadline has already been extended (once only)",
        )
    if step != Step.INFORMATION or due is None:
        return (
            "not_awaiting_answer",
            "Permintaan informasi ini tidak sedang menunggu jawaban",
            "This request is not waiting for an answer",
        )
    if due < now:
        return (
            "deadline_passed",
            "Tenggat sudah lewat; perpanjangan harus diberikan sebelum tenggat",
            "The deadline has passed; an extension must be given before it",
        )
    return None
