"""The service catalog: what each service needs, costs and promises.

A requirement is satisfied by its own code or by any of its alternatives
("buku nikah / akta perkawinan OR SPTJM"). Completeness is decided here,
without I/O, so the front desk can tell the citizen exactly what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CHANNELS = ("mpp_desk", "kecamatan_desk", "desa", "online")


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
    sla_unit: str
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


def missing_as_json(missing: list[Requirement]) -> list[dict[str, str]]:
    return [{"code": r.code, "name_id": r.name("id"), "name_en": r.name("en")} for r in missing]
