"""Documents' gauges read from its database (mpp_shared.metrics)."""

from mpp_shared.metrics import SnapshotGauge

GAUGES = (
    SnapshotGauge(
        "mpp.sla.open_jobs",
        "Production jobs not yet picked up or cancelled, per pickup point",
        # In production or in the pickup window from their partial index, left
        # uncollected from the kept counts (store.report_counts).
        "SELECT point, sum(value) AS value FROM ("
        " SELECT pickup_point AS point, count(*) AS value FROM jobs"
        " WHERE state NOT IN ('picked_up', 'cancelled')"
        " AND NOT job_uncollected(state, uncollected_at)"
        " GROUP BY pickup_point"
        " UNION ALL SELECT pickup_point, sum(waiting) FROM uncollected_counts GROUP BY pickup_point"
        " UNION ALL SELECT pickup_point, sum(uncollected) FROM report_count_deltas"
        " WHERE uncollected <> 0 GROUP BY pickup_point"
        ") parts GROUP BY point",
        "{job}",
    ),
)
