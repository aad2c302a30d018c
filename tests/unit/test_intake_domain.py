"""Intake rules: identity and contacts, request models, application state machine."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from pydantic import ValidationError

from mpp_intake.api.schemas import VALIDATION_MESSAGES, ApplicationCreate, VerificationDecision
from mpp_intake.domain import identity
from mpp_intake.domain.applications import (
    PROGRESS_FROM_DOCUMENT_EVENT,
    PROGRESS_STEPS,
    Status,
    can_decide,
    later_progress,
)
from mpp_intake.domain.identity import InvalidValue, normalise_phone, validate_email, validate_nik
from mpp_shared.events import schemas  # noqa: F401  (registers the event types)
from mpp_shared.events.envelope import registered_types

MALE_NIK = "3506042602660001"  # Kediri regency, born 26-02-1966
FEMALE_NIK = "3506046602660001"  # same date, day + 40


# --- NIK ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "nik",
    [
        MALE_NIK,
        FEMALE_NIK,
        "3506043101660001",  # day 31
        "3506047101660001",  # day 71 = 31, woman
        "3506040102000001",  # day 01, year 2000
        "3506044102660001",  # day 41 = 01, woman
    ],
)
def test_valid_niks(nik: str) -> None:
    assert validate_nik(nik) == nik


def test_nik_separators_are_removed() -> None:
    assert validate_nik("3506 0426 0266 0001") == MALE_NIK
    assert validate_nik("3506.0426.0266.0001") == MALE_NIK


@pytest.mark.parametrize(
    ("nik", "code"),
    [
        ("350604260266000", "nik_format"),  # 15 digits
        ("35060426026600011", "nik_format"),  # 17 digits
        ("35060426026600A1", "nik_format"),  # a letter
        ("", "nik_format"),
        ("abcdefghijklmnop", "nik_format"),
        ("9971011708450001", "nik_invalid"),  # province 99 does not exist
        ("3506040002660001", "nik_invalid"),  # day 00
        ("3506043202660001", "nik_invalid"),  # day 32
        ("3506043602660001", "nik_invalid"),  # day 36
        ("3506044002660001", "nik_invalid"),  # day 40
        ("3506047202660001", "nik_invalid"),  # day 72
        ("3506049902660001", "nik_invalid"),  # day 99
        ("3506042613660001", "nik_invalid"),  # month 13
        ("3506042600660001", "nik_invalid"),  # month 00
        ("3506043102660001", "nik_invalid"),  # 31 February
        ("3506047102660001", "nik_invalid"),  # 31 February, woman
    ],
)
def test_invalid_niks(nik: str, code: str) -> None:
    with pytest.raises(InvalidValue) as info:
        validate_nik(nik)
    assert info.value.code == code
    assert str(info.value) == identity.MESSAGES[code][0]
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("day", [*range(32, 41), *range(72, 100), 0])
def test_every_impossible_day_is_refused(day: int) -> None:
    nik = f"350604{day:02d}01660001"
    with pytest.raises(InvalidValue) as info:
        validate_nik(nik)
    assert info.value.code == "nik_invalid"


@pytest.mark.parametrize("day", [*range(1, 32), *range(41, 72)])
def test_every_possible_day_of_january_is_accepted(day: int) -> None:
    nik = f"350604{day:02d}01660001"
    assert validate_nik(nik) == nik


# --- phone and e-mail ---------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("081234567890", "+6281234567890"),
        ("+62 812-3456-7890", "+6281234567890"),
        ("62 812 3456 7890", "+6281234567890"),
        ("(0812) 3456 7890", "+6281234567890"),
    ],
)
def test_normalise_phone(raw: str, expected: str) -> None:
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "0812", "+62 999 1234 5678 9999"])
def test_invalid_phone(raw: str) -> None:
    with pytest.raises(InvalidValue) as info:
        normalise_phone(raw)
    assert info.value.code == "phone_invalid"


@pytest.mark.parametrize("raw", ["abc", "telepon saya", "", "++"])
def test_unreadable_phone(raw: str) -> None:
    with pytest.raises(InvalidValue) as info:
        normalise_phone(raw)
    assert info.value.code == "phone_unreadable"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Budi.Santoso@Example.go.id", "budi.santoso@example.go.id"),
        ("  siti@mail.id ", "siti@mail.id"),
    ],
)
def test_validate_email(raw: str, expected: str) -> None:
    assert validate_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "budi",
        "budi@",
        "@example.id",
        "budi@example",
        "bu di@example.id",
        "a@b@c.id",
        "x" * 250 + "@example.id",
    ],
)
def test_invalid_email(raw: str) -> None:
    with pytest.raises(InvalidValue) as info:
        validate_email(raw)
    assert info.value.code == "email_invalid"


def test_every_identity_code_has_both_languages() -> None:
    for code, (indonesian, english) in identity.MESSAGES.items():
        assert indonesian and english and indonesian != english, code
        assert VALIDATION_MESSAGES[code] == (indonesian, english)


# --- ApplicationCreate / VerificationDecision ---------------------------------


def _create(**overrides: Any) -> ApplicationCreate:
    data: dict[str, Any] = {"service_code": "ktp_el", "nik": MALE_NIK, "full_name": "Budi Santoso"}
    return ApplicationCreate(**{**data, **overrides})


def _error_types(**overrides: Any) -> list[str]:
    with pytest.raises(ValidationError) as info:
        _create(**overrides)
    return [e["type"] for e in info.value.errors()]


def test_application_create_normalises_contacts() -> None:
    app = _create(
        phone="0812-3456-7890",
        email=" Budi@Example.go.id ",
        preferred_channel="whatsapp",
        pickup_point="KEC-PARE",
        nik=" 3506 0426 0266 0001 ",
    )
    assert app.phone == "+6281234567890"
    assert app.email == "budi@example.go.id"
    assert app.nik == MALE_NIK
    assert app.channel == "mpp_desk"
    assert app.language == "id"


def test_empty_contacts_become_none() -> None:
    app = _create(phone="", email="")
    assert app.phone is None and app.email is None


@pytest.mark.parametrize(
    ("overrides", "error_type"),
    [
        ({"nik": "9971011708450001"}, "nik_invalid"),
        ({"nik": "12345"}, "nik_format"),
        ({"service_code": "paspor"}, "unknown_service"),
        ({"pickup_point": "KEC-ENTAH"}, "unknown_pickup_point"),
        ({"phone": "12345"}, "phone_invalid"),
        ({"phone": "nomor saya"}, "phone_unreadable"),
        ({"email": "budi@"}, "email_invalid"),
        (
            {"preferred_channel": "email", "phone": "081234567890"},
            "preferred_channel_without_contact",
        ),
        (
            {"preferred_channel": "sms", "email": "budi@example.id"},
            "preferred_channel_without_contact",
        ),
        ({"preferred_channel": "whatsapp"}, "preferred_channel_without_contact"),
        ({"preferred_channel": "pigeon"}, "literal_error"),
        ({"channel": "fax"}, "literal_error"),
        ({"full_name": "B"}, "string_too_short"),
        ({"full_name": " B "}, "string_too_short"),
        ({"mother_name": "Siti"}, "extra_forbidden"),
    ],
)
def test_application_create_error_types(overrides: dict[str, Any], error_type: str) -> None:
    assert _error_types(**overrides) == [error_type]


def test_custom_errors_name_the_field() -> None:
    with pytest.raises(ValidationError) as info:
        _create(nik="9971011708450001", service_code="paspor")
    locs = {e["type"]: e["loc"] for e in info.value.errors()}
    assert locs == {"nik_invalid": ("nik",), "unknown_service": ("service_code",)}


def test_every_custom_error_type_has_messages() -> None:
    for error_type in (
        "unknown_service",
        "unknown_pickup_point",
        "preferred_channel_without_contact",
        "reason_required",
        "nik_invalid",
        "nik_format",
        "phone_invalid",
    ):
        assert error_type in VALIDATION_MESSAGES


def test_verification_decision() -> None:
    assert VerificationDecision(decision="verified").reason is None
    rejected = VerificationDecision(decision="rejected", reason=" KK tidak terbaca ")
    assert rejected.reason == "KK tidak terbaca"


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_rejection_requires_a_reason(reason: str | None) -> None:
    with pytest.raises(ValidationError) as info:
        VerificationDecision(decision="rejected", reason=reason)
    assert [e["type"] for e in info.value.errors()] == ["reason_required"]


def test_verification_decision_refuses_other_decisions() -> None:
    with pytest.raises(ValidationError) as info:
        VerificationDecision(decision="approved")
    assert info.value.errors()[0]["type"] == "literal_error"
    with pytest.raises(ValidationError):
        VerificationDecision(decision="rejected", reason="x" * 501)


# --- state machine and progress -----------------------------------------------


@pytest.mark.parametrize(("current", "target"), list(itertools.product(Status, Status)))
def test_can_decide(current: Status, target: Status) -> None:
    allowed = {(Status.SUBMITTED, Status.VERIFIED), (Status.SUBMITTED, Status.REJECTED)}
    assert can_decide(current, target) is ((current, target) in allowed)


@pytest.mark.parametrize(
    ("current", "new"), list(itertools.product(PROGRESS_STEPS, PROGRESS_STEPS))
)
def test_later_progress_never_goes_backwards(current: str, new: str) -> None:
    result = later_progress(current, new)
    assert result in (current, new)
    assert PROGRESS_STEPS.index(result) == max(
        PROGRESS_STEPS.index(current), PROGRESS_STEPS.index(new)
    )


def test_document_events_reach_picked_up_in_any_order() -> None:
    steps = list(PROGRESS_FROM_DOCUMENT_EVENT.values())
    for order in itertools.permutations(steps):
        progress = "verified"
        for step in order:
            progress = later_progress(progress, step)
        assert progress == "picked_up"


def test_document_event_mapping_matches_registered_types() -> None:
    document_types = {t for t in registered_types() if t.startswith("mpp.document.")}
    assert set(PROGRESS_FROM_DOCUMENT_EVENT) == document_types
    for event_type, step in PROGRESS_FROM_DOCUMENT_EVENT.items():
        assert step in PROGRESS_STEPS
        assert event_type == f"mpp.document.{step}.v1"


def test_unknown_progress_step_is_an_error() -> None:
    with pytest.raises(ValueError):
        later_progress("submitted", "teleported")
