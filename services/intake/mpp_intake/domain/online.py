"""Rules of the online application (a resident signed in with a one-time
code): which requirement an uploaded paper answers, what is still missing,
the pickup points nearest first, and when a verifier may open the papers.
Pure: no I/O, no clock."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mpp_intake.domain.applications import Status
from mpp_intake.domain.catalog import Requirement, ServiceVersion

# The form field an uploaded paper comes in (named in 413/415/422 refusals).
FILE_FIELD = "file"
# A verifier opens the papers while the application is being verified:
# submitted (also after a resubmission) or returned for correction.
VERIFIER_READS = frozenset({Status.SUBMITTED, Status.RETURNED})
# Where every district has a counter: preferred after the nearest point.
MAIN_POINT = "MPP"


@dataclass(frozen=True)
class PaperSlot:
    """One requirement of the service and the paper uploaded for it, if any."""

    requirement: Requirement
    document: str | None  # the code of the paper uploaded (the requirement's or an alternative's)
    missing: bool  # mandatory and nothing uploaded


def requirement_for(service: ServiceVersion, document: str) -> Requirement | None:
    """The requirement a paper (its own code or an alternative's) answers."""
    return service.requirement(document)


def paper_slots(service: ServiceVersion, uploaded: Mapping[str, str]) -> list[PaperSlot]:
    """Every requirement in catalog order with the paper uploaded for it
    (`uploaded`: requirement code -> paper code)."""
    return [
        PaperSlot(r, uploaded.get(r.code), r.mandatory and r.code not in uploaded)
        for r in service.requirements
    ]


def missing_papers(service: ServiceVersion, documents: Iterable[str]) -> list[Requirement]:
    """The mandatory requirements no uploaded paper answers, as the counter names them."""
    return service.missing(set(documents))


def points_nearest_first(offered: Iterable[str], nearest: str | None) -> list[str]:
    """The points a service is collected at: the one serving the resident's
    kecamatan first, then the MPP, then the others in order."""
    points = list(dict.fromkeys(offered))
    rank = {code: 2 for code in points}
    if MAIN_POINT in rank:
        rank[MAIN_POINT] = 1
    if nearest in rank:
        rank[nearest] = 0
    return sorted(points, key=lambda code: (rank[code], points.index(code)))


def verifier_may_read(status: Status) -> bool:
    return status in VERIFIER_READS
