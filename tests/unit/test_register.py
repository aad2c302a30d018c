"""Document register, pure parts: numbers, abbreviations, verification codes,
the public answer."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from mpp_documents.api.routes.verify import check_code, staff_record, verification_answer
from mpp_documents.domain import register as reg
from mpp_documents.domain.register import IssuedDocument
from mpp_shared import codes
from mpp_shared.web import ApiError

CATALOG_CODES = [
    "ktp_el",
    "kk",
    "akta_kelahiran",
    "akta_kematian",
    "pindah_keluar",
    "pindah_datang",
    "kia",
    "ktp_el_rusak_hilang",
    "perubahan_data",
    "akta_perkawinan",
    "akta_perceraian",
    "pencatatan_pengangkatan_anak",
]


# --- numbers ------------------------------------------------------------------


def test_number_format() -> None:
    assert (
        reg.format_number(doc_type="akta_kelahiran", office="3506", year=2026, seq=123)
        == "3506-AKL-2026-000123"
    )
    assert (
        reg.format_number(doc_type="ktp_el", office="disdukcapil-3506", year=2026, seq=1)
        == "DISDUKCAPIL-3506-KTP-2026-000001"
    )
    assert (
        reg.format_number(doc_type="kk", office=" KEC-PARE ", year=2027, seq=999_999)
        == "KEC-PARE-KK-2027-999999"
    )


def test_sequence_grows_a_seventh_digit_rather_than_wrapping() -> None:
    assert reg.format_number(doc_type="kk", office="3506", year=2026, seq=1_000_000).endswith(
        "-2026-1000000"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seq": 0}, "start at 1"),
        ({"year": 26}, "four-digit"),
        ({"office": "KEC PARE"}, "office"),
        ({"office": "KEC--PARE"}, "office"),
        ({"office": "-3506"}, "office"),
        ({"office": ""}, "office"),
        ({"office": "X" * 41}, "office"),
        ({"doc_type": "Akta"}, "document type"),
        ({"doc_type": "akta-kelahiran"}, "document type"),
        ({"doc_type": "akta__kelahiran"}, "document type"),
        ({"doc_type": "akl_"}, "document type"),
    ],
)
def test_malformed_parts_are_refused(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"doc_type": "kk", "office": "3506", "year": 2026, "seq": 1}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        reg.format_number(**args)  # type: ignore[arg-type]


def test_every_catalog_service_has_its_own_abbreviation_and_name() -> None:
    assert set(CATALOG_CODES) <= set(reg.ABBREVIATIONS)
    abbrs = [reg.abbreviation(c) for c in CATALOG_CODES]
    assert len(set(abbrs)) == len(abbrs)
    assert reg.abbreviation("akta_kelahiran") == "AKL"
    assert reg.abbreviation("ktp_el") == "KTP"
    for code in CATALOG_CODES:
        assert reg.type_name(code, "id") and reg.type_name(code, "en")
        assert reg.type_name(code, "id") != code


def test_abbreviations_are_short_upper_case_and_never_hyphenated() -> None:
    for abbr in reg.ABBREVIATIONS.values():
        assert abbr.isalpha() and abbr.isupper() and 2 <= len(abbr) <= 6


def test_unknown_types_fall_back_to_their_code_without_clashing() -> None:
    assert reg.abbreviation("surat_keterangan_baru") == "SURAT_KETERANGAN_BARU"
    assert reg.type_name("surat_keterangan_baru", "id") == "surat_keterangan_baru"
    # a new type whose code spells a taken abbreviation does not take its numbers
    assert reg.abbreviation("akl") == "AKL_"
    assert reg.abbreviation("kk") == "KK"  # mapped, not a fallback
    candidates = [*reg.ABBREVIATIONS, "akl", "ktp", "akl_x", "kk2", "surat_baru", "surat"]
    abbrs = [reg.abbreviation(c) for c in candidates]
    assert len(set(abbrs)) == len(abbrs)
    assert not any("-" in a for a in abbrs)


def test_a_number_names_one_series_and_sequence() -> None:
    """Read from the right, a number gives back its parts: no two series share numbers."""
    offices = ["3506", "DISDUKCAPIL-3506", "KEC-PARE", "MPP", "KEC-PARE-2"]
    seen: dict[str, tuple[str, str, int, int]] = {}
    for doc_type in [*CATALOG_CODES, "akl", "surat_baru"]:
        for office in offices:
            for year in (2026, 2027):
                for seq in (1, 12, 123456):
                    number = reg.format_number(doc_type=doc_type, office=office, year=year, seq=seq)
                    assert number not in seen, (number, seen.get(number))
                    seen[number] = (doc_type, office, year, seq)
                    head, abbr, year_part, seq_part = number.rsplit("-", 3)
                    assert (head, abbr, int(year_part), int(seq_part)) == (
                        office,
                        reg.abbreviation(doc_type),
                        year,
                        seq,
                    )


def test_the_year_is_the_regency_s_year() -> None:
    # 1 January 2027, 00:30 WIB is still 2026 in UTC
    new_year_wib = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)
    assert reg.issue_year(new_year_wib) == 2027
    assert reg.issue_date(new_year_wib) == date(2027, 1, 1)
    assert reg.issue_year(datetime(2026, 12, 31, 16, 59, tzinfo=UTC)) == 2026
    assert reg.issue_year(datetime(2027, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=7)))) == 2027
    with pytest.raises(ValueError, match="aware"):
        reg.issue_year(datetime(2026, 6, 1, 10, 0))


# --- verification codes ---------------------------------------------------------


def test_verification_code_shape() -> None:
    drawn = [reg.new_verification_code() for _ in range(300)]
    assert len(set(drawn)) == len(drawn)
    for code in drawn:
        assert len(code) == 11
        assert code.startswith("V")
        assert set(code) <= set(codes.ALPHABET)
        assert not set(code) & set("0O1I")
        assert reg.is_valid_code(code)
        assert reg.is_valid_code(f" {code[:4].lower()}-{code[4:8]} {code[8:]} ")


def test_verification_codes_are_not_tracking_or_complaint_codes() -> None:
    assert not reg.is_valid_code(codes.new_code(10))  # tracking code
    assert not reg.is_valid_code(codes.new_code(9, prefix="P"))  # complaint code
    assert not reg.is_valid_code(codes.new_code(10, prefix="P"))


def test_every_mistyped_character_is_caught() -> None:
    code = reg.new_verification_code()
    for position in range(1, len(code)):
        for letter in codes.ALPHABET:
            if letter != code[position]:
                mutated = code[:position] + letter + code[position + 1 :]
                assert not reg.is_valid_code(mutated), mutated


def test_check_code_answers_422_on_the_code_field_in_both_languages() -> None:
    code = reg.new_verification_code()
    assert check_code(code.lower()) == code
    wrong = code[:-1] + ("2" if code[-1] != "2" else "3")
    with pytest.raises(ApiError) as info:
        check_code(wrong)
    error = info.value
    assert error.status_code == 422
    body_id, body_en = error.body("id"), error.body("en")
    assert body_id["code"] == "invalid"
    assert body_id["errors"] == [
        {
            "field": "code",
            "type": "check_character",
            "message": "kode verifikasi tidak sah; periksa kembali setiap karakternya",
        }
    ]
    assert (
        body_en["errors"][0]["message"] == "is not a valid verification code; check every character"
    )


# --- answers --------------------------------------------------------------------


def _document(**changes: object) -> IssuedDocument:
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "job_id": uuid.uuid4(),
        "application_id": uuid.uuid4(),
        "doc_type": "akta_kelahiran",
        "office": "3506",
        "year": 2027,
        "seq": 123,
        "number": "3506-AKL-2027-000123",
        "verification_code": reg.new_verification_code(),
        "holder_masked": "B*** S***",
        "issued_at": datetime(2026, 12, 31, 18, 0, tzinfo=UTC),
    }
    fields.update(changes)
    return IssuedDocument(**fields)  # type: ignore[arg-type]


def test_the_public_answer_of_a_valid_document() -> None:
    document = _document()
    answer = verification_answer(document, "id").model_dump(mode="json")
    assert answer == {
        "verification_code": document.verification_code,
        "status": "valid",
        "valid": True,
        "document_type": "akta_kelahiran",
        "document_type_name": "Akta Kelahiran",
        "number": "3506-AKL-2027-000123",
        "issued_on": "2027-01-01",  # WIB
        "office": "3506",
        "holder": "B*** S***",
        "revoked_on": None,
    }
    english = verification_answer(document, "en")
    assert english.document_type_name == "Birth certificate"


def test_the_public_answer_of_a_revoked_document_tells_nothing_of_why_or_who() -> None:
    document = _document(
        revoked_at=datetime(2027, 2, 3, 4, 5, tzinfo=UTC),
        revoked_by="supervisor-7",
        revoke_reason="Data ibu kandung Siti Aminah salah",
    )
    answer = verification_answer(document, "en").model_dump(mode="json")
    assert (answer["status"], answer["valid"], answer["revoked_on"]) == (
        "revoked",
        False,
        "2027-02-03",
    )
    text = repr(answer)
    for secret in ("supervisor-7", "Siti", str(document.job_id), str(document.application_id)):
        assert secret not in text


def test_staff_record_carries_the_revocation() -> None:
    at = datetime(2027, 2, 3, 4, 5, tzinfo=UTC)
    document = _document(revoked_at=at, revoked_by="sup-1", revoke_reason="salah cetak")
    record = staff_record(document)
    assert (record.status, record.revoked_at, record.revoked_by, record.revoke_reason) == (
        "revoked",
        at,
        "sup-1",
        "salah cetak",
    )
    assert record.id == document.id and record.number == document.number
