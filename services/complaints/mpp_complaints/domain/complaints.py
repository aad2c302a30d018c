"""Complaint vocabulary: the complaint code, the built-in categories, the
shapes of category and OPD codes, and a complaint as a citizen files it
(checked and normalised before anything is stored)."""

from __future__ import annotations

import re
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mpp_shared import contacts
from mpp_shared.contacts import checked

# The CloudEvents source of every event the service writes.
SOURCE = "/mpp/complaints"

CODE_PREFIX = "P"
CODE_LENGTH = 9

CATEGORIES: dict[str, tuple[str, str]] = {
    "pelayanan": ("Kualitas pelayanan", "Quality of service"),
    "keterlambatan": ("Dokumen terlambat", "Late document"),
    "pungli": ("Pungutan liar", "Illegal fee"),
    "sikap_petugas": ("Sikap petugas", "Officer conduct"),
    "lainnya": ("Lainnya", "Other"),
}

# An OPD as the categories and assignments name it, e.g. DISDUKCAPIL.
OPD_CODE = r"^[A-Z][A-Z0-9_]{1,39}$"
# A category of the managed list, e.g. pungli.
CATEGORY_CODE = re.compile(r"[a-z][a-z0-9_]{1,39}")

Channel = Literal["web", "mpp_desk", "sms", "whatsapp", "lapor_import"]
CHANNELS: tuple[str, ...] = get_args(Channel)
# domain.kinds.Kind's values, as a request names them.
ReportKind = Literal["aspirasi", "pengaduan", "permintaan_informasi"]


def is_category_code(code: str) -> bool:
    return CATEGORY_CODE.fullmatch(code) is not None


class ComplaintCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: ReportKind = Field(
        default="pengaduan",
        description="aspirasi (a suggestion), pengaduan (a complaint) or permintaan_informasi "
        "(a request for public information)",
    )
    category: str = Field(
        default="pelayanan",
        max_length=40,
        description="An active code of GET /v1/categories (checked when filing)",
    )
    description: str = Field(min_length=10, max_length=4000)
    channel: Channel = "web"
    tracking_code: str | None = Field(default=None, description="Links the complaint to a request")
    anonymous: bool = False
    confidential: bool = Field(default=False, description="Never listed publicly")
    reporter_name: str | None = Field(default=None, max_length=120)
    phone: str | None = Field(default=None, description="Mobile number; stored as E.164")
    email: str | None = None
    language: Literal["id", "en"] = "id"
    publication_consent: bool = Field(
        default=False,
        description="The asker agrees that the answer may be published (without personal data)",
    )

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value in (None, "") else str(checked(contacts.normalise_phone, value))

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value in (None, "") else str(checked(contacts.validate_email, value))

    def reporter_contact(self) -> dict[str, str]:
        """The contact details given, by name (none for an empty field)."""
        given = {"name": self.reporter_name, "phone": self.phone, "email": self.email}
        return {k: v for k, v in given.items() if v}
