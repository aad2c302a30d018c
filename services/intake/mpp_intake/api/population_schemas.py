"""Models of the village's reports of births, deaths and moves: each value is
checked on its own here (refused with its field named and the reason); the
rules between fields and those needing the catalog are the use case's."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from mpp_intake.domain import identity
from mpp_intake.domain import outreach as outreach_rules
from mpp_intake.domain import population as rules
from mpp_intake.domain.population import Kind
from mpp_intake.usecases.population_reports import ReportEvent
from mpp_shared import clock
from mpp_shared.contacts import InvalidValue, checked
from mpp_shared.wording import in_wib

MESSAGES: dict[str, tuple[str, str]] = {
    **rules.MESSAGES,
    "desa_code_invalid": outreach_rules.MESSAGES["desa_code_invalid"],
}


def _occurred_on(value: date) -> date:
    """Not after today on the service clock (in WIB), not absurdly long ago."""
    try:
        return rules.check_occurred_on(value, in_wib(clock.now()).date())
    except InvalidValue as exc:
        raise PydanticCustomError(exc.code, str(exc)) from exc


class PopulationReportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: Kind = Field(description="birth, death, move_in or move_out")
    occurred_on: date = Field(description="When it happened (not after today)")
    kk_number: str = Field(description="The family's 16-digit family card (KK) number")
    subject_name: str | None = Field(
        default=None,
        min_length=2,
        max_length=120,
        description="The person it concerns: the child (may be left out for a birth), the "
        "deceased, the one moving",
    )
    subject_nik: str | None = Field(
        default=None, description="Required for a death (the deceased) and a move; none for a birth"
    )
    applicant_nik: str = Field(description="NIK of the family member who will apply")
    applicant_name: str = Field(min_length=2, max_length=120)
    applicant_phone: str | None = Field(default=None, description="Mobile number; stored as E.164")
    papers_held: list[Annotated[str, Field(max_length=60)]] = Field(
        default_factory=list,
        max_length=30,
        description="Requirement codes of the papers the family already holds",
    )
    note: str | None = Field(default=None, max_length=rules.NOTE_MAX)
    desa_code: str | None = Field(
        default=None, description="Supervisors and kecamatan officers: the desa (10 digits)"
    )

    @field_validator("occurred_on")
    @classmethod
    def _occurred(cls, value: date) -> date:
        return _occurred_on(value)

    @field_validator("kk_number")
    @classmethod
    def _kk(cls, value: str) -> str:
        return str(checked(rules.validate_kk, value))

    @field_validator("subject_nik")
    @classmethod
    def _subject_nik(cls, value: str | None) -> str | None:
        return None if value in (None, "") else str(checked(identity.validate_nik, value))

    @field_validator("applicant_nik")
    @classmethod
    def _applicant_nik(cls, value: str) -> str:
        return str(checked(identity.validate_nik, value))

    @field_validator("subject_name", "applicant_name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else " ".join(value.split()) or None

    @field_validator("applicant_phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value in (None, "") else str(checked(identity.normalise_phone, value))

    @field_validator("papers_held")
    @classmethod
    def _papers(cls, value: list[str]) -> list[str]:
        return [p.strip().lower() for p in value if p.strip()]

    @field_validator("desa_code")
    @classmethod
    def _desa(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        code = outreach_rules.normalise_desa_code(value)
        if not (code.isascii() and outreach_rules.is_kediri_desa_code(code)):
            raise PydanticCustomError("desa_code_invalid", MESSAGES["desa_code_invalid"][0])
        return code

    def command(self) -> ReportEvent:
        return ReportEvent(
            kind=self.kind,
            occurred_on=self.occurred_on,
            kk_number=self.kk_number,
            applicant_nik=self.applicant_nik,
            applicant_name=self.applicant_name,
            subject_name=self.subject_name,
            subject_nik=self.subject_nik,
            applicant_phone=self.applicant_phone,
            papers_held=tuple(self.papers_held),
            note=self.note or None,
            desa_code=self.desa_code,
        )


class PeriodReportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kecamatan_code: str | None = Field(
        default=None, description="6 digits; a kecamatan officer's own by default"
    )
    period: str = Field(description="The month, YYYY-MM", examples=["2026-11"])
