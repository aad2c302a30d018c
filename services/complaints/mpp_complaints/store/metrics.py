"""Complaints' gauges read from its database (mpp_shared.metrics)."""

from mpp_shared.metrics import SnapshotGauge

GAUGES = (
    SnapshotGauge(
        "mpp.complaints.overdue",
        "Open complaints whose verification or follow-up step is past its deadline,"
        " per responsible office (none: not assigned yet)",
        # Every office a category routes to reads 0 when none is overdue.
        "WITH overdue AS (SELECT opd, count(*) AS n FROM complaints"
        " WHERE step IN ('verification', 'follow_up') AND status NOT IN ('closed', 'rejected')"
        " AND step_due_at < $1 GROUP BY opd)"
        " SELECT opd, n AS value FROM overdue"
        " UNION ALL SELECT DISTINCT opd, 0 FROM complaint_categories"
        " WHERE opd NOT IN (SELECT opd FROM overdue WHERE opd IS NOT NULL)",
        "{complaint}",
        uses_now=True,
    ),
)
