"""The three kinds of reports: which step each starts, which missed steps are
escalated, the information clock (UU 14/2008) with its one extension on the
working calendar, and the personal-data check of a published answer."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from mpp_complaints.domain.complaints import ComplaintCreate
from mpp_complaints.domain.kinds import (
    InformationClock,
    Kind,
    escalates,
    extension_refusal,
    first_step,
    is_publishable,
    keeps_clock_when_assigned,
)
from mpp_complaints.domain.lifecycle import Step
from mpp_complaints.domain.open311 import Open311Error, form_to_complaint, request_filter
from mpp_complaints.domain.publication import personal_data_in, what_to_remove
from mpp_complaints.settings import ComplaintsSettings
from mpp_shared.workcal import WorkCalendar

WIB = ZoneInfo("Asia/Jakarta")
CAL = WorkCalendar()
CLOCK = InformationClock()


def wib(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=WIB)


def test_a_filing_is_a_complaint_unless_it_says_otherwise() -> None:
    assert ComplaintCreate(description="antrean terlalu lama").kind == "pengaduan"
    asked = ComplaintCreate(description="berapa anggaran MPP?", kind="permintaan_informasi")
    assert asked.kind == "permintaan_informasi" and asked.publication_consent is False
    with pytest.raises(ValidationError):
        ComplaintCreate.model_validate({"description": "antrean terlalu lama", "kind": "pujian"})


def test_each_kind_starts_its_own_step_and_only_aspirations_never_escalate() -> None:
    assert first_step(Kind.PENGADUAN) is Step.VERIFICATION
    assert first_step(Kind.ASPIRASI) is Step.VERIFICATION
    assert first_step(Kind.PERMINTAAN_INFORMASI) is Step.INFORMATION
    assert keeps_clock_when_assigned(Kind.PERMINTAAN_INFORMASI)
    assert not keeps_clock_when_assigned(Kind.PENGADUAN)
    for step in ("verification", "follow_up", "information"):
        assert escalates("pengaduan", step) and escalates("permintaan_informasi", step)
        assert not escalates("aspirasi", step)
    assert not escalates("pengaduan", "auto_close")


def test_the_answer_is_due_ten_working_days_after_filing() -> None:
    # Monday 13 July 2026, no holiday in the next weeks: Monday 27 July at closing.
    assert CLOCK.answer_due(CAL, wib(2026, 7, 13, 9)) == wib(2026, 7, 27, 15, 30)
    # Friday after closing (11:30) counts from Monday 20 July: Monday 3 August.
    assert CLOCK.answer_due(CAL, wib(2026, 7, 17, 14)) == wib(2026, 8, 3, 15, 30)
    # Independence Day (17 Aug) and the Prophet's Birthday (25 Aug) are not counted.
    assert CAL.holiday_name(wib(2026, 8, 17).date()) and CAL.holiday_name(wib(2026, 8, 25).date())
    assert CLOCK.answer_due(CAL, wib(2026, 8, 10, 9)) == wib(2026, 8, 26, 15, 30)


def test_the_extension_adds_seven_working_days_to_the_deadline_day() -> None:
    # From Monday 27 July: Tuesday 28 July is the first of the seven.
    assert CLOCK.extended_due(CAL, wib(2026, 7, 27, 15, 30)) == wib(2026, 8, 5, 15, 30)
    # Across a weekend and a Friday's early closing: Wednesday 26 Aug -> Friday 4 Sep 11:30.
    assert CLOCK.extended_due(CAL, wib(2026, 8, 26, 15, 30)) == wib(2026, 9, 4, 11, 30)
    settings = ComplaintsSettings(information_answer_days=5, information_extension_days=2)
    custom = settings.information_clock()
    assert custom.answer_due(CAL, wib(2026, 7, 13, 9)) == wib(2026, 7, 20, 15, 30)
    assert custom.extended_due(CAL, wib(2026, 7, 20, 15, 30)) == wib(2026, 7, 22, 15, 30)
    assert ComplaintsSettings().information_clock() == InformationClock(10, 7)


def test_only_a_waiting_request_for_information_is_extended_and_only_once() -> None:
    due, before = wib(2026, 7, 27, 15, 30), wib(2026, 7, 20, 10)

    def refusal(
        kind: str = "permintaan_informasi",
        step: str | None = "information",
        extended_at: datetime | None = None,
        now: datetime = before,
    ) -> str | None:
        refused = extension_refusal(kind=kind, step=step, extended_at=extended_at, due=due, now=now)
        return refused[0] if refused else None

    assert refusal() is None
    assert refusal(kind="pengaduan") == "not_an_information_request"
    assert refusal(extended_at=before) == "already_extended"
    assert refusal(step="auto_close") == "not_awaiting_answer"
    assert refusal(now=wib(2026, 7, 28, 8)) == "deadline_passed"


def test_only_an_answered_aspiration_or_request_for_information_is_published() -> None:
    assert is_publishable("aspirasi", "responded") and is_publishable("aspirasi", "closed")
    assert is_publishable("permintaan_informasi", "closed")
    assert not is_publishable("pengaduan", "closed")
    assert not is_publishable("permintaan_informasi", "in_progress")


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Anggaran pelayanan MPP tahun 2026 adalah Rp 1,2 miliar.", []),
        ("Hubungi kami di 0812-3456-7890 untuk keterangan.", ["phone"]),
        ("Telepon +62 812 3456 7890 saja.", ["phone"]),
        ("Kantor (0354) 689901 buka pukul 08.00.", ["phone"]),
        ("NIK 3506 1234 5678 0001 sudah terdaftar.", ["identity_number"]),
        ("KK 3506123456780001.", ["identity_number"]),
        ("Kirim ke siti.aminah@example.co.id ya.", ["email", "name"]),
        ("Kirim ke humas@example.go.id ya.", ["email"]),
        ("Ibu Siti Aminah menanyakan jadwal.", ["name"]),
        ("Pertanyaan dari AMINAH tentang jadwal.", ["name"]),
        ("Nomor surat 470/123/2026 tertanggal 3 Juli.", []),
    ],
)
def test_personal_data_is_found_in_a_public_text(text: str, found: list[str]) -> None:
    assert personal_data_in(text, "Siti Aminah") == found


def test_the_refusal_says_what_to_remove() -> None:
    found = personal_data_in("Hubungi 081234567890 atau a@b.co.id", None)
    assert found == ["phone", "email"]
    message_id, message_en = what_to_remove(found)
    assert message_id == "mengandung data pribadi; hapus nomor telepon, alamat e-mail"
    assert message_en == "holds personal data; remove a phone number, an e-mail address"


def test_open311_files_the_other_kinds_by_their_service_codes() -> None:
    form = {"service_code": "permintaan_informasi", "description": "Berapa anggaran MPP 2026?"}
    asked = form_to_complaint(form, "id", known={"pelayanan"})
    assert asked.kind == "permintaan_informasi" and asked.category == "pelayanan"
    pungli = form_to_complaint({"service_code": "pungli", "description": "x" * 20}, "id")
    assert pungli.kind == "pengaduan" and pungli.category == "pungli"
    with pytest.raises(Open311Error) as unknown:
        form_to_complaint({"service_code": "pujian", "description": "x" * 20}, "id")
    assert unknown.value.code == 404
    wanted = request_filter(
        service_request_id=None,
        service_code="aspirasi,pungli",
        start_date=None,
        end_date=None,
        status=None,
        now=wib(2026, 7, 13, 9),
    )
    assert wanted.kinds == ("aspirasi",) and wanted.categories == ("pungli",)
