"""Complaints' gauges read from its database (mpp_shared.metrics)."""

from mpp_shared.metrics import SnapshotGauge

GAUGES = (
    SnapshotGauge(
        "mpp.complaints.overdue",
        "Open complaints whose verification or follow-up step is past its deadline,"
        " per responsible office (none: not assigned yet)",
        "SELECT opd, count(*) AS value FROM complaints"
        " WHERE step IN ('verification', 'follow_up') AND step_due_at < $1"
        " AND status NOT IN ('closed', 'rejected') GROUP BY opd",
        "{complaint}",
        uses_now=True,
    ),
)
