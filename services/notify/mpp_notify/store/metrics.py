"""Notify's gauges read from its database (mpp_shared.metrics)."""

from mpp_shared.metrics import SnapshotGauge

GAUGES = (
    SnapshotGauge(
        "mpp.webhook.subscriptions.disabled",
        "OPD webhook subscriptions disabled after failing again and again",
        "SELECT count(*) AS value FROM subscriptions WHERE status = 'disabled'",
        "{subscription}",
    ),
)
