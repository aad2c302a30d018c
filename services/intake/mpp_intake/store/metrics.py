"""Intake's gauges read from its database (mpp_shared.metrics)."""

from mpp_shared.metrics import SnapshotGauge

GAUGES = (
    SnapshotGauge(
        "mpp.applications.in_stage",
        "Open applications per journey stage and pickup point",
        "SELECT progress AS stage, pickup_point AS point, count(*) AS value"
        " FROM applications WHERE active GROUP BY progress, pickup_point",
        "{application}",
    ),
)
