"""The village's reports, as pure rules: the KK number check, the date it
happened, which documents each kind needs, the follow-up deadline on the
working calendar, periods and who may report for which desa."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from mpp_intake.api.population_schemas import PopulationReportCreate
from mpp_intake.domain import population as rules
from mpp_intake.domain.population import Kind
from mpp_intake.usecases.population_scope import Scope
from mpp_shared.contacts import InvalidValue
from mpp_shared.workcal import WorkCalendar

KK = "3506171203150004"
NIK = "3506172602660001"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("350617120315000", "kk_format"),  # 15 digits
        ("35061712031500041", "kk_format"),
        ("35061712O3150004", "kk_format"),  # a letter O
        ("9999171203150004", "kk_region"),  # no such province
        ("3599171203150004", "kk_region"),  # no such regency in Jawa Timur
        ("3506171203150000", "kk_serial"),
    ],
)
def test_a_kk_number_that_cannot_exist_is_refused_with_its_reason(value: str, code: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        rules.validate_kk(value)
    assert refused.value.code == code
    assert rules.MESSAGES[code][0] in str(refused.value)


def test_a_kk_number_is_read_with_separators_and_may_come_from_another_regency() -> None:
    assert rules.validate_kk("35.06.17 1203150004") == KK
    assert rules.validate_kk("3578011203150004") == "3578011203150004"  # Surabaya: a move in


def test_the_date_it_happened_is_not_in_the_future_nor_absurdly_old() -> None:
    today = date(2026, 12, 4)
    assert rules.check_occurred_on(today, today) == today
    assert rules.check_occurred_on(date(2017, 1, 2), today) == date(2017, 1, 2)
    for value, code in (
        (date(2026, 12, 5), "occurred_in_future"),
        (date(2016, 11, 30), "occurred_too_long_ago"),
    ):
        with pytest.raises(InvalidValue) as refused:
            rules.check_occurred_on(value, today)
        assert refused.value.code == code


def test_each_kind_needs_its_documents() -> None:
    assert rules.services_of(Kind.BIRTH) == ("akta_kelahiran", "kk")
    assert rules.services_of("death") == ("akta_kematian", "kk")
    assert rules.services_of(Kind.MOVE_OUT) == ("pindah_keluar",)
    assert rules.services_of(Kind.MOVE_IN) == ("pindah_datang",)
    assert not rules.needs_subject_nik(Kind.BIRTH)
    assert all(rules.needs_subject_nik(k) for k in (Kind.DEATH, Kind.MOVE_IN, Kind.MOVE_OUT))


def test_the_deadline_counts_working_days_from_the_report() -> None:
    calendar = WorkCalendar()
    # Monday 7 December 2026, 09:00 WIB: five working days -> Monday 14th, closing.
    monday = datetime(2026, 12, 7, 2, tzinfo=UTC)
    due = rules.follow_up_due(calendar, monday, 5)
    assert due == calendar.add_working_days(monday, 5)
    assert due.astimezone(calendar.zone).date() == date(2026, 12, 14)
    # Reported on Saturday: counted from Monday's opening.
    saturday = datetime(2026, 12, 5, 3, tzinfo=UTC)
    assert rules.follow_up_due(calendar, saturday, 5) == due


def test_a_period_is_a_calendar_month() -> None:
    period = rules.parse_period("2026-02")
    assert (period.text, period.first, period.last) == (
        "2026-02",
        date(2026, 2, 1),
        date(2026, 2, 28),
    )
    assert rules.parse_period("2026-12").last == date(2026, 12, 31)
    for bad in ("2026-13", "2026-1", "Nov 2026", ""):
        with pytest.raises(InvalidValue):
            rules.parse_period(bad)


def test_papers_no_service_of_the_report_knows_are_named() -> None:
    assert rules.unknown_papers(["kartu_keluarga", "ijazah"], {"kartu_keluarga"}) == ["ijazah"]


def test_scopes() -> None:
    desa = Scope(desa_code="3506172001", kecamatan_code="350617")
    assert desa.allows("3506172001") and not desa.allows("3506172002")
    assert desa.allows_kecamatan("350617") and not desa.allows_kecamatan("350614")
    kecamatan = Scope(kecamatan_code="350617")
    assert kecamatan.allows("3506172002") and not kecamatan.allows("3506142001")
    assert not kecamatan.allows_kecamatan("350614")
    regency = Scope()
    assert regency.regency and regency.allows("3506142001")


def _body(**extra: object) -> dict[str, object]:
    return {
        "kind": "birth",
        "occurred_on": "2026-11-30",
        "kk_number": KK,
        "applicant_nik": NIK,
        "applicant_name": "Siti Rahayu",
        **extra,
    }


def test_the_request_names_the_field_and_the_reason() -> None:
    ok = PopulationReportCreate.model_validate(
        _body(applicant_phone="0857 1234 5678", papers_held=[" Kartu_Keluarga "])
    )
    assert ok.applicant_phone == "+6285712345678" and ok.papers_held == ["kartu_keluarga"]
    for extra, field, code in (
        ({"kk_number": "123"}, "kk_number", "kk_format"),
        ({"applicant_nik": "3506173202660001"}, "applicant_nik", "nik_invalid"),
        ({"occurred_on": "2999-01-01"}, "occurred_on", "occurred_in_future"),
        ({"kind": "marriage"}, "kind", "enum"),
        ({"desa_code": "3507172001"}, "desa_code", "desa_code_invalid"),
    ):
        with pytest.raises(ValidationError) as refused:
            PopulationReportCreate.model_validate(_body(**extra))
        [error] = refused.value.errors()
        assert (error["loc"], error["type"]) == ((field,), code)
