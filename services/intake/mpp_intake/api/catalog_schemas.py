"""Models of the catalog and pickup-point API."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from mpp_intake.domain.catalog import Channel, ServiceVersion, SlaUnit
from mpp_shared.web import PG_INT_MAX

_CODE = re.compile(r"^[a-z][a-z0-9_]{1,48}$")


def _code(value: str) -> str:
    if not _CODE.match(value):
        raise PydanticCustomError(
            "code_format",
            "kode harus huruf kecil, angka dan garis bawah: {value}",
            {"value": value},
        )
    return value


class AlternativeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    code: str
    name_id: str = Field(min_length=2, max_length=200)
    name_en: str = Field(min_length=2, max_length=200)
    _check_code = field_validator("code")(classmethod(lambda cls, v: _code(v)))


class RequirementIn(AlternativeIn):
    mandatory: bool = True
    any_of: list[AlternativeIn] = Field(default_factory=list, description="Accepted instead")


class ServiceDefinition(BaseModel):
    """A new version of a service, as an admin publishes it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name_id: str = Field(min_length=2, max_length=200)
    name_en: str = Field(min_length=2, max_length=200)
    opd: str = Field(min_length=2, max_length=100, description="Issuing office, e.g. DISDUKCAPIL")
    fee_idr: int = Field(
        default=0, ge=0, le=PG_INT_MAX, description="Always shown; Rp 0 for population documents"
    )
    sla_amount: int = Field(ge=0, le=365)
    sla_unit: SlaUnit = "working_days"
    pickup_points: list[str] = Field(min_length=1)
    channels: list[Channel] = Field(min_length=1)
    requirements: list[RequirementIn] = Field(default_factory=list)
    active: bool = True

    @model_validator(mode="after")
    def _unique_codes(self) -> ServiceDefinition:
        codes = [c for r in self.requirements for c in [r.code, *(a.code for a in r.any_of)]]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise PydanticCustomError(
                "duplicate_requirement",
                "kode persyaratan ganda: {codes}",
                {"codes": ", ".join(dupes)},
            )
        return self


class AlternativePublic(BaseModel):
    code: str
    name: str


class RequirementPublic(BaseModel):
    code: str
    name: str
    mandatory: bool
    alternatives: list[AlternativePublic]


class ServicePublic(BaseModel):
    code: str
    version: int
    name: str
    name_id: str
    name_en: str
    opd: str
    fee_idr: int
    fee_text: str
    sla_amount: int
    sla_unit: str
    sla_text: str
    pickup_points: list[str]
    channels: list[str]
    requirements: list[RequirementPublic]

    @classmethod
    def of(cls, service: ServiceVersion, language: str) -> ServicePublic:
        en = language == "en"
        unit = {
            "working_days": ("hari kerja", "working days"),
            "working_hours": ("jam kerja", "working hours"),
        }[service.sla_unit]
        fee = f"Rp {service.fee_idr:,}".replace(",", ".")
        if service.fee_idr == 0:
            fee = "Free (Rp 0)" if en else "Gratis (Rp 0)"
        return cls(
            code=service.code,
            version=service.version,
            name=service.name(language),
            name_id=service.name_id,
            name_en=service.name_en,
            opd=service.opd,
            fee_idr=service.fee_idr,
            fee_text=fee,
            sla_amount=service.sla_amount,
            sla_unit=service.sla_unit,
            sla_text=f"{service.sla_amount} {unit[1] if en else unit[0]}",
            pickup_points=list(service.pickup_points),
            channels=list(service.channels),
            requirements=[
                RequirementPublic(
                    code=r.code,
                    name=r.name_en if en else r.name_id,
                    mandatory=r.mandatory,
                    alternatives=[
                        AlternativePublic(code=a.code, name=a.name_en if en else a.name_id)
                        for a in r.any_of
                    ],
                )
                for r in service.requirements
            ],
        )


class ServiceList(BaseModel):
    items: list[ServicePublic]
    count: int


class PickupPointPublic(BaseModel):
    code: str
    name: str
    kind: str
    region_code: str
    address: str
    opening_hours: dict[str, Any]
    daily_capacity: int
    serves_regions: list[str]
    suggested: bool = False


class PickupPointList(BaseModel):
    items: list[PickupPointPublic]
    count: int


CATALOG_MESSAGES = {
    "code_format": (
        "kode harus huruf kecil, angka dan garis bawah: {value}",
        "a code is lower-case letters, digits and underscores: {value}",
    ),
    "duplicate_requirement": (
        "kode persyaratan ganda: {codes}",
        "requirement codes used twice: {codes}",
    ),
}
