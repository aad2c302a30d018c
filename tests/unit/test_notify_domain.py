"""Notify: message templates per citizen-facing event and the choice of recipient."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
import pytest
from pydantic import ValidationError

import mpp_intake
from mpp_complaints.api.schemas import ComplaintCreate
from mpp_notify import templates
from mpp_notify.domain import (
    template_check,
    template_preview,
    template_rendering,
    template_variables,
)
from mpp_notify.domain.recipients import Recipient, choose
from mpp_shared.events import examples, schemas  # noqa: F401  (registers the event types)
from mpp_shared.events.envelope import registered_types
from mpp_shared.pii import mask_name, mask_nik

CITIZEN_FACING = sorted(t for t, m in registered_types().items() if m.citizen_facing)
PHONE = "+6281234567890"
EMAIL = "budi.santoso@example.go.id"
NIK = "3506042602660001"
TRACKING = "K7M2QX9WAB"
NOW = datetime(2024, 8, 17, 9, 30, tzinfo=UTC)
# 19 August 2024, 10:00 UTC = 17:00 WIB (UTC+7)
READY = datetime(2024, 8, 19, 10, 0, tzinfo=UTC)
# 14 days later: 2 September 2024, 17:00 WIB
WINDOW_ENDS = READY + timedelta(days=14)
APP_ID = uuid.uuid4()
KK_ITEM = {"code": "kk", "name_id": "Kartu Keluarga", "name_en": "Family card"}
MARRIAGE_ITEM = {
    "code": "buku_nikah",
    "name_id": "Buku nikah atau SPTJM suami istri",
    "name_en": "Marriage book or sworn statement of marriage",
}
SEED_FILE = Path(mpp_intake.__file__).parent / "migrations" / "003_catalog_seed.sql"


def _job(state: str, **extra: Any) -> dict[str, Any]:
    return {
        "job_id": uuid.uuid4(),
        "application_id": APP_ID,
        "tracking_code": TRACKING,
        "service_code": "akta_kelahiran",
        "state": state,
        "version": 3,
        "pickup_point": "KEC-PARE",
        "occurred_at": NOW,
        **extra,
    }


SAMPLES: dict[str, dict[str, Any]] = {
    "mpp.application.submitted.v1": {
        "application_id": APP_ID,
        "tracking_code": TRACKING,
        "service_code": "ktp_el",
        "channel": "mpp_desk",
        "status": "submitted",
        "nik_masked": mask_nik(NIK),
        "applicant_name_masked": mask_name("Budi Santoso"),
        "contact_sealed": "c2VhbGVk",
        "submitted_at": NOW,
        "catalog_version": 1,
        "expected_ready_at": READY,
    },
    "mpp.application.incomplete.v1": {
        "application_id": APP_ID,
        "tracking_code": TRACKING,
        "service_code": "akta_kelahiran",
        "channel": "mpp_desk",
        "nik_masked": mask_nik(NIK),
        "applicant_name_masked": mask_name("Budi Santoso"),
        "contact_sealed": "c2VhbGVk",
        "catalog_version": 1,
        "missing": [KK_ITEM, MARRIAGE_ITEM],
        "submitted_at": NOW,
    },
    "mpp.application.completed.v1": {
        "application_id": APP_ID,
        "tracking_code": TRACKING,
        "service_code": "akta_kelahiran",
        "expected_ready_at": READY,
        "completed_at": NOW,
    },
    "mpp.application.returned.v1": {
        "application_id": APP_ID,
        "tracking_code": TRACKING,
        "service_code": "kk",
        "items": [{**KK_ITEM, "note": "fotokopi buram"}, MARRIAGE_ITEM],
        "returned_by": "officer-7",
        "returned_at": NOW,
    },
    "mpp.application.resubmitted.v1": {
        "application_id": APP_ID,
        "tracking_code": TRACKING,
        "service_code": "kk",
        "expected_ready_at": READY,
        "resubmitted_at": NOW,
    },
    "mpp.application.verified.v1": {
        "application_id": APP_ID,
        "tracking_code": TRACKING,
        "service_code": "kk",
        "verified_by": "officer-7",
        "verified_at": NOW,
        "expected_ready_at": READY,
    },
    "mpp.application.rejected.v1": {
        "application_id": APP_ID,
        "tracking_code": TRACKING,
        "service_code": "kk",
        "reason": "dokumen tidak asli. fotokopi KK tidak terbaca",
        "reason_codes": ["dokumen_tidak_asli"],
        "rejected_by": "officer-7",
        "rejected_at": NOW,
    },
    "mpp.document.ready_for_pickup.v1": _job("ready_for_pickup"),
    "mpp.document.picked_up.v1": _job("picked_up", handed_over_by="desk-2"),
    "mpp.document.on_hold.v1": _job(
        "on_hold",
        reason_code="blanko_habis",
        reason_id="blanko KTP-el sedang habis",
        reason_en="blank KTP-el cards are out of stock",
    ),
    "mpp.document.cancelled.v1": _job("cancelled", reason="permohonan ganda"),
    "mpp.document.pickup_reminder.v1": _job(
        "ready_for_pickup", reminder=2, window_ends_at=WINDOW_ENDS
    ),
    "mpp.document.uncollected.v1": _job("ready_for_pickup", window_ends_at=WINDOW_ENDS),
    "mpp.sla.breached.v1": {
        "clock_id": uuid.uuid4(),
        "subject_type": "job",
        "subject_id": uuid.uuid4(),
        "application_id": APP_ID,
        "tracking_code": TRACKING,
        "service_code": "ktp_el",
        "pickup_point": "MPP",
        "started_at": NOW,
        "due_at": READY,
        "fired_at": READY,
    },
    "mpp.complaint.filed.v1": {
        "complaint_id": uuid.uuid4(),
        "complaint_code": "P23456789A",
        "category": "pungli",
        "channel": "web",
        "anonymous": False,
        "filed_at": NOW,
    },
    "mpp.complaint.rejected.v1": {
        "complaint_id": uuid.uuid4(),
        "complaint_code": "P23456789A",
        "category": "pungli",
        "reason": "duplicate",
        "duplicate_of": uuid.uuid4(),
        "duplicate_of_code": "P3456789AB",
        "rejected_by": "officer-1",
        "rejected_at": NOW,
    },
    "mpp.complaint.responded.v1": {
        "complaint_id": uuid.uuid4(),
        "complaint_code": "P23456789A",
        "category": "pungli",
        "opd": "INSPEKTORAT",
        "response": "Petugas telah diberi sanksi.",
        "responded_by": "opd-inspektorat",
        "responded_at": NOW,
        "reopen_until": NOW,
    },
    "mpp.complaint.closed.v1": {
        "complaint_id": uuid.uuid4(),
        "complaint_code": "P23456789A",
        "category": "pungli",
        "opd": "INSPEKTORAT",
        "closed_by": "reporter",
        "rating": 4,
        "closed_at": NOW,
    },
    "mpp.complaint.deadline_extended.v1": {
        "complaint_id": uuid.UUID("00000000-0000-4000-8000-000000000301"),
        "complaint_code": "P23456789A",
        "category": "pelayanan",
        "kind": "permintaan_informasi",
        "reason": "Data anggaran masih dihimpun dari tiga OPD.",
        "previous_due_at": NOW,
        "due_at": NOW,
        "extended_by": "officer-ani",
        "extended_at": NOW,
    },
}


def _variables(event_type: str, language: str, **changes: Any) -> dict[str, Any]:
    """As the notify handler builds them: the event's data plus the service's name."""
    data = registered_types()[event_type](**{**SAMPLES[event_type], **changes})
    variables = data.model_dump(mode="json")
    variables["service"] = template_variables.service_name(
        variables.get("service_code", ""), language
    )
    return variables


# --- templates ----------------------------------------------------------------


def test_samples_cover_every_citizen_facing_type() -> None:
    assert set(SAMPLES) == set(CITIZEN_FACING)
    assert len(CITIZEN_FACING) >= 10


@pytest.mark.parametrize("event_type", CITIZEN_FACING)
def test_every_citizen_facing_type_has_both_languages(event_type: str) -> None:
    assert set(templates.TEMPLATES[event_type]) >= {"id", "en"}
    assert all(text.strip() for text in templates.TEMPLATES[event_type].values())


# Internal events messaged to an officer rather than a citizen.
OFFICER_FACING = {"mpp.complaint.escalated.v1", "mpp.population.follow_up_overdue.v1"}


def test_no_template_for_internal_events() -> None:
    internal = {t for t, m in registered_types().items() if not m.citizen_facing}
    assert internal & set(templates.TEMPLATES) == OFFICER_FACING
    assert set(templates.TEMPLATES) <= set(registered_types())


@pytest.mark.parametrize("language", ["id", "en"])
def test_escalation_message_for_the_supervisor(language: str) -> None:
    body = templates.render(
        "mpp.complaint.escalated.v1",
        language,
        {
            "complaint_code": "P23456789A",
            "category": "pungli",
            "step": "follow_up",
            "opd": "INSPEKTORAT",
            "due_at": "2026-11-24T08:30:00+00:00",
        },
    )
    assert "P23456789A" in body and "INSPEKTORAT" in body and "WIB" in body
    assert ("Escalation" in body) == (language == "en")


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("event_type", CITIZEN_FACING)
def test_every_template_renders_from_its_event(event_type: str, language: str) -> None:
    variables = _variables(event_type, language)
    text = templates.render(event_type, language, variables)
    assert "{{" not in text and "}}" not in text
    assert "None" not in text
    code = variables.get("tracking_code") or variables["complaint_code"]
    assert code in text
    # no NIK, masked or not, and no name
    assert NIK not in text and mask_nik(NIK) not in text
    assert not re.search(r"\d{16}", text)
    assert "Budi" not in text and mask_name("Budi Santoso") not in text


@pytest.mark.parametrize("event_type", CITIZEN_FACING)
def test_languages_differ(event_type: str) -> None:
    indonesian = templates.render(event_type, "id", _variables(event_type, "id"))
    english = templates.render(event_type, "en", _variables(event_type, "en"))
    assert indonesian != english


def test_submitted_message_in_both_languages() -> None:
    indonesian = templates.render(
        "mpp.application.submitted.v1", "id", _variables("mpp.application.submitted.v1", "id")
    )
    english = templates.render(
        "mpp.application.submitted.v1", "en", _variables("mpp.application.submitted.v1", "en")
    )
    assert indonesian == (
        "Permohonan KTP-el Anda sudah kami terima dengan kode K7M2QX9WAB. "
        "Perkiraan selesai: 19 Agustus 2024, pukul 17.00 WIB. Simpan kode ini."
    )
    assert english == (
        "We have received your electronic ID card (KTP-el) application, code K7M2QX9WAB. "
        "Expected ready: 19 August 2024, 17:00 WIB. Keep this code."
    )
    for text in (indonesian, english):
        assert NIK not in text
        assert "3506" not in text


def test_submitted_without_a_promise_says_so_plainly() -> None:
    # events published before the promise existed carry no expected_ready_at
    for language in ("id", "en"):
        variables = _variables("mpp.application.submitted.v1", language, expected_ready_at=None)
        text = templates.render("mpp.application.submitted.v1", language, variables)
        assert ": -." in text
        assert "None" not in text


@pytest.mark.parametrize(
    "event_type",
    [
        "mpp.application.submitted.v1",
        "mpp.application.completed.v1",
        "mpp.application.resubmitted.v1",
        "mpp.application.verified.v1",
    ],
)
def test_promise_is_given_in_western_indonesian_time(event_type: str) -> None:
    indonesian = templates.render(event_type, "id", _variables(event_type, "id"))
    english = templates.render(event_type, "en", _variables(event_type, "en"))
    assert "19 Agustus 2024, pukul 17.00 WIB" in indonesian
    assert "19 August 2024, 17:00 WIB" in english


@pytest.mark.parametrize(
    "event_type", ["mpp.document.pickup_reminder.v1", "mpp.document.uncollected.v1"]
)
def test_pickup_window_messages_say_where_until_when_and_what_to_bring(event_type: str) -> None:
    indonesian = templates.render(event_type, "id", _variables(event_type, "id"))
    english = templates.render(event_type, "en", _variables(event_type, "en"))
    for text in (indonesian, english):
        assert "KEC-PARE" in text and TRACKING in text
    assert "2 September 2024, pukul 17.00 WIB" in indonesian
    assert "2 September 2024, 17:00 WIB" in english
    assert "KTP-el asli" in indonesian and "surat kuasa" in indonesian
    assert "original KTP-el" in english and "letter of authority" in english
    if event_type == "mpp.document.uncollected.v1":
        assert "Disdukcapil" in indonesian and "Disdukcapil" in english
    else:
        assert indonesian.startswith("Pengingat: akta kelahiran Anda")
        assert english.startswith("Reminder: your birth certificate")


def test_incomplete_lists_what_to_bring() -> None:
    event_type = "mpp.application.incomplete.v1"
    indonesian = templates.render(event_type, "id", _variables(event_type, "id"))
    english = templates.render(event_type, "en", _variables(event_type, "en"))
    assert indonesian.endswith("siapkan: Kartu Keluarga; Buku nikah atau SPTJM suami istri.")
    assert indonesian.startswith("Permohonan akta kelahiran Anda tercatat dengan kode K7M2QX9WAB")
    assert english.endswith("bring: Family card; Marriage book or sworn statement of marriage.")
    assert "birth certificate" in english


def test_returned_lists_the_items_with_the_verifiers_notes() -> None:
    event_type = "mpp.application.returned.v1"
    indonesian = templates.render(event_type, "id", _variables(event_type, "id"))
    english = templates.render(event_type, "en", _variables(event_type, "en"))
    assert "perlu diperbaiki: Kartu Keluarga (fotokopi buram); Buku nikah atau SPTJM" in indonesian
    assert "needs corrections: Family card (fotokopi buram); Marriage book or" in english


@pytest.mark.parametrize(
    ("value", "indonesian", "english"),
    [
        (None, "-", "-"),
        ("", "-", "-"),
        ("2024-08-17T09:30:00Z", "17 Agustus 2024, pukul 16.30 WIB", "17 August 2024, 16:30 WIB"),
        # late in the UTC day is already the next day (and year) in WIB
        (
            "2024-12-31T18:15:00+00:00",
            "1 Januari 2025, pukul 01.15 WIB",
            "1 January 2025, 01:15 WIB",
        ),
        ("2024-03-05T08:00:00+07:00", "5 Maret 2024, pukul 08.00 WIB", "5 March 2024, 08:00 WIB"),
    ],
)
def test_date_filters(value: str | None, indonesian: str, english: str) -> None:
    assert (
        template_rendering.ENVIRONMENT.from_string("{{ v | tanggal }}").render(v=value)
        == indonesian
    )
    assert (
        template_rendering.ENVIRONMENT.from_string("{{ v | date_en }}").render(v=value) == english
    )


def test_listing_filters() -> None:
    items = [
        KK_ITEM,
        {**MARRIAGE_ITEM, "note": None},
        {"code": "ktp_el", "name_id": "KTP-el", "name_en": "ID card", "note": "sudah kedaluwarsa"},
    ]
    assert template_rendering.ENVIRONMENT.from_string("{{ v | daftar }}").render(v=items) == (
        "Kartu Keluarga; Buku nikah atau SPTJM suami istri; KTP-el (sudah kedaluwarsa)"
    )
    assert template_rendering.ENVIRONMENT.from_string("{{ v | listing_en }}").render(v=items) == (
        "Family card; Marriage book or sworn statement of marriage; ID card (sudah kedaluwarsa)"
    )
    assert template_rendering.ENVIRONMENT.from_string("{{ v | daftar }}").render(v=[]) == ""


def test_rejection_carries_the_reason() -> None:
    text = templates.render(
        "mpp.application.rejected.v1", "en", _variables("mpp.application.rejected.v1", "en")
    )
    assert "fotokopi KK tidak terbaca" in text


def test_ready_for_pickup_names_the_place() -> None:
    event_type = "mpp.document.ready_for_pickup.v1"
    assert "KEC-PARE" in templates.render(event_type, "id", _variables(event_type, "id"))


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("event_type", CITIZEN_FACING)
def test_missing_variable_is_an_error(event_type: str, language: str) -> None:
    with pytest.raises(jinja2.UndefinedError):
        templates.render(event_type, language, {"service": "KTP-el"})


def test_missing_tracking_code_is_an_error() -> None:
    with pytest.raises(jinja2.UndefinedError, match="tracking_code"):
        templates.render("mpp.application.submitted.v1", "en", {"service": "KTP-el"})


def test_unknown_language_falls_back_to_indonesian() -> None:
    variables = _variables("mpp.application.verified.v1", "id")
    assert templates.render("mpp.application.verified.v1", "fr", variables) == templates.render(
        "mpp.application.verified.v1", "id", variables
    )


def test_unknown_event_type_is_an_error() -> None:
    with pytest.raises(KeyError):
        templates.render("mpp.nothing.v1", "id", {})


def _seeded_service_codes() -> set[str]:
    found = re.findall(
        r"^INSERT INTO catalog_services \(code, current_version, active\)\s*VALUES \('([a-z_]+)'",
        SEED_FILE.read_text(),
        flags=re.MULTILINE,
    )
    return set(found)


def test_service_names() -> None:
    assert template_variables.service_name("ktp_el", "id") == "KTP-el"
    assert template_variables.service_name("akta_kelahiran", "en") == "birth certificate"
    assert template_variables.service_name("kia", "id") == "Kartu Identitas Anak"
    assert template_variables.service_name("kia", "en") == "child identity card (KIA)"
    assert template_variables.service_name("unknown_code", "en") == "unknown_code"
    for code, (indonesian, english) in template_variables.SERVICE_NAMES.items():
        assert indonesian and english and indonesian != english, code


def test_service_names_belong_to_the_seeded_catalog() -> None:
    seeded = _seeded_service_codes()
    assert len(seeded) >= 12  # the reader found the seed's services
    assert set(template_variables.SERVICE_NAMES) <= seeded


@pytest.mark.parametrize("language", ["id", "en"])
def test_citizens_read_the_catalogs_name_for_every_seeded_service(language: str) -> None:
    # Every seeded service is named in the event by intake; notify uses that name,
    # so a service published tomorrow is named too.
    for code in sorted(_seeded_service_codes()):
        variables = {
            "service_code": code,
            "service_name_id": f"Nama {code}",
            "service_name_en": f"Name {code}",
        }
        expected = f"Name {code}" if language == "en" else f"Nama {code}"
        assert template_variables.service_label(variables, language) == expected
    # An event without names (older producers) falls back to the fixed list, then the code.
    assert template_variables.service_label({"service_code": "kk"}, "id") == "Kartu Keluarga"
    assert template_variables.service_label({"service_code": "new_service"}, "en") == "new_service"


# --- recipients ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("contact", "expected"),
    [
        ({"phone": PHONE, "email": EMAIL, "preferred_channel": "email"}, ("email", EMAIL)),
        ({"phone": PHONE, "email": EMAIL, "preferred_channel": "whatsapp"}, ("whatsapp", PHONE)),
        ({"phone": PHONE, "email": EMAIL, "preferred_channel": "sms"}, ("sms", PHONE)),
        ({"phone": PHONE, "email": EMAIL}, ("sms", PHONE)),
        ({"email": EMAIL}, ("email", EMAIL)),
        ({"phone": PHONE}, ("sms", PHONE)),
        # preferred channel without its contact: fall back to SMS, then e-mail
        ({"phone": PHONE, "preferred_channel": "email"}, ("sms", PHONE)),
        ({"email": EMAIL, "preferred_channel": "whatsapp"}, ("email", EMAIL)),
        ({"email": EMAIL, "preferred_channel": "sms"}, ("email", EMAIL)),
        ({"phone": "", "email": EMAIL}, ("email", EMAIL)),
    ],
)
def test_choose(contact: dict[str, Any], expected: tuple[str, str]) -> None:
    recipient = choose(contact)
    assert recipient is not None
    assert (recipient.channel, recipient.address) == expected


@pytest.mark.parametrize(
    "contact",
    [
        {},
        {"language": "en"},
        {"preferred_channel": "sms"},
        {"phone": None, "email": ""},
        {"name": "Budi"},
    ],
)
def test_choose_without_contact(contact: dict[str, Any]) -> None:
    assert choose(contact) is None


def test_choose_keeps_the_language() -> None:
    assert choose({"phone": PHONE}) == Recipient("sms", PHONE, "id")
    assert choose({"email": EMAIL, "language": "en"}) == Recipient("email", EMAIL, "en")


def test_recipient_masked_hides_the_address() -> None:
    sms = Recipient("sms", PHONE, "id")
    whatsapp = Recipient("whatsapp", PHONE, "id")
    email = Recipient("email", EMAIL, "en")
    assert sms.masked == whatsapp.masked == "+628*******890"
    assert email.masked == "b***@example.go.id"
    assert PHONE not in sms.masked
    assert EMAIL not in email.masked and "santoso" not in email.masked


def test_complaint_phone_is_normalised_and_masked_in_the_notification() -> None:
    with pytest.raises(ValidationError) as refused:
        ComplaintCreate(description="Petugas meminta uang tambahan", phone="081234567")
    assert refused.value.errors()[0]["type"] == "phone_invalid"

    complaint = ComplaintCreate(description="Petugas meminta uang tambahan", phone="+500 51234")
    assert complaint.phone == "+50051234"  # a short, valid foreign number, as E.164
    recipient = choose({"phone": complaint.phone, "language": complaint.language})
    assert recipient is not None
    assert complaint.phone not in recipient.masked
    assert recipient.masked.count("*") >= len(recipient.masked) // 2


# --- templates per channel and the save-time check ----------------------------

TEMPLATED = sorted({*CITIZEN_FACING, *OFFICER_FACING})
SUBMITTED = "mpp.application.submitted.v1"


def _example_variables(event_type: str, language: str) -> dict[str, Any]:
    return template_variables.variables_for(examples.example(event_type), language)


def _refusal(
    event_type: str, channel: str, subject: str | None, body: str
) -> template_check.Problem:
    with pytest.raises(template_check.TemplateRefused) as refused:
        template_check.check(event_type, channel, "id", subject, body)
    assert len(refused.value.problems) >= 1
    return refused.value.problems[0]


def test_templated_types_are_the_citizen_facing_ones_and_the_escalation() -> None:
    assert template_rendering.template_event_types() == TEMPLATED
    assert set(templates.TEMPLATES) == set(templates.SUBJECTS) == set(TEMPLATED)
    assert all(set(templates.SUBJECTS[t]) == {"id", "en"} for t in TEMPLATED)


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("channel", ["sms", "whatsapp", "email"])
@pytest.mark.parametrize("event_type", TEMPLATED)
def test_every_default_renders_from_the_example(
    event_type: str, channel: str, language: str
) -> None:
    variables = _example_variables(event_type, language)
    rendered = templates.render_default(event_type, channel, language, variables)
    code = (
        variables.get("tracking_code") or variables.get("complaint_code") or variables["report_id"]
    )
    texts = [rendered.body] if rendered.subject is None else [rendered.subject, rendered.body]
    for text in texts:
        assert "None" not in text and "{{" not in text and "{%" not in text
        assert code in text
        assert "3506**" not in text and "B*** S***" not in text and "c2VhbGVk" not in text
    if channel == "email":
        assert rendered.subject and "\n" not in rendered.subject
        assert len(rendered.subject) <= template_check.SUBJECT_LIMIT
    else:
        assert rendered.subject is None
    assert rendered.body == templates.render(event_type, language, variables)
    assert template_preview.sms_segments(rendered.body) <= 3


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("channel", ["sms", "whatsapp", "email"])
@pytest.mark.parametrize("event_type", TEMPLATED)
def test_every_default_passes_the_save_time_check(
    event_type: str, channel: str, language: str
) -> None:
    text = templates.default_text(event_type, channel, language)
    used = template_check.check(event_type, channel, language, text.subject, text.body)
    assert {"tracking_code", "complaint_code", "report_id"} & set(used)
    assert set(used) <= set(template_variables.allowed_variables(event_type))


def test_subject_lines_name_the_code() -> None:
    variables = _example_variables(SUBMITTED, "id")
    assert templates.render_default(SUBMITTED, "email", "id", variables).subject == (
        "Permohonan ABCDEFGH2J diterima"
    )
    variables = _example_variables(SUBMITTED, "en")
    assert templates.render_default(SUBMITTED, "email", "en", variables).subject == (
        "Application ABCDEFGH2J received"
    )
    assert templates.default_text(SUBMITTED, "email", "fr") == templates.default_text(
        SUBMITTED, "email", "id"
    )


def test_variables_leave_out_personal_data_and_name_the_service() -> None:
    variables = _example_variables(SUBMITTED, "en")
    assert variables["service"] == "electronic ID card (KTP-el)"
    assert variables["tracking_code"] == "ABCDEFGH2J"
    for personal in ("nik_masked", "applicant_name_masked", "contact_sealed"):
        assert personal not in variables
        assert personal not in template_variables.allowed_variables(SUBMITTED)
    allowed = template_variables.allowed_variables("mpp.document.picked_up.v1")
    assert "representative_masked" not in allowed and "collected_by" in allowed
    assert "holder_nik_check" not in template_variables.allowed_variables(
        "mpp.application.verified.v1"
    )
    assert "service" in allowed and "tracking_code" in allowed


def test_an_absent_optional_value_never_reads_none() -> None:
    variables = _example_variables("mpp.document.ready_for_pickup.v1", "id")
    variables["pickup_point"] = None
    body = templates.render("mpp.document.ready_for_pickup.v1", "id", variables)
    assert "None" not in body and " di -" not in body
    assert template_rendering.ENVIRONMENT.from_string("[{{ v }}]").render(v=None) == "[-]"


def test_check_refuses_an_unknown_variable_and_lists_the_allowed_ones() -> None:
    problem = _refusal(SUBMITTED, "sms", None, "Kode {{ tracking_code }} {{ kode_pos }}")
    assert (problem.field, problem.type) == ("body", "unknown_variable")
    assert problem.detail["unknown"] == ["kode_pos"]
    assert "tracking_code" in problem.detail["allowed"] and "service" in problem.detail["allowed"]
    assert "kode_pos" in problem.message_id and "tracking_code" in problem.message_en
    # a variable of another event type is unknown here too
    problem = _refusal(SUBMITTED, "sms", None, "{{ tracking_code }} {{ complaint_code }}")
    assert problem.detail["unknown"] == ["complaint_code"]


def test_check_names_the_line_of_a_syntax_error() -> None:
    problem = _refusal(SUBMITTED, "whatsapp", None, "Kode {{ tracking_code }}.\nSiap {{ service }")
    assert (problem.field, problem.type) == ("body", "template_syntax")
    assert problem.detail["line"] == 2
    assert "baris 2" in problem.message_id and "line 2" in problem.message_en
    problem = _refusal(SUBMITTED, "sms", None, "{% if tracking_code %}kode {{ tracking_code }}")
    assert problem.type == "template_syntax"


def test_check_refuses_unknown_filters_even_in_a_branch() -> None:
    problem = _refusal(
        SUBMITTED, "sms", None, "{{ tracking_code }}{% if false %}{{ service | teriak }}{% endif %}"
    )
    assert (problem.type, problem.detail["unknown"]) == ("unknown_filter", ["teriak"])
    assert "tanggal" in problem.message_id
    problem = _refusal(SUBMITTED, "sms", None, "{% if tracking_code is kosong %}x{% endif %}")
    assert problem.detail["unknown"] == ["kosong"]
    # the MPP filters and Jinja2's own ones are fine
    used = template_check.check(
        SUBMITTED,
        "sms",
        "id",
        None,
        "{{ tracking_code | lower }} {{ expected_ready_at | tanggal }}",
    )
    assert used == ["expected_ready_at", "tracking_code"]


@pytest.mark.parametrize(
    "field", ["nik_masked", "applicant_name_masked", "contact_sealed", "holder_nik_check"]
)
def test_check_refuses_personal_data_and_says_why(field: str) -> None:
    event_type = "mpp.application.verified.v1" if field == "holder_nik_check" else SUBMITTED
    problem = _refusal(event_type, "sms", None, "{{ tracking_code }} {{ " + field + " }}")
    assert (problem.type, problem.detail["personal"]) == ("personal_data", [field])
    assert "NIK" in problem.message_id and "data pribadi" in problem.message_id
    assert "personal data" in problem.message_en


def test_check_renders_against_the_example() -> None:
    # the items of `missing` have name_id, not nama
    problem = _refusal(
        "mpp.application.incomplete.v1",
        "sms",
        None,
        "{{ tracking_code }}: {% for m in missing %}{{ m.nama }} {% endfor %}",
    )
    assert (problem.type, problem.field) == ("render_failed", "body")
    assert "nama" in problem.message_en and "example" in problem.message_en
    # a date is text: it has no attribute year
    problem = _refusal(SUBMITTED, "sms", None, "{{ tracking_code }} {{ submitted_at.year }}")
    assert problem.type == "render_failed"
    # what works for the example but not for an event without optional fields
    problem = _refusal(SUBMITTED, "sms", None, "{{ tracking_code }} {{ pickup_point.lower() }}")
    assert problem.type == "render_failed" and "optional" in problem.message_en
    problem = _refusal(
        SUBMITTED, "sms", None, "{% if tracking_code == 'x' %}{{ service }}{% endif %}"
    )
    assert problem.type == "renders_empty"


def test_check_runs_templates_in_a_sandbox() -> None:
    problem = _refusal(SUBMITTED, "sms", None, "{{ tracking_code.__class__.__mro__ }}")
    assert problem.type == "render_failed" and "unsafe" in problem.message_en
    problem = _refusal(SUBMITTED, "sms", None, "{{ tracking_code * 100000000 }}")
    assert problem.type == "render_failed"
    problem = _refusal(SUBMITTED, "sms", None, "{% include 'other' %}")
    assert problem.type == "template_not_allowed"


@pytest.mark.parametrize(
    ("channel", "subject", "body", "field", "type_"),
    [
        ("sms", None, "   ", "body", "empty"),
        ("sms", None, "x" * 1601, "body", "too_long"),
        ("whatsapp", None, "x" * 4097, "body", "too_long"),
        ("email", "Kode {{ tracking_code }}", "x" * 20001, "body", "too_long"),
        ("sms", "Subjek", "{{ tracking_code }}", "subject", "subject_not_allowed"),
        ("email", None, "{{ tracking_code }}", "subject", "missing"),
        ("email", " ", "{{ tracking_code }}", "subject", "missing"),
        ("email", "x" * 201, "{{ tracking_code }}", "subject", "too_long"),
        ("email", "Baris satu\nbaris dua", "{{ tracking_code }}", "subject", "multiline"),
        ("email", "{{ nama }}", "{{ tracking_code }}", "subject", "unknown_variable"),
    ],
)
def test_check_refuses_the_shape(
    channel: str, subject: str | None, body: str, field: str, type_: str
) -> None:
    problem = _refusal(SUBMITTED, channel, subject, body)
    assert (problem.field, problem.type) == (field, type_)


def test_check_accepts_the_longest_body_of_each_channel() -> None:
    for channel, limit in template_check.BODY_LIMITS.items():
        body = "{{ tracking_code }}" + "x" * (limit - len("{{ tracking_code }}"))
        subject = "Kode {{ tracking_code }}" if channel == "email" else None
        assert template_check.check(SUBMITTED, channel, "id", subject, body) == ["tracking_code"]


def test_check_refuses_an_unknown_target() -> None:
    with pytest.raises(template_check.TemplateRefused) as refused:
        template_check.check("mpp.document.queued.v1", "fax", "fr", None, "x")
    problems = {p.field: p for p in refused.value.problems}
    assert set(problems) == {"event_type", "channel", "language"}
    assert "mpp.application.submitted.v1" in problems["event_type"].message_en
    assert "sms, whatsapp, email" in problems["channel"].message_id


def test_preview_renders_with_given_data() -> None:
    data = examples.example("mpp.application.incomplete.v1").model_copy(
        update={"tracking_code": "ZZZZZZZZ2J"}
    )
    shown = template_preview.preview(
        "mpp.application.incomplete.v1",
        "email",
        "en",
        template_rendering.TemplateText(
            "Missing papers for {{ tracking_code }}", "Bring: {{ missing | listing_en }}"
        ),
        data,
    )
    assert shown.subject == "Missing papers for ZZZZZZZZ2J"
    assert shown.body == "Bring: Family card; Marriage book or SPTJM"
    assert shown.characters == len(shown.body)
    assert shown.sms_segments == 1
    assert shown.variables_used == ["missing", "tracking_code"]


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 0),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # extension characters take two septets
        ("€" * 81, 2),
        # 306 septets would fit two parts, but an escape pair is never split
        ("a" * 152 + "€" * 77, 3),
        ("é" * 160, 1),  # accented letters of the GSM-7 table stay GSM-7
        ("é" * 161, 2),
        ("ā" * 70, 1),  # outside GSM-7: UCS-2
        ("ā" * 71, 2),
        ("ā" * 134, 2),
        ("ā" * 135, 3),
        ("a" * 159 + "’", 3),  # one curly quote turns 160 characters into UCS-2
        ("😀" * 35, 1),  # beyond the BMP: two UTF-16 units each
        ("😀" * 36, 2),
    ],
)
def test_sms_segments(text: str, segments: int) -> None:
    assert template_preview.sms_segments(text) == segments
