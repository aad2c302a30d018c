"""Production job state machine.

queued -> in_production -> produced -> [in_transit ->] ready_for_pickup -> picked_up,
plus on_hold (with a reason the citizen is shown; the SLA clock keeps running),
resumed to the state it was held from, and cancelled from any open state.
"""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    QUEUED = "queued"
    IN_PRODUCTION = "in_production"
    PRODUCED = "produced"
    IN_TRANSIT = "in_transit"
    READY_FOR_PICKUP = "ready_for_pickup"
    PICKED_UP = "picked_up"
    ON_HOLD = "on_hold"
    CANCELLED = "cancelled"


FINAL = {JobState.PICKED_UP, JobState.CANCELLED}
HOLDABLE = {JobState.QUEUED, JobState.IN_PRODUCTION, JobState.PRODUCED, JobState.IN_TRANSIT}

TRANSITIONS: dict[JobState, set[JobState]] = {
    JobState.QUEUED: {JobState.IN_PRODUCTION},
    JobState.IN_PRODUCTION: {JobState.PRODUCED},
    # Printed at the pickup point itself, or sent there first.
    JobState.PRODUCED: {JobState.IN_TRANSIT, JobState.READY_FOR_PICKUP},
    JobState.IN_TRANSIT: {JobState.READY_FOR_PICKUP},
    JobState.READY_FOR_PICKUP: {JobState.PICKED_UP},
    JobState.PICKED_UP: set(),
    JobState.ON_HOLD: set(),  # resumed to the state it was held from, see can_move
    JobState.CANCELLED: set(),
}


class HoldReason(StrEnum):
    BLANK_STOCK_EXHAUSTED = "blanko_habis"
    REGISTRY_OUTAGE = "gangguan_siak"
    PRINTER_BROKEN = "printer_rusak"
    AWAITING_SIGNATURE = "menunggu_tanda_tangan"
    OTHER = "lainnya"


HOLD_REASON_NAMES: dict[HoldReason, tuple[str, str]] = {
    HoldReason.BLANK_STOCK_EXHAUSTED: (
        "blanko KTP-el sedang habis",
        "blank KTP-el cards are out of stock",
    ),
    HoldReason.REGISTRY_OUTAGE: (
        "gangguan jaringan/sistem kependudukan (SIAK)",
        "the population registry (SIAK) is down",
    ),
    HoldReason.PRINTER_BROKEN: ("mesin cetak rusak", "the printer is broken"),
    HoldReason.AWAITING_SIGNATURE: (
        "menunggu tanda tangan pejabat",
        "awaiting the official's signature",
    ),
    HoldReason.OTHER: ("kendala lain", "another problem"),
}


def can_move(current: JobState, target: JobState, held_from: JobState | None = None) -> bool:
    if current in FINAL:
        return False
    if target is JobState.CANCELLED:
        return True
    if target is JobState.ON_HOLD:
        return current in HOLDABLE
    if current is JobState.ON_HOLD:
        return target is held_from
    return target in TRANSITIONS[current]
