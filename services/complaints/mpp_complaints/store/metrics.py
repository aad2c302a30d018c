"""Complaints' gauges read from its database (mpp_shared.metrics)."""

from mpp_shared.metrics import SnapshotGauge

GAUGES = (
    SnapshotGauge(
        "mpp.complaints.overdue",
        "Open reports whose verification, follow-up or information step is past its"
        " deadline, per responsible office (none: not assigned yet) and kind of report"
        " (aspirasi, pengaduan, permintaan_informasi)",
        # Every office a category routes to reads 0 per kind when none is overdue.
        "WITH overdue AS (SELECT opd, kind, count(*) AS n FROM complaints"
        " WHERE step IN ('verification', 'follow_up', 'information')"
        " AND status NOT IN ('closed', 'rejected')"
        " AND step_due_at < $1 GROUP BY opd, kind)"
        " SELECT opd, kind, n AS value FROM overdue"
        " UNION ALL SELECT o.opd, k.kind, 0 FROM (SELECT DISTINCT opd FROM complaint_categories) o"
        " CROSS JOIN unnest(ARRAY['aspirasi', 'pengaduan', 'permintaan_informasi']) AS k(kind)"
        " WHERE NOT EXISTS (SELECT 1 FROM overdue v WHERE v.opd = o.opd AND v.kind = k.kind)",
        "{complaint}",
        uses_now=True,
    ),
)
