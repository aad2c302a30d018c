"""Outreach lists ("jemput bola"): residents of a desa who lack a document.

Dukcapil uploads a CSV; every row is checked here with the intake rules,
without I/O, so the upload answers with each bad row's line number and what
to correct. The desa officer then records visits and turns an entry into an
application.

CSV: UTF-8 (a BOM is accepted), `,` or `;` between fields, a header row
naming the columns `nik,full_name,desa_code,service_code,phone,address`
(any order; phone and address may be left out or empty).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from mpp_intake.domain import identity
from mpp_shared.contacts import InvalidValue
from mpp_shared.pii import mask_nik

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
REQUIRED_COLUMNS = ("nik", "full_name", "desa_code", "service_code")
OPTIONAL_COLUMNS = ("phone", "address")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
NAME_LENGTH = (2, 120)  # as for an application
ADDRESS_MAX = 300
REGENCY = "3506"  # Kabupaten Kediri
_DESA_CODE = re.compile(r"^\d{10}$")
_DESA_COUNTER = re.compile(r"^DESA-(\d{10})$")


class EntryStatus(StrEnum):
    OPEN = "open"
    VISITED = "visited"
    NOT_HOME = "not_home"
    REFUSED = "refused"
    MOVED = "moved"
    APPLIED = "applied"


class Outcome(StrEnum):
    """What a desa officer found on a visit; it becomes the entry's status."""

    VISITED = "visited"
    NOT_HOME = "not_home"
    REFUSED = "refused"
    MOVED = "moved"


# Still to be worked on: a resident is listed once while in one of these.
WORKABLE = (EntryStatus.OPEN, EntryStatus.VISITED, EntryStatus.NOT_HOME)


def can_follow_up(status: str) -> bool:
    return status != EntryStatus.APPLIED


def can_apply(status: str) -> bool:
    return status != EntryStatus.APPLIED


def desa_of_counter(counter: str | None) -> str | None:
    """`DESA-3506172001` -> `3506172001`; None for any other counter."""
    match = _DESA_COUNTER.match(counter or "")
    return match.group(1) if match else None


def normalise_desa_code(value: str) -> str:
    """`35.06.17.2001` or `3506172001` -> `3506172001`; the code is checked separately."""
    return re.sub(r"[\s.]", "", value)


def is_kediri_desa_code(code: str) -> bool:
    return bool(_DESA_CODE.match(code)) and code.startswith(REGENCY)


# --- messages ------------------------------------------------------------------

MESSAGES: dict[str, tuple[str, str]] = {
    **identity.MESSAGES,
    "missing": ("wajib diisi", "is required"),
    "name_length": (
        f"nama harus {NAME_LENGTH[0]} sampai {NAME_LENGTH[1]} karakter",
        f"the name must be {NAME_LENGTH[0]} to {NAME_LENGTH[1]} characters",
    ),
    "desa_code_invalid": (
        "kode desa harus 10 angka kode wilayah Kemendagri di Kabupaten Kediri "
        "(diawali 3506, contoh: 3506172001)",
        "the desa code must be a 10-digit Kemendagri region code in Kabupaten Kediri "
        "(starting with 3506, e.g. 3506172001)",
    ),
    "unknown_service": (
        "layanan tidak dikenal dalam katalog: {value}",
        "service not in the catalog: {value}",
    ),
    "address_too_long": (
        f"alamat terlalu panjang (maksimal {ADDRESS_MAX} karakter)",
        f"the address is too long (at most {ADDRESS_MAX} characters)",
    ),
    "too_many_fields": (
        "baris ini punya {count} kolom, lebih banyak dari judul kolom ({expected})",
        "this row has {count} fields, more than the header ({expected})",
    ),
    "duplicate_row": (
        "NIK dan layanan yang sama sudah ada di baris {first}",
        "the same NIK and service are already on line {first}",
    ),
    "already_listed": (
        "penduduk ini sudah ada di daftar jemput bola yang masih berjalan untuk layanan ini",
        "this resident is already on an outreach list still being worked for this service",
    ),
}


def message(code: str, **values: Any) -> tuple[str, str]:
    id_, en = MESSAGES[code]
    return id_.format(**values), en.format(**values)


# --- results -------------------------------------------------------------------


@dataclass(frozen=True)
class OutreachRow:
    """A good row, values normalised (NIK compact, phone E.164, desa code digits)."""

    line: int
    nik: str
    full_name: str
    desa_code: str
    service_code: str
    phone: str | None
    address: str | None

    @property
    def kecamatan_code(self) -> str:
        return self.desa_code[:6]


@dataclass(frozen=True)
class RowProblem:
    """One reason a row was refused. Never holds a clear NIK."""

    line: int
    field: str
    code: str
    message_id: str
    message_en: str
    nik_masked: str | None = None

    def reason(self, language: str) -> str:
        return self.message_en if language == "en" else self.message_id

    def as_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "field": self.field,
            "code": self.code,
            "message_id": self.message_id,
            "message_en": self.message_en,
            "nik_masked": self.nik_masked,
        }


@dataclass(frozen=True)
class ParsedUpload:
    rows: list[OutreachRow]
    problems: list[RowProblem]
    rows_total: int  # data rows in the file (blank lines not counted)

    @property
    def rejected_lines(self) -> list[int]:
        return sorted({p.line for p in self.problems})


class UploadRefused(Exception):
    """The file as a whole cannot be read; nothing is stored."""

    def __init__(self, status_code: int, code: str, message_id: str, message_en: str) -> None:
        super().__init__(message_en)
        self.status_code = status_code
        self.code = code
        self.message_id = message_id
        self.message_en = message_en


def _refuse(code: str, message_id: str, message_en: str, status_code: int = 422) -> UploadRefused:
    return UploadRefused(status_code, code, message_id, message_en)


# --- parsing -------------------------------------------------------------------


def parse_outreach_csv(
    data: bytes, known_services: Collection[str], *, max_rows: int = MAX_ROWS
) -> ParsedUpload:
    """Check an uploaded CSV: the good rows, and every problem of the bad ones
    with its line number (the header is line 1). Raises UploadRefused when the
    file itself is unusable: not UTF-8, empty, no header, a required column
    missing, no data row, or more than `max_rows` rows."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _refuse(
            "not_utf8",
            f"berkas bukan teks UTF-8 (byte ke-{exc.start + 1}); simpan ulang sebagai CSV UTF-8",
            f"the file is not UTF-8 text (byte {exc.start + 1}); save it again as CSV UTF-8",
        ) from exc
    if not text.strip():
        raise _refuse("empty_file", "berkas kosong", "the file is empty")
    first_line = next(line for line in text.splitlines() if line.strip())
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header, header_line = _header(reader)
        rows, problems, total = _rows(reader, header, header_line, known_services, max_rows)
    except csv.Error as exc:
        raise _refuse(
            "unreadable",
            f"berkas CSV tidak dapat dibaca di baris {reader.line_num}: {exc}",
            f"the CSV file cannot be read at line {reader.line_num}: {exc}",
        ) from exc
    if total == 0:
        raise _refuse(
            "no_rows",
            "berkas hanya berisi judul kolom, tanpa data penduduk",
            "the file holds only the header row, no residents",
        )
    return ParsedUpload(rows=rows, problems=problems, rows_total=total)


def _header(reader: Any) -> tuple[list[str], int]:
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        names = [c.strip().lstrip("\ufeff").lower() for c in cells]
        expected = ",".join(COLUMNS)
        if not set(names) & set(COLUMNS):
            raise _refuse(
                "header_missing",
                f"baris pertama harus judul kolom: {expected}",
                f"the first line must be the header row: {expected}",
            )
        missing = [c for c in REQUIRED_COLUMNS if c not in names]
        if missing:
            raise _refuse(
                "header_incomplete",
                f"kolom wajib tidak ada di judul kolom: {', '.join(missing)} "
                f"(judul kolom: {expected})",
                f"required columns missing from the header row: {', '.join(missing)} "
                f"(header: {expected})",
            )
        repeated = sorted({n for n in names if n and names.count(n) > 1})
        if repeated:
            raise _refuse(
                "header_duplicate",
                f"kolom muncul lebih dari sekali di judul kolom: {', '.join(repeated)}",
                f"columns named more than once in the header row: {', '.join(repeated)}",
            )
        return names, reader.line_num
    raise _refuse("empty_file", "berkas kosong", "the file is empty")


def _rows(
    reader: Any,
    header: list[str],
    header_line: int,
    known_services: Collection[str],
    max_rows: int,
) -> tuple[list[OutreachRow], list[RowProblem], int]:
    rows: list[OutreachRow] = []
    problems: list[RowProblem] = []
    seen: dict[tuple[str, str], int] = {}
    total = 0
    previous_end = header_line
    for cells in reader:
        line, previous_end = previous_end + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue
        total += 1
        if total > max_rows:
            raise _refuse(
                "too_many_rows",
                f"berkas terlalu besar: paling banyak {max_rows} baris data per unggahan; "
                "bagi menjadi beberapa berkas",
                f"the file is too large: at most {max_rows} data rows per upload; "
                "split it into several files",
                413,
            )
        row, found = _check(line, cells, header, known_services)
        if row is not None:
            key = (row.nik, row.service_code)
            if key in seen:
                id_, en = message("duplicate_row", first=seen[key])
                found.append(RowProblem(line, "nik", "duplicate_row", id_, en, mask_nik(row.nik)))
            else:
                seen[key] = line
                rows.append(row)
        problems.extend(found)
    return rows, problems, total


def _check(
    line: int, cells: list[str], header: list[str], known_services: Collection[str]
) -> tuple[OutreachRow | None, list[RowProblem]]:
    values = {name: cell.strip() for name, cell in zip(header, cells, strict=False) if name}
    raw_nik = re.sub(r"[\s.]", "", values.get("nik", ""))
    # Masked even when wrong; something that is not a number is hidden whole.
    masked = (mask_nik(raw_nik) if raw_nik.isdigit() else "*" * len(raw_nik)) or None
    problems: list[RowProblem] = []

    def refuse(field: str, code: str, **ctx: Any) -> None:
        id_, en = message(code, **ctx)
        problems.append(RowProblem(line, field, code, id_, en, masked))

    if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
        refuse("row", "too_many_fields", count=len(cells), expected=len(header))
    nik = ""
    if not raw_nik:
        refuse("nik", "missing")
    else:
        try:
            nik = identity.validate_nik(raw_nik)
        except InvalidValue as exc:
            refuse("nik", exc.code)
    name = " ".join(values.get("full_name", "").split())
    if not name:
        refuse("full_name", "missing")
    elif not NAME_LENGTH[0] <= len(name) <= NAME_LENGTH[1]:
        refuse("full_name", "name_length")
    desa = normalise_desa_code(values.get("desa_code", ""))
    if not desa:
        refuse("desa_code", "missing")
    elif not is_kediri_desa_code(desa):
        refuse("desa_code", "desa_code_invalid")
    service = values.get("service_code", "").lower()
    if not service:
        refuse("service_code", "missing")
    elif service not in known_services:
        refuse("service_code", "unknown_service", value=values.get("service_code", ""))
    phone: str | None = None
    if values.get("phone"):
        try:
            phone = identity.normalise_phone(values["phone"])
        except InvalidValue as exc:
            refuse("phone", exc.code)
    address = " ".join(values.get("address", "").split()) or None
    if address and len(address) > ADDRESS_MAX:
        refuse("address", "address_too_long")
    if problems:
        return None, problems
    row = OutreachRow(
        line=line,
        nik=nik,
        full_name=name,
        desa_code=desa,
        service_code=service,
        phone=phone,
        address=address,
    )
    return row, problems
