"""Papers of an application: what handing in papers changes, and which items
a verifier returns for correction. Decided against the catalog version the
application was submitted under, without I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from mpp_intake.domain.applications import Status
from mpp_intake.domain.catalog import Requirement, ServiceVersion

# The step the timeline shows when papers handed in make an application whole.
CompletingStep = Literal["completed", "resubmitted"]


@dataclass(frozen=True)
class PaperCheck:
    """The verifier's finding on one requirement."""

    requirement: str
    result: Literal["ok", "invalid"]
    note: str | None = None


@dataclass(frozen=True)
class PapersHandedIn:
    """An application after papers were handed in."""

    status: Status
    progress: str
    documents: list[str]
    missing: list[Requirement]
    returned_items: list[dict[str, Any]]
    step: CompletingStep | None  # None: still incomplete or still returned


def hand_in(
    service: ServiceVersion,
    *,
    status: Status,
    progress: str,
    documents: Sequence[str],
    returned_items: list[dict[str, Any]],
    handed_in: set[str],
) -> PapersHandedIn:
    """An incomplete application is completed once nothing mandatory is
    missing; a returned one is resubmitted once every returned item was handed
    in again (any accepted alternative counts) and nothing is missing."""
    held = sorted(set(documents) | handed_in)
    missing = service.missing(set(held))
    step: CompletingStep | None = None
    if status is Status.INCOMPLETE and not missing:
        step = "completed"
    elif status is Status.RETURNED:
        returned_items = [
            item for item in returned_items if not (service.accepted_for(item["code"]) & handed_in)
        ]
        if not returned_items and not missing:
            step = "resubmitted"
    if step == "completed":
        status, progress = Status.SUBMITTED, "submitted"
    elif step == "resubmitted":
        status, progress = Status.SUBMITTED, "resubmitted"
    return PapersHandedIn(status, progress, held, missing, returned_items, step)


def items_to_correct(
    service: ServiceVersion, checks: Sequence[PaperCheck], items: Sequence[str]
) -> list[dict[str, Any]]:
    """The items a returned application must correct: those named, else those
    checked invalid; each once, with the verifier's note. Every code must name
    a requirement of `service` (refused before)."""
    notes = {c.requirement: c.note for c in checks}
    codes = items or [c.requirement for c in checks if c.result == "invalid"]
    returned = []
    for code in dict.fromkeys(codes):
        requirement = service.requirement(code)
        assert requirement is not None
        returned.append(
            {
                "code": requirement.code,
                "name_id": requirement.name("id"),
                "name_en": requirement.name("en"),
                "note": notes.get(code),
            }
        )
    return returned
