"""The arithmetic of the SLA compliance and backlog reports: the share never
hides open overdue work, never divides by zero, rounds half up, and the
totals are computed from summed counts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from mpp_documents.domain.reports import (
    ZONE,
    BacklogGroup,
    GroupBy,
    Lateness,
    Period,
    SlaCounts,
    SlaGroup,
    on_time_share,
    resolve_period,
    summarize_backlog,
    summarize_sla,
)
from mpp_documents.store.reports import sla_query


def test_no_denominator_gives_no_share_not_an_error() -> None:
    assert on_time_share(SlaCounts()) is None
    # Work not yet due, cancelled or without a promise is not judged.
    assert on_time_share(SlaCounts(open_not_yet_due=5, cancelled=2, no_promise=3)) is None


def test_open_overdue_work_counts_against_the_share() -> None:
    assert on_time_share(SlaCounts(closed_on_time=3)) == 1.0
    assert on_time_share(SlaCounts(closed_on_time=3, open_overdue=1)) == 0.75
    assert on_time_share(SlaCounts(closed_on_time=3, closed_late=1)) == 0.75
    assert on_time_share(SlaCounts(closed_late=2, open_overdue=1)) == 0.0
    # What is not judged does not move it.
    judged = SlaCounts(closed_on_time=1, closed_late=1)
    assert on_time_share(judged) == on_time_share(
        judged + SlaCounts(open_not_yet_due=9, cancelled=9, no_promise=9)
    )


@pytest.mark.parametrize(
    ("on_time", "denominator", "share"),
    [
        (2, 3, 0.6667),
        (1, 3, 0.3333),
        (2469, 20000, 0.1235),  # 0.12345: half up, not to even
        (1, 20000, 0.0001),  # 0.00005
        (1, 40000, 0.0),  # 0.000025
    ],
)
def test_share_is_rounded_half_up_to_four_decimals(
    on_time: int, denominator: int, share: float
) -> None:
    counts = SlaCounts(closed_on_time=on_time, closed_late=denominator - on_time)
    assert on_time_share(counts) == share


def test_a_share_just_short_of_one_rounds_to_one() -> None:
    assert on_time_share(SlaCounts(closed_on_time=19999, open_overdue=1)) == 1.0  # 0.99995
    assert on_time_share(SlaCounts(closed_on_time=99999, open_overdue=1)) == 1.0  # 0.99999


def test_totals_sum_the_counts_and_compute_their_own_share() -> None:
    groups = [
        SlaGroup("kk", None, SlaCounts(closed_on_time=1, cancelled=2)),
        SlaGroup(
            "ktp_el",
            None,
            SlaCounts(closed_on_time=1, closed_late=1, open_overdue=2, open_not_yet_due=4),
            Lateness(median_hours=5.125, p90_hours=9.999),
        ),
        SlaGroup("akta_kelahiran", None, SlaCounts(open_not_yet_due=1, no_promise=1)),
    ]
    lines, totals = summarize_sla(groups, Lateness(median_hours=5.0, p90_hours=9.1234))
    assert [line.service_code for line in lines] == ["akta_kelahiran", "kk", "ktp_el"]
    assert [line.on_time_share for line in lines] == [None, 1.0, 0.25]
    assert totals.counts == SlaCounts(
        closed_on_time=2,
        closed_late=1,
        open_overdue=2,
        open_not_yet_due=5,
        cancelled=2,
        no_promise=1,
    )
    # 2 / 5, not the mean of the groups' shares (0.625).
    assert totals.on_time_share == 0.4
    assert (totals.service_code, totals.pickup_point) == (None, None)
    # Lateness is rounded to hundredths of an hour; the totals' comes from the query.
    assert lines[2].lateness == Lateness(5.13, 10.0)
    assert lines[0].lateness == Lateness(None, None)
    assert totals.lateness == Lateness(5.0, 9.12)


def test_no_jobs_at_all_gives_an_empty_report_with_zero_totals() -> None:
    lines, totals = summarize_sla([])
    assert lines == []
    assert totals.counts == SlaCounts()
    assert totals.on_time_share is None
    assert totals.lateness == Lateness()


def test_groups_without_a_key_come_last() -> None:
    groups = [
        SlaGroup("ktp_el", None, SlaCounts(closed_on_time=1)),
        SlaGroup("ktp_el", "MPP-KEDIRI", SlaCounts(closed_on_time=1)),
        SlaGroup("kk", "KEC-PARE", SlaCounts(closed_on_time=1)),
        SlaGroup("ktp_el", "KEC-PARE", SlaCounts(closed_on_time=1)),
    ]
    lines, _ = summarize_sla(groups)
    assert [(line.service_code, line.pickup_point) for line in lines] == [
        ("kk", "KEC-PARE"),
        ("ktp_el", "KEC-PARE"),
        ("ktp_el", "MPP-KEDIRI"),
        ("ktp_el", None),
    ]


def test_the_default_period_is_the_wib_month_to_date() -> None:
    # 31 July 20:00 UTC is already 1 August 03:00 in WIB.
    period = resolve_period(None, None, datetime(2026, 7, 31, 20, tzinfo=UTC))
    assert (period.first_day, period.end_day) == (date(2026, 8, 1), date(2026, 8, 2))
    assert period.start == datetime(2026, 7, 31, 17, tzinfo=UTC)
    assert period.end - period.start == timedelta(days=1)

    mid_month = resolve_period(None, None, datetime(2026, 7, 15, 9, tzinfo=ZONE))
    assert (mid_month.first_day, mid_month.end_day) == (date(2026, 7, 1), date(2026, 7, 16))
    # A naive moment is read as WIB.
    naive = resolve_period(None, None, datetime(2026, 7, 31, 23, 30))
    assert naive.end_day == date(2026, 8, 1)


def test_given_days_are_kept_and_an_inverted_period_is_empty() -> None:
    as_of = datetime(2026, 7, 15, tzinfo=UTC)
    given = resolve_period(date(2026, 6, 1), date(2026, 7, 1), as_of)
    assert given == Period(date(2026, 6, 1), date(2026, 7, 1))
    assert given.start.utcoffset() == timedelta(hours=7)
    assert not given.is_empty
    assert Period(date(2026, 7, 1), date(2026, 7, 1)).is_empty
    assert Period(date(2026, 7, 2), date(2026, 7, 1)).is_empty
    # Only `from`, in the future: empty, refused by the API.
    assert resolve_period(date(2026, 8, 1), None, as_of).is_empty


@pytest.mark.parametrize("group_by", list(GroupBy))
def test_the_query_groups_only_by_known_columns(group_by: GroupBy) -> None:
    sql = sla_query(group_by)
    assert "GROUPING SETS" in sql
    expected = {
        GroupBy.SERVICE: "((service_code), ())",
        GroupBy.POINT: "((pickup_point), ())",
        GroupBy.SERVICE_POINT: "((service_code, pickup_point), ())",
    }[group_by]
    assert expected in sql


def test_backlog_is_ordered_by_point_then_the_jobs_life_with_totals() -> None:
    t0 = datetime(2026, 7, 1, 1, tzinfo=UTC)
    groups = [
        BacklogGroup("ready_for_pickup", "MPP-KEDIRI", 2, 0, t0 + timedelta(days=3)),
        BacklogGroup("queued", None, 1, 1, t0 + timedelta(days=1)),
        BacklogGroup("on_hold", "KEC-PARE", 1, 1, t0),
        BacklogGroup("queued", "MPP-KEDIRI", 4, 2, t0 + timedelta(days=2)),
        BacklogGroup("in_production", "MPP-KEDIRI", 3, 0, t0 + timedelta(days=5)),
    ]
    ordered, totals = summarize_backlog(groups)
    assert [(g.pickup_point, g.state) for g in ordered] == [
        ("KEC-PARE", "on_hold"),
        ("MPP-KEDIRI", "queued"),
        ("MPP-KEDIRI", "in_production"),
        ("MPP-KEDIRI", "ready_for_pickup"),
        (None, "queued"),
    ]
    assert (totals.state, totals.pickup_point) == ("all", None)
    assert (totals.open, totals.overdue, totals.oldest_created_at) == (11, 4, t0)


def test_an_empty_backlog() -> None:
    ordered, totals = summarize_backlog([])
    assert ordered == []
    assert (totals.open, totals.overdue, totals.oldest_created_at) == (0, 0, None)
