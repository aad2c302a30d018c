"""Pickup windows: the moments of the reminders and of the window's end, from
ready_at and the settings, and bad settings refused with a clear message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from mpp_documents.domain.pickup_window import UNCOLLECTED, latest_due, pickup_schedule
from mpp_documents.settings import DocumentsSettings, reminder_days
from mpp_documents.usecases.pickup_window import schedule_for

WIB = ZoneInfo("Asia/Jakarta")
# Thursday 16 July 2026, 10:15 WIB
READY = datetime(2026, 7, 16, 10, 15, tzinfo=WIB)


def test_default_settings_remind_on_day_3_and_7_of_a_14_day_window() -> None:
    settings = DocumentsSettings()
    assert (settings.pickup_window_days, settings.pickup_reminder_days) == (14, "3,7")
    schedule = schedule_for(READY, settings)
    assert schedule.ready_at == READY
    assert schedule.reminders == (
        datetime(2026, 7, 19, 10, 15, tzinfo=WIB),  # a Sunday: calendar days
        datetime(2026, 7, 23, 10, 15, tzinfo=WIB),
    )
    assert schedule.ends_at == datetime(2026, 7, 30, 10, 15, tzinfo=WIB)


def test_moments_follow_the_settings() -> None:
    settings = DocumentsSettings(pickup_window_days=30, pickup_reminder_days="20, 1,10")
    schedule = schedule_for(READY, settings)
    assert schedule.reminders == tuple(READY + timedelta(days=d) for d in (1, 10, 20))
    assert schedule.ends_at == READY + timedelta(days=30)


def test_no_reminders_leaves_only_the_window_end() -> None:
    schedule = schedule_for(READY, DocumentsSettings(pickup_reminder_days=""))
    assert schedule.reminders == ()
    assert schedule.ends_at == READY + timedelta(days=14)


def test_moments_are_instants_whatever_the_zone() -> None:
    in_utc = READY.astimezone(UTC)
    assert pickup_schedule(in_utc, window_days=14, reminder_days=[3]) == pickup_schedule(
        READY, window_days=14, reminder_days=[3]
    )


def test_naive_ready_at_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        pickup_schedule(datetime(2026, 7, 16, 10), window_days=14)


@pytest.mark.parametrize(
    ("text", "window", "expected"),
    [
        ("3,7", 14, (3, 7)),
        (" 3 , 7 ", 14, (3, 7)),
        ("7,3", 14, (3, 7)),
        ("13", 14, (13,)),
        ("", 14, ()),
        ("  ", 1, ()),
        ("1", 2, (1,)),
    ],
)
def test_reminder_days_are_parsed(text: str, window: int, expected: tuple[int, ...]) -> None:
    assert reminder_days(text, window) == expected


@pytest.mark.parametrize(
    ("text", "window", "message"),
    [
        ("3;7", 14, "'3;7' is not a whole number of days"),
        ("3,x", 14, "'x' is not a whole number of days"),
        ("3,,7", 14, "'' is not a whole number of days"),
        ("2.5", 14, "'2.5' is not a whole number of days"),
        ("-1", 14, "'-1' is not a whole number of days"),
        ("0,3", 14, "reminders start at day 1"),
        ("3,14", 14, "day 14 is not before the end of the pickup window (PICKUP_WINDOW_DAYS=14)"),
        ("30", 14, "day 30 is not before the end"),
        ("3,7,3", 14, "day 3 is given twice"),
    ],
)
def test_bad_reminder_days_are_refused_with_a_clear_message(
    text: str, window: int, message: str
) -> None:
    with pytest.raises(ValueError, match="PICKUP_REMINDER_DAYS") as refused:
        reminder_days(text, window)
    assert message in str(refused.value)
    # The service refuses to start with them, saying the same.
    with pytest.raises(ValidationError) as invalid:
        DocumentsSettings(pickup_reminder_days=text, pickup_window_days=window)
    assert message in str(invalid.value)


@pytest.mark.parametrize("window", [0, -14])
def test_a_window_of_no_days_is_refused(window: int) -> None:
    with pytest.raises(ValidationError, match="PICKUP_WINDOW_DAYS must be at least 1 day"):
        DocumentsSettings(pickup_window_days=window, pickup_reminder_days="")


def test_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PICKUP_WINDOW_DAYS", "21")
    monkeypatch.setenv("PICKUP_REMINDER_DAYS", "5,10,15")
    settings = DocumentsSettings()
    assert schedule_for(READY, settings).reminders[-1] == READY + timedelta(days=15)
    monkeypatch.setenv("PICKUP_REMINDER_DAYS", "5,21")
    with pytest.raises(ValidationError, match="day 21 is not before the end"):
        DocumentsSettings()


def test_when_several_moments_are_due_at_once_only_the_latest_is_sent() -> None:
    def timer(kind: str, seq: int, day: int) -> dict[str, object]:
        return {"kind": kind, "seq": seq, "fire_at": READY + timedelta(days=day)}

    first, second, end = timer("reminder", 1, 3), timer("reminder", 2, 7), timer(UNCOLLECTED, 0, 14)
    assert latest_due([first]) is first
    assert latest_due([first, second]) is second
    assert latest_due([first, second, end]) is end
    assert latest_due([end]) is end
    # Reminders moved to the same moment (as a test or an operator may): the later number.
    same = timer("reminder", 2, 3)
    assert latest_due([first, same]) is same
