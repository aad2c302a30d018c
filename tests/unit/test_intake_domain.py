"""Intake rules: identity and contacts, request models, application state machine."""

from __future__ import annotations

import inspect
import itertools
import re
from typing import Any

import pytest
from pydantic import ValidationError

import mpp_intake.api.schemas as intake_schemas
from mpp_intake.api.schemas import (
    VALIDATION_MESSAGES,
    ApplicationCreate,
    ApplicationSearch,
    DocumentsHandedIn,
    VerificationDecision,
)
from mpp_intake.domain import identity
from mpp_intake.domain.applications import (
    ACCEPTS_DOCUMENTS,
    INTERRUPTIONS,
    NO_PROGRESS_DOCUMENT_EVENTS,
    PROGRESS_FROM_DOCUMENT_EVENT,
    PROGRESS_STEPS,
    REJECT_REASON_NAMES,
    Decision,
    RejectReason,
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
        ({"documents": "kk"}, "list_type"),
        ({"documents": ["kk", 7]}, "string_type"),
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


def test_service_and_pickup_point_are_left_to_the_catalog() -> None:
    """The catalog lives in the database now: the route, not the model, refuses
    an unknown service or a pickup point the service does not offer."""
    app = _create(service_code="paspor", pickup_point="KEC-ENTAH")
    assert (app.service_code, app.pickup_point) == ("paspor", "KEC-ENTAH")
    assert "unknown_service" not in VALIDATION_MESSAGES
    assert "unknown_pickup_point" not in VALIDATION_MESSAGES


def test_documents_handed_in_with_the_application() -> None:
    assert _create().documents == []
    app = _create(documents=[" kk ", "akta_kelahiran", "kk"])
    # stripped like every other text; duplicates are harmless (the route takes a set)
    assert app.documents == ["kk", "akta_kelahiran", "kk"]


def test_custom_errors_name_the_field() -> None:
    with pytest.raises(ValidationError) as info:
        _create(nik="9971011708450001", phone="12345", email="budi@")
    locs = {e["type"]: e["loc"] for e in info.value.errors()}
    assert locs == {
        "nik_invalid": ("nik",),
        "phone_invalid": ("phone",),
        "email_invalid": ("email",),
    }


# Every custom error type the request models can raise, by where it comes from.
CUSTOM_ERROR_TYPES = {
    "preferred_channel_without_contact",  # ApplicationCreate
    "reason_required",  # VerificationDecision
    "invalid_items_on_verify",  # VerificationDecision
    "items_required",  # VerificationDecision
    "nik_invalid",  # identity rules, through mpp_shared.contacts.checked
    "nik_format",
    "phone_invalid",
    "phone_unreadable",
    "email_invalid",
}


def test_every_custom_error_type_has_messages() -> None:
    # the list above is complete: no PydanticCustomError in the schemas is left out
    raised_in_source = set(
        re.findall(r'PydanticCustomError\(\s*"([a-z_]+)"', inspect.getsource(intake_schemas))
    )
    assert raised_in_source
    assert raised_in_source <= CUSTOM_ERROR_TYPES
    assert set(identity.MESSAGES) <= CUSTOM_ERROR_TYPES
    for error_type in CUSTOM_ERROR_TYPES:
        indonesian, english = VALIDATION_MESSAGES[error_type]
        assert indonesian and english and indonesian != english, error_type


def _check(requirement: str, result: str = "ok", note: str | None = None) -> dict[str, Any]:
    return {"requirement": requirement, "result": result, "note": note}


def test_verification_decision() -> None:
    verified = VerificationDecision(decision="verified", checks=[_check("kk"), _check("ktp_el")])
    assert verified.reason is None and verified.reason_codes == [] and verified.items == []
    assert [c.result for c in verified.checks] == ["ok", "ok"]

    rejected = VerificationDecision(
        decision="rejected",
        reason_codes=["dokumen_tidak_asli", "lainnya"],
        reason=" stempel kelurahan palsu ",
    )
    assert rejected.reason_codes == [RejectReason.FORGED_DOCUMENT, RejectReason.OTHER]
    assert rejected.reason == "stempel kelurahan palsu"
    # the reason codes are enough; the note is optional
    assert (
        VerificationDecision(decision="rejected", reason_codes=["permohonan_ganda"]).reason is None
    )

    returned = VerificationDecision(decision="returned", items=["kk"], reason="KK lama")
    assert returned.items == ["kk"]


def test_return_may_name_its_items_through_the_checks() -> None:
    decision = VerificationDecision(
        decision="returned",
        checks=[_check("ktp_el"), _check("kk", "invalid", " fotokopi buram ")],
    )
    assert decision.items == []  # the route returns the invalid checks
    assert [(c.requirement, c.note) for c in decision.checks if c.result == "invalid"] == [
        ("kk", "fotokopi buram")
    ]


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"reason": "KK tidak terbaca"},  # a free text alone is no longer enough
        {"reason_codes": []},
        {"checks": [{"requirement": "kk", "result": "invalid"}]},
    ],
)
def test_rejection_requires_a_reason_code(extra: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as info:
        VerificationDecision(decision="rejected", **extra)
    assert [e["type"] for e in info.value.errors()] == ["reason_required"]


@pytest.mark.parametrize(
    "checks",
    [[], [_check("kk")], [_check("kk"), _check("ktp_el")]],
)
def test_return_requires_items(checks: list[dict[str, Any]]) -> None:
    with pytest.raises(ValidationError) as info:
        VerificationDecision(decision="returned", checks=checks, reason="perbaiki")
    assert [e["type"] for e in info.value.errors()] == ["items_required"]


def test_verification_with_an_invalid_check_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        VerificationDecision(
            decision="verified",
            checks=[_check("kk", "invalid"), _check("ktp_el"), _check("akta_nikah", "invalid")],
        )
    (error,) = info.value.errors()
    assert error["type"] == "invalid_items_on_verify"
    assert error["ctx"] == {"items": "kk, akta_nikah"}
    assert VALIDATION_MESSAGES["invalid_items_on_verify"][1].format(**error["ctx"]) == (
        "cannot be verified: some requirements are invalid (kk, akta_nikah)"
    )


def test_verification_decision_refuses_other_decisions() -> None:
    with pytest.raises(ValidationError) as info:
        VerificationDecision(decision="approved")
    assert info.value.errors()[0]["type"] == "literal_error"
    with pytest.raises(ValidationError):
        VerificationDecision(decision="rejected", reason_codes=["lainnya"], reason="x" * 501)


@pytest.mark.parametrize(
    ("data", "error_type"),
    [
        ({"decision": "rejected", "reason_codes": ["tidak_suka"]}, "enum"),
        (
            {"decision": "verified", "checks": [{"requirement": "kk", "result": "maybe"}]},
            "literal_error",
        ),
        ({"decision": "verified", "checks": [{"result": "ok"}]}, "missing"),
        ({"decision": "verified", "checks": [_check("kk", note="x" * 501)]}, "string_too_long"),
        ({"decision": "verified", "checks": [{**_check("kk"), "nik": "1"}]}, "extra_forbidden"),
        ({"decision": "verified", "reason_code": "lainnya"}, "extra_forbidden"),
    ],
)
def test_verification_decision_field_errors(data: dict[str, Any], error_type: str) -> None:
    with pytest.raises(ValidationError) as info:
        VerificationDecision(**data)
    assert [e["type"] for e in info.value.errors()] == [error_type]


def test_every_reject_reason_is_named_in_both_languages() -> None:
    assert set(REJECT_REASON_NAMES) == set(RejectReason)
    for reason, (indonesian, english) in REJECT_REASON_NAMES.items():
        assert indonesian and english and indonesian != english, reason


def test_documents_handed_in() -> None:
    body = DocumentsHandedIn(documents=[" kk "], expected_version=3)
    assert (body.documents, body.expected_version) == (["kk"], 3)
    with pytest.raises(ValidationError) as info:
        DocumentsHandedIn(documents=[])
    assert [e["type"] for e in info.value.errors()] == ["too_short"]
    with pytest.raises(ValidationError) as info:
        DocumentsHandedIn(documents=["kk"], nik=MALE_NIK)  # type: ignore[call-arg]  # refused extra
    assert [e["type"] for e in info.value.errors()] == ["extra_forbidden"]


def test_application_search_validates_the_nik() -> None:
    assert ApplicationSearch(nik=" 3506 0426 0266 0001 ").nik == MALE_NIK
    for nik, code in (("12345", "nik_format"), ("9971011708450001", "nik_invalid")):
        with pytest.raises(ValidationError) as info:
            ApplicationSearch(nik=nik)
        assert [(e["loc"], e["type"]) for e in info.value.errors()] == [(("nik",), code)]
    with pytest.raises(ValidationError):
        ApplicationSearch(nik=MALE_NIK, name="Budi")  # type: ignore[call-arg]  # refused extra


# --- state machine and progress -----------------------------------------------


ALLOWED_DECISIONS = {
    (Status.SUBMITTED, Decision.VERIFIED),
    (Status.SUBMITTED, Decision.REJECTED),
    (Status.SUBMITTED, Decision.RETURNED),
    (Status.INCOMPLETE, Decision.REJECTED),
    (Status.RETURNED, Decision.REJECTED),
}


@pytest.mark.parametrize(("current", "decision"), list(itertools.product(Status, Decision)))
def test_can_decide(current: Status, decision: Decision) -> None:
    assert can_decide(current, decision) is ((current, decision) in ALLOWED_DECISIONS)


def test_statuses_and_decisions() -> None:
    assert {s.value for s in Status} == {
        "incomplete",
        "submitted",
        "returned",
        "verified",
        "rejected",
    }
    assert {d.value for d in Decision} == {"verified", "rejected", "returned"}
    # a decision names the status it leads to (the route does Status(decision.value))
    assert all(Status(d.value) for d in Decision)


def test_only_waiting_applications_accept_papers() -> None:
    assert ACCEPTS_DOCUMENTS == {Status.INCOMPLETE, Status.RETURNED}
    # a decided application takes neither papers nor decisions
    for status in (Status.VERIFIED, Status.REJECTED):
        assert status not in ACCEPTS_DOCUMENTS
        assert not any(can_decide(status, d) for d in Decision)


def test_every_status_is_a_progress_step() -> None:
    # the route writes the status as the progress; later_progress must know it
    assert {s.value for s in Status} <= set(PROGRESS_STEPS)
    assert "resubmitted" in PROGRESS_STEPS
    order = [PROGRESS_STEPS.index(s) for s in ("incomplete", "submitted", "verified", "picked_up")]
    assert order == sorted(order)


PATH = [s for s in PROGRESS_FROM_DOCUMENT_EVENT.values() if s not in INTERRUPTIONS]


@pytest.mark.parametrize(("current", "new"), list(itertools.product(PATH, PATH)))
def test_later_progress_never_goes_backwards_along_the_path(current: str, new: str) -> None:
    result = later_progress(current, new)
    assert result in (current, new)
    if current == "picked_up":
        assert result == "picked_up"
    else:
        assert PROGRESS_STEPS.index(result) == max(
            PROGRESS_STEPS.index(current), PROGRESS_STEPS.index(new)
        )


def test_path_events_reach_picked_up_in_any_order() -> None:
    for order in itertools.permutations(PATH):
        progress = "verified"
        for step in order:
            progress = later_progress(progress, step)
        assert progress == "picked_up"


@pytest.mark.parametrize("current", [s for s in PATH if s != "picked_up"])
def test_a_hold_shows_then_the_job_moves_on(current: str) -> None:
    assert later_progress(current, "on_hold") == "on_hold"
    assert later_progress("on_hold", current) == current  # resumed


@pytest.mark.parametrize("new", [*PATH, "on_hold"])
def test_handover_and_cancellation_are_final(new: str) -> None:
    assert later_progress("cancelled", new) == "cancelled"
    assert later_progress("picked_up", new) == "picked_up"
    if new != "picked_up":
        assert later_progress(new, "cancelled") == "cancelled"


def test_uncollected_follows_ready_and_gives_way_to_handover_or_cancellation() -> None:
    # the window ended: shown after ready_for_pickup whatever order the events came in
    assert later_progress("ready_for_pickup", "uncollected") == "uncollected"
    assert later_progress("uncollected", "ready_for_pickup") == "uncollected"
    assert later_progress("uncollected", "produced") == "uncollected"
    # still collectable later, or cancelled; both end it
    assert later_progress("uncollected", "picked_up") == "picked_up"
    assert later_progress("uncollected", "cancelled") == "cancelled"
    assert later_progress("picked_up", "uncollected") == "picked_up"
    assert "uncollected" not in INTERRUPTIONS


def test_document_event_mapping_matches_registered_types() -> None:
    document_types = {t for t in registered_types() if t.startswith("mpp.document.")}
    # A reminder to collect moves no progress; every other document event does.
    assert NO_PROGRESS_DOCUMENT_EVENTS == {"mpp.document.pickup_reminder.v1"}
    assert NO_PROGRESS_DOCUMENT_EVENTS <= document_types
    assert set(PROGRESS_FROM_DOCUMENT_EVENT) == document_types - NO_PROGRESS_DOCUMENT_EVENTS
    for event_type, step in PROGRESS_FROM_DOCUMENT_EVENT.items():
        assert step in PROGRESS_STEPS
        assert event_type == f"mpp.document.{step}.v1"


def test_unknown_progress_step_is_an_error() -> None:
    with pytest.raises(ValueError):
        later_progress("submitted", "teleported")
