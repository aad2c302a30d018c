"""The register of issued documents, its pure parts: numbers, verification
codes, document type names, and the refusals of a revocation.

Document number
---------------
    <OFFICE>-<TYPE>-<YEAR>-<SEQUENCE>        e.g. 3506-AKL-2026-000123

- OFFICE: the issuing office's code as given by the caller, upper-cased:
  letters and digits in groups joined by single hyphens, e.g. ``3506`` (the
  regency's Disdukcapil by its Kemendagri code), ``DISDUKCAPIL-3506`` or the
  pickup point that printed it (``KEC-PARE``).
- TYPE: the short abbreviation of the document type (the catalog service
  code) from `ABBREVIATIONS`; a type not in the map falls back to its code
  upper-cased (``surat_baru`` -> ``SURAT_BARU``), and to that plus a trailing
  ``_`` in the odd case where the upper-cased code spells a mapped
  abbreviation. TYPE never contains a hyphen.
- YEAR: the calendar year of issue in the regency's time (WIB, Asia/Jakarta).
- SEQUENCE: the counter of (type, office, year), from 1, gapless, at least six
  digits zero-padded (a seventh digit appears after 999999).

Read from the right (sequence, year, type) the rest is the office, so a
number names exactly one (type, office, year, sequence): as long as no two
types share an abbreviation (a unit test keeps the map and the fallback that
way) numbers are unique because the counters are.

Verification code
-----------------
``V`` followed by ten characters of `mpp_shared.codes.ALPHABET` (no 0/O, no
1/I), the last a Luhn mod 32 check character over the whole code, e.g.
``V7KQ3M9XH2P``: eleven characters, so it is told apart from a tracking code
(10) or a complaint code (``P`` + 9) by its length alone. Printed codes may be
grouped with hyphens or spaces; `normalise_code` strips them.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from mpp_shared import codes
from mpp_shared.errors import Conflict, NotFound

ZONE = ZoneInfo("Asia/Jakarta")
SEQUENCE_DIGITS = 6
CODE_PREFIX = "V"
CODE_LENGTH = 10  # characters after the prefix, the check character included

DocumentStatus = Literal["valid", "revoked"]

# Catalog service code -> (abbreviation, name in Bahasa Indonesia, name in English).
# Abbreviations are part of every number issued; never reuse or swap one.
DOCUMENT_TYPES: dict[str, tuple[str, str, str]] = {
    "ktp_el": ("KTP", "KTP Elektronik (KTP-el)", "Electronic identity card (KTP-el)"),
    "ktp_el_rusak_hilang": (
        "KTPG",
        "KTP-el Pengganti (Rusak atau Hilang)",
        "Replacement KTP-el (damaged or lost)",
    ),
    "kk": ("KK", "Kartu Keluarga (KK)", "Family card (KK)"),
    "kia": ("KIA", "Kartu Identitas Anak (KIA)", "Child identity card (KIA)"),
    "akta_kelahiran": ("AKL", "Akta Kelahiran", "Birth certificate"),
    "akta_kematian": ("AKM", "Akta Kematian", "Death certificate"),
    "akta_perkawinan": ("AKW", "Akta Perkawinan", "Marriage certificate"),
    "akta_perceraian": ("AKC", "Akta Perceraian", "Divorce certificate"),
    "pindah_keluar": (
        "SKPWNI",
        "Surat Pindah Keluar (SKPWNI)",
        "Certificate of moving out (SKPWNI)",
    ),
    "pindah_datang": ("SKPD", "Surat Pindah Datang", "Certificate of moving in"),
    "perubahan_data": ("PBD", "Perubahan Biodata Penduduk", "Change of resident's data"),
    "pencatatan_pengangkatan_anak": (
        "PPA",
        "Pencatatan Pengangkatan Anak",
        "Registration of an adoption",
    ),
}
ABBREVIATIONS: dict[str, str] = {code: abbr for code, (abbr, _, _) in DOCUMENT_TYPES.items()}
_RESERVED = frozenset(ABBREVIATIONS.values())

_DOC_TYPE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
_OFFICE = re.compile(r"^[A-Z0-9]+(?:-[A-Z0-9]+)*$")
_MAX_OFFICE = 40
_MAX_DOC_TYPE = 63


def check_doc_type(doc_type: str) -> str:
    """A catalog service code: lower-case words joined by single underscores."""
    if len(doc_type) > _MAX_DOC_TYPE or not _DOC_TYPE.match(doc_type):
        raise ValueError(f"not a document type code: {doc_type!r}")
    return doc_type


def normalise_office(office: str) -> str:
    """Upper-cased office code; letters and digits in groups joined by hyphens."""
    value = office.strip().upper()
    if len(value) > _MAX_OFFICE or not _OFFICE.match(value):
        raise ValueError(f"not an office code: {office!r}")
    return value


def abbreviation(doc_type: str) -> str:
    """The TYPE part of a number: mapped, else the code upper-cased (see module doc)."""
    check_doc_type(doc_type)
    if doc_type in ABBREVIATIONS:
        return ABBREVIATIONS[doc_type]
    fallback = doc_type.upper()
    if fallback in _RESERVED:
        # e.g. a new type coded "akl": AKL already means akta_kelahiran. Codes
        # never end with "_", so "AKL_" is nobody else's fallback.
        return fallback + "_"
    return fallback


def issue_year(issued_at: datetime) -> int:
    """The year of issue in the regency's time (a document printed at 00:30 WIB
    on 1 January belongs to the new year)."""
    if issued_at.tzinfo is None:
        raise ValueError("issued_at must be timezone-aware")
    return issued_at.astimezone(ZONE).year


def issue_date(issued_at: datetime) -> date:
    return issued_at.astimezone(ZONE).date()


def format_number(*, doc_type: str, office: str, year: int, seq: int) -> str:
    if seq < 1:
        raise ValueError("sequence numbers start at 1")
    if not 1000 <= year <= 9999:
        raise ValueError(f"not a four-digit year: {year}")
    office = normalise_office(office)
    return f"{office}-{abbreviation(doc_type)}-{year}-{seq:0{SEQUENCE_DIGITS}d}"


def normalise_number(number: str) -> str:
    """How a number is looked up: trimmed and upper-cased."""
    return number.strip().upper()


def new_verification_code() -> str:
    return codes.new_code(CODE_LENGTH, prefix=CODE_PREFIX)


def normalise_code(code: str) -> str:
    return codes.normalise(code)


def is_valid_code(code: str) -> bool:
    """Right prefix, length and alphabet, and the check character fits."""
    return codes.is_valid(code, CODE_LENGTH, prefix=CODE_PREFIX)


def verification_url(public_documents_url: str, code: str) -> str:
    """What a document's QR code opens: its public verification page."""
    return f"{public_documents_url.rstrip('/')}/verify/{code}"


def type_name(doc_type: str, language: str) -> str:
    """The document type's name in `language` ("id" or "en"); the code if unknown."""
    known = DOCUMENT_TYPES.get(doc_type)
    if known is None:
        return doc_type
    return known[2] if language == "en" else known[1]


@dataclass(frozen=True)
class IssuedDocument:
    id: uuid.UUID
    job_id: uuid.UUID
    application_id: uuid.UUID
    doc_type: str
    office: str
    year: int
    seq: int
    number: str
    verification_code: str
    holder_masked: str
    issued_at: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    revoke_reason: str | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def status(self) -> DocumentStatus:
        return "revoked" if self.revoked else "valid"


class NotRegistered(NotFound):
    """No issued document has that number or id."""

    def __init__(self, number_or_id: str) -> None:
        super().__init__("not_found", "Dokumen tidak ditemukan", "Document not found")
        self.number_or_id = number_or_id


class AlreadyRevoked(Conflict):
    """The document is revoked already; the refusal carries the revocation in force."""

    def __init__(self, document: IssuedDocument) -> None:
        assert document.revoked_at is not None
        super().__init__(
            "already_revoked",
            f"Dokumen {document.number} sudah dicabut",
            f"Document {document.number} is already revoked",
            current_state="revoked",
            number=document.number,
            revoked_at=document.revoked_at.isoformat(),
            revoked_by=document.revoked_by,
            revoke_reason=document.revoke_reason,
        )
        self.document = document
