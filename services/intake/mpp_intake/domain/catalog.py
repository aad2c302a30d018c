"""The service catalog: what each service needs, costs and promises.

A requirement is satisfied by its own code or by any of its alternatives
("buku nikah / akta perkawinan OR SPTJM"). Completeness is decided here,
without I/O, so the front desk can tell the citizen exactly what is missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, get_args

Channel = Literal["mpp_desk", "kecamatan_desk", "desa", "online"]
CHANNELS: tuple[Channel, ...] = get_args(Channel)
SlaUnit = Literal["working_days", "working_hours"]
PointKind = Literal["mpp", "dukcapil", "kecamatan"]


@dataclass(frozen=True)
class Alternative:
    code: str
    name_id: str
    name_en: str


@dataclass(frozen=True)
class Requirement:
    code: str
    name_id: str
    name_en: str
    mandatory: bool
    any_of: tuple[Alternative, ...] = ()

    @property
    def accepted_codes(self) -> set[str]:
        return {self.code} | {a.code for a in self.any_of}

    def name(self, language: str) -> str:
        names = [self.name_en if language == "en" else self.name_id]
        names += [a.name_en if language == "en" else a.name_id for a in self.any_of]
        return (" or " if language == "en" else " atau ").join(names)

    def as_json(self) -> dict[str, Any]:
        """The shape stored in a catalog version's `requirements`."""
        return {
            "code": self.code,
            "name_id": self.name_id,
            "name_en": self.name_en,
            "mandatory": self.mandatory,
            "any_of": [
                {"code": a.code, "name_id": a.name_id, "name_en": a.name_en} for a in self.any_of
            ],
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Requirement:
        return cls(
            code=doc["code"],
            name_id=doc["name_id"],
            name_en=doc["name_en"],
            mandatory=bool(doc["mandatory"]),
            any_of=tuple(
                Alternative(a["code"], a["name_id"], a["name_en"]) for a in doc.get("any_of", [])
            ),
        )


@dataclass(frozen=True)
class ServiceVersion:
    code: str
    version: int
    name_id: str
    name_en: str
    opd: str
    fee_idr: int
    sla_amount: int
    sla_unit: SlaUnit
    pickup_points: tuple[str, ...]
    channels: tuple[str, ...]
    requirements: tuple[Requirement, ...]

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_id

    def known_document_codes(self) -> set[str]:
        return (
            set().union(*(r.accepted_codes for r in self.requirements))
            if self.requirements
            else set()
        )

    def missing(self, provided: set[str]) -> list[Requirement]:
        """Mandatory requirements none of whose accepted documents was provided."""
        return [r for r in self.requirements if r.mandatory and not (r.accepted_codes & provided)]

    def requirement(self, code: str) -> Requirement | None:
        return next((r for r in self.requirements if code in r.accepted_codes), None)

    def unknown_documents(self, documents: Iterable[str]) -> list[str]:
        """Codes of papers no requirement of this service accepts, sorted."""
        return sorted(set(documents) - self.known_document_codes())

    def unknown_requirements(self, codes: Iterable[str]) -> list[str]:
        """Codes naming no requirement of this service, sorted."""
        return sorted({code for code in codes if self.requirement(code) is None})

    def paper_name(self, code: str, language: str) -> str:
        """The name of the paper `code` (a requirement or one of its
        alternatives) as the catalog gives it; the code itself when unknown."""
        for r in self.requirements:
            papers: list[Requirement | Alternative] = [r, *r.any_of]
            for paper in papers:
                if paper.code == code:
                    return paper.name_en if language == "en" else paper.name_id
        return code

    def accepted_for(self, code: str) -> set[str]:
        """Every code that satisfies the requirement `code` belongs to (`code`
        alone when it belongs to none)."""
        requirement = self.requirement(code)
        return requirement.accepted_codes if requirement else {code}


@dataclass(frozen=True)
class PickupPoint:
    """Where a finished document is collected, and when it is open."""

    code: str
    name: str
    kind: PointKind
    region_code: str
    address: str
    opening_hours: dict[str, Any]
    daily_capacity: int
    serves_regions: tuple[str, ...]


def missing_as_json(missing: list[Requirement]) -> list[dict[str, str]]:
    return [{"code": r.code, "name_id": r.name("id"), "name_en": r.name("en")} for r in missing]
