"""The catalog domain: requirements with alternatives, and what is still missing."""

from __future__ import annotations

from typing import Any

import pytest

from mpp_intake.domain.catalog import (
    Alternative,
    Requirement,
    ServiceVersion,
    missing_as_json,
)
from mpp_shared.events.schemas import MissingItem

KTP = Requirement("ktp_el", "KTP-el orang tua", "Parents' KTP-el", mandatory=True)
KK = Requirement("kk", "Kartu Keluarga", "Family card", mandatory=True)
BIRTH_NOTE = Requirement(
    "surat_kelahiran",
    "Surat keterangan lahir",
    "Birth notice",
    mandatory=True,
    any_of=(Alternative("sptjm_kelahiran", "SPTJM kebenaran data kelahiran", "Sworn statement"),),
)
MARRIAGE = Requirement(
    "buku_nikah",
    "Buku nikah",
    "Marriage book",
    mandatory=True,
    any_of=(
        Alternative("akta_perkawinan", "Akta perkawinan", "Marriage certificate"),
        Alternative("sptjm_suami_istri", "SPTJM suami istri", "Sworn statement of marriage"),
    ),
)
WITNESS = Requirement(
    "ktp_saksi",
    "KTP-el dua saksi",
    "Two witnesses' KTP-el",
    mandatory=False,
    any_of=(Alternative("surat_saksi", "Surat saksi", "Witness letter"),),
)


def _service(*requirements: Requirement) -> ServiceVersion:
    return ServiceVersion(
        code="akta_kelahiran",
        version=1,
        name_id="Akta Kelahiran",
        name_en="Birth certificate",
        opd="DISDUKCAPIL",
        fee_idr=0,
        sla_amount=1,
        sla_unit="working_days",
        pickup_points=("MPP",),
        channels=("mpp_desk",),
        requirements=requirements,
    )


BIRTH = _service(BIRTH_NOTE, KK, KTP, MARRIAGE, WITNESS)


# --- Requirement --------------------------------------------------------------


def test_accepted_codes_are_the_code_and_its_alternatives() -> None:
    assert KK.accepted_codes == {"kk"}
    assert MARRIAGE.accepted_codes == {"buku_nikah", "akta_perkawinan", "sptjm_suami_istri"}


def test_name_joins_the_alternatives_in_the_language() -> None:
    assert MARRIAGE.name("id") == "Buku nikah atau Akta perkawinan atau SPTJM suami istri"
    assert MARRIAGE.name("en") == (
        "Marriage book or Marriage certificate or Sworn statement of marriage"
    )
    assert KK.name("id") == "Kartu Keluarga"
    assert KK.name("en") == "Family card"
    assert KK.name("fr") == "Kartu Keluarga"  # anything but English is Indonesian


def test_from_json() -> None:
    doc: dict[str, Any] = {
        "code": "buku_nikah",
        "name_id": "Buku nikah",
        "name_en": "Marriage book",
        "mandatory": True,
        "any_of": [
            {
                "code": "akta_perkawinan",
                "name_id": "Akta perkawinan",
                "name_en": "Marriage certificate",
            },
            {
                "code": "sptjm_suami_istri",
                "name_id": "SPTJM suami istri",
                "name_en": "Sworn statement of marriage",
            },
        ],
    }
    assert Requirement.from_json(doc) == MARRIAGE
    plain = Requirement.from_json(
        {"code": "kk", "name_id": "Kartu Keluarga", "name_en": "Family card", "mandatory": 1}
    )
    assert plain == KK
    assert plain.mandatory is True and plain.any_of == ()
    optional = Requirement.from_json({**doc, "mandatory": False})
    assert optional.mandatory is False


# --- ServiceVersion -----------------------------------------------------------


def test_nothing_provided_misses_every_mandatory_requirement_in_order() -> None:
    assert BIRTH.missing(set()) == [BIRTH_NOTE, KK, KTP, MARRIAGE]


@pytest.mark.parametrize("code", ["buku_nikah", "akta_perkawinan", "sptjm_suami_istri"])
def test_any_accepted_code_satisfies_a_requirement(code: str) -> None:
    provided = {"surat_kelahiran", "kk", "ktp_el", code}
    assert BIRTH.missing(provided) == []


def test_an_alternative_satisfies_only_its_own_requirement() -> None:
    assert BIRTH.missing({"sptjm_kelahiran", "kk"}) == [KTP, MARRIAGE]
    assert BIRTH.missing({"sptjm_suami_istri"}) == [BIRTH_NOTE, KK, KTP]


def test_optional_requirements_are_never_missing() -> None:
    assert WITNESS not in BIRTH.missing(set())
    assert _service(WITNESS).missing(set()) == []
    assert _service(WITNESS, KK).missing({"surat_saksi"}) == [KK]


def test_unknown_codes_satisfy_nothing() -> None:
    assert _service(KK).missing({"paspor", "KK", " kk"}) == [KK]


def test_a_service_without_requirements_is_always_complete() -> None:
    empty = _service()
    assert empty.missing(set()) == []
    assert empty.known_document_codes() == set()
    assert empty.requirement("kk") is None


def test_known_document_codes_include_the_alternatives() -> None:
    assert BIRTH.known_document_codes() == {
        "surat_kelahiran",
        "sptjm_kelahiran",
        "kk",
        "ktp_el",
        "buku_nikah",
        "akta_perkawinan",
        "sptjm_suami_istri",
        "ktp_saksi",
        "surat_saksi",
    }


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("kk", KK),
        ("buku_nikah", MARRIAGE),
        ("akta_perkawinan", MARRIAGE),
        ("sptjm_kelahiran", BIRTH_NOTE),
        ("surat_saksi", WITNESS),
        ("paspor", None),
        ("", None),
    ],
)
def test_requirement_found_by_any_accepted_code(code: str, expected: Requirement | None) -> None:
    assert BIRTH.requirement(code) == expected


def test_service_name_in_the_language() -> None:
    assert BIRTH.name("id") == "Akta Kelahiran"
    assert BIRTH.name("en") == "Birth certificate"


# --- missing_as_json ----------------------------------------------------------


def test_missing_as_json_names_each_requirement_in_both_languages() -> None:
    assert missing_as_json([KK, MARRIAGE]) == [
        {"code": "kk", "name_id": "Kartu Keluarga", "name_en": "Family card"},
        {
            "code": "buku_nikah",
            "name_id": "Buku nikah atau Akta perkawinan atau SPTJM suami istri",
            "name_en": "Marriage book or Marriage certificate or Sworn statement of marriage",
        },
    ]
    assert missing_as_json([]) == []


def test_missing_as_json_fits_the_event_schema() -> None:
    items = [MissingItem(**m) for m in missing_as_json(BIRTH.missing(set()))]
    assert [i.code for i in items] == ["surat_kelahiran", "kk", "ktp_el", "buku_nikah"]
    assert all(i.note is None for i in items)
