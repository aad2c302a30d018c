"""The Ombudsman's complaint report: what is counted per kind of report
(aspirasi, pengaduan, permintaan_informasi) and per category or per OPD, for
reports filed in [start, end), and the arithmetic on the counts.
Pure: the counting itself is one SQL aggregate (`store/reports.py`).

Per complaint:

- first response: when its first auto-close step started (each response
  starts one), else `responded_at`;
- follow-up deadline: the due moment of its first follow-up step (for a
  request for information: of its information step, extended or not);
- responded on time: first response at or before that deadline (or no
  deadline was ever set);
- open overdue: not responded, not closed or rejected, follow-up deadline
  before `as_of` — counted late, so unanswered work is never hidden;
- reopened: responded and reopened at least once;
- rated: closed with a rating.

on_time_share = on_time / (responded + open_overdue); reopen_rate =
reopened / responded; average_rating = rating_sum / rated; a zero
denominator gives null.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class GroupBy(StrEnum):
    CATEGORY = "category"
    OPD = "opd"


@dataclass(frozen=True)
class Counts:
    complaints: int
    responded: int
    on_time: int
    open_overdue: int
    reopened: int
    rated: int
    rating_sum: int


@dataclass(frozen=True)
class Figures:
    complaints: int
    responded: int
    responded_on_time: int
    open_overdue: int
    reopened: int
    on_time_share: float | None
    median_hours_to_respond: float | None
    reopen_rate: float | None
    average_rating: float | None


@dataclass(frozen=True)
class Line:
    """One row of the report: a kind of report and a category or OPD (None:
    not yet assigned)."""

    kind: str
    key: str | None
    figures: Figures


def _ratio(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else round(numerator / denominator, 4)


def figures(counts: Counts, median_hours: float | None) -> Figures:
    """The report's arithmetic on one group's counts (zero denominators → None)."""
    return Figures(
        complaints=counts.complaints,
        responded=counts.responded,
        responded_on_time=counts.on_time,
        open_overdue=counts.open_overdue,
        reopened=counts.reopened,
        on_time_share=_ratio(counts.on_time, counts.responded + counts.open_overdue),
        median_hours_to_respond=None if median_hours is None else round(median_hours, 2),
        reopen_rate=_ratio(counts.reopened, counts.responded),
        average_rating=_ratio(counts.rating_sum, counts.rated),
    )
