"""The complaints' work queue rules without a database: its filters, what
is overdue (the same rule as the SQL and the gauge), who sees which
complaints, and the words and WIB times of the reporter's status page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mpp_complaints.domain.queue import (
    FINAL_STATUSES,
    OVERDUE_STEPS,
    STATUSES,
    is_overdue,
    parse_channel,
    parse_statuses,
)
from mpp_complaints.domain.words import STATUS_WORDS, STEP_WORDS, words
from mpp_complaints.store.metrics import GAUGES
from mpp_complaints.store.queue import OVERDUE
from mpp_complaints.usecases.scope import opd_scope, refuse_unseen, scoped_opd
from mpp_shared.auth import Principal, Role
from mpp_shared.errors import Forbidden, Invalid, NotFound
from mpp_shared.wording import datetime_words as wib

NOW = datetime(2025, 5, 15, 9, 0, tzinfo=UTC)


def _principal(*roles: Role, opd: str | None = None) -> Principal:
    return Principal(subject="someone", roles=frozenset(roles), opd=opd)


def test_statuses_are_read_repeated_or_comma_separated() -> None:
    assert parse_statuses(["assigned,responded", " Closed ", "assigned", ""]) == (
        "assigned",
        "responded",
        "closed",
    )
    assert parse_statuses([]) == ()


def test_an_unknown_status_or_channel_is_refused_naming_the_field() -> None:
    with pytest.raises(Invalid) as refused:
        parse_statuses(["assigned,waiting"])
    assert refused.value.extra["errors"][0]["field"] == "status"
    assert "received" in refused.value.message_en
    with pytest.raises(Invalid) as channel:
        parse_channel("fax")
    assert channel.value.extra["errors"][0]["field"] == "channel"
    assert parse_channel("mpp_desk") == "mpp_desk" and parse_channel("") is None


@pytest.mark.parametrize(
    ("step", "status", "due", "overdue"),
    [
        ("follow_up", "assigned", NOW - timedelta(seconds=1), True),
        ("verification", "received", NOW - timedelta(days=1), True),
        ("follow_up", "in_progress", NOW + timedelta(seconds=1), False),
        ("follow_up", "assigned", NOW, False),  # at the deadline, not past it
        ("auto_close", "responded", NOW - timedelta(days=1), False),  # the reporter's time
        (None, "received", None, False),
        ("follow_up", "closed", NOW - timedelta(days=1), False),
    ],
)
def test_overdue_is_a_running_office_step_past_its_deadline(
    step: str | None, status: str, due: datetime | None, overdue: bool
) -> None:
    assert is_overdue(step, status, due, NOW) is overdue


def test_the_sql_and_the_gauge_count_overdue_as_the_rule_does() -> None:
    gauge = next(g for g in GAUGES if g.name == "mpp.complaints.overdue")
    for step in OVERDUE_STEPS:
        assert f"'{step}'" in OVERDUE and f"'{step}'" in gauge.query
    for status in FINAL_STATUSES:
        assert f"'{status}'" in OVERDUE and f"'{status}'" in gauge.query
    assert "'auto_close'" not in OVERDUE and "step_due_at < $1" in OVERDUE
    assert set(FINAL_STATUSES) == {"closed", "rejected"}


def test_officers_see_every_complaint_an_opd_only_its_own() -> None:
    for role in (Role.COMPLAINT_OFFICER, Role.SUPERVISOR, Role.ADMIN):
        assert opd_scope(_principal(role)) is None
        assert scoped_opd(_principal(role), "INSPEKTORAT") == "INSPEKTORAT"
        refuse_unseen(_principal(role), None)
    # An officer who is also an OPD system still sees everything.
    assert opd_scope(_principal(Role.OPD_SYSTEM, Role.COMPLAINT_OFFICER, opd="X1")) is None

    opd = _principal(Role.OPD_SYSTEM, opd="DISDUKCAPIL")
    assert opd_scope(opd) == "DISDUKCAPIL"
    assert scoped_opd(opd, None) == "DISDUKCAPIL" == scoped_opd(opd, "DISDUKCAPIL")
    refuse_unseen(opd, "DISDUKCAPIL")
    for other in ("INSPEKTORAT", None):
        with pytest.raises(NotFound):
            refuse_unseen(opd, other)
    with pytest.raises(Forbidden) as asked_other:
        scoped_opd(opd, "INSPEKTORAT")
    assert asked_other.value.code == "other_opd"


def test_an_opd_token_naming_no_opd_is_refused_in_both_languages() -> None:
    for call in (
        lambda p: opd_scope(p),
        lambda p: scoped_opd(p, None),
        lambda p: refuse_unseen(p, "DISDUKCAPIL"),
    ):
        with pytest.raises(Forbidden) as refused:
            call(_principal(Role.OPD_SYSTEM))
        assert refused.value.code == "opd_missing"
        assert "klaim opd" in refused.value.message_id
        assert "claim opd" in refused.value.message_en


def test_every_status_and_step_has_words_in_both_languages() -> None:
    assert set(STATUS_WORDS) == set(STATUSES)
    assert set(STEP_WORDS) == {"verification", "follow_up", "information", "auto_close"}
    assert words(STATUS_WORDS, "responded", "en") == "Answered"
    assert words(STATUS_WORDS, "responded", "id") == "Sudah dijawab"
    assert words(STATUS_WORDS, "brand_new", "id") == "brand_new"
    assert words(STEP_WORDS, None, "id") is None


def test_a_deadline_reads_in_wib() -> None:
    # 09:00 UTC is 16:00 in Jakarta, on a Thursday.
    assert wib(NOW, "id") == "Kamis, 15 Mei 2025 pukul 16.00 WIB"
    assert wib(NOW, "en") == "Thursday, 15 May 2025 at 16:00 WIB"
    # Past 17:00 UTC it is the next day in WIB.
    late = datetime(2025, 12, 31, 18, 30, tzinfo=UTC)
    assert wib(late, "id") == "Kamis, 1 Januari 2026 pukul 01.30 WIB"
