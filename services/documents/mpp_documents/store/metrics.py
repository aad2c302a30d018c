"""Documents' gauges read from its database (mpp_shared.metrics)."""

from mpp_shared.metrics import SnapshotGauge

GAUGES = (
    SnapshotGauge(
        "mpp.sla.open_jobs",
        "Production jobs not yet picked up or cancelled, per pickup point",
        "SELECT pickup_point AS point, count(*) AS value FROM jobs"
        " WHERE state NOT IN ('picked_up', 'cancelled') GROUP BY pickup_point",
        "{job}",
    ),
)
