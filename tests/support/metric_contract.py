"""The metrics the services expose on `GET /metrics`, as the alert rules and the
Grafana dashboards in deploy/ expect them.

The text format comes from OpenTelemetry's Prometheus reader: counters end in
`_total`, a histogram named here by its base name is exposed as
`<base>_bucket` (with `le`), `<base>_count` and `<base>_sum`, and every series
also carries `otel_scope_*` labels. Prometheus scrapes each service directly
and adds `job` (the service's name, `mpp-intake` ...) and `instance` (the
replica's address).

`METRICS` maps each metric to the labels the service sets; `EXPOSED_BY` says
which services expose it. A running stack can be compared with both.
"""

from __future__ import annotations

JOBS = {
    "intake": "mpp-intake",
    "documents": "mpp-documents",
    "complaints": "mpp-complaints",
    "notify": "mpp-notify",
}
ALL_JOBS = frozenset(JOBS.values())

HISTOGRAMS = frozenset({"http_server_request_duration_seconds"})
HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")

METRICS: dict[str, frozenset[str]] = {
    # every service
    "http_server_request_duration_seconds": frozenset(
        {"http_route", "http_request_method", "http_response_status_code"}
    ),
    "mpp_consumer_lag": frozenset({"consumer", "topic", "partition"}),
    "mpp_consumer_handled_total": frozenset({"consumer"}),
    "mpp_consumer_dead_lettered_total": frozenset({"consumer", "topic"}),
    "mpp_outbox_backlog": frozenset({"service"}),
    "mpp_outbox_oldest_age_seconds": frozenset({"service"}),
    "mpp_outbox_published_total": frozenset({"service"}),
    "mpp_service_ready": frozenset({"check"}),
    "mpp_personal_data_erased_total": frozenset({"service", "kind"}),
    # Exposed once a request was refused for overload (503 + Retry-After).
    "mpp_http_requests_refused_total": frozenset({"reason"}),
    # intake
    "mpp_applications_submitted_total": frozenset({"service_code", "channel", "point", "counter"}),
    "mpp_applications_in_stage": frozenset({"stage", "point"}),
    "mpp_uploads_deleted_total": frozenset({"kind"}),
    "mpp_population_escalated_total": frozenset({"kind"}),
    # documents
    "mpp_documents_ready_total": frozenset({"point", "on_time"}),
    "mpp_documents_picked_up_total": frozenset({"point"}),
    "mpp_sla_open_jobs": frozenset({"point"}),
    "mpp_sla_fired_total": frozenset({"kind"}),
    "mpp_pickup_fired_total": frozenset({"kind"}),
    # complaints
    "mpp_complaints_overdue": frozenset({"opd", "kind"}),
    "mpp_complaints_deadlines_fired_total": frozenset({"kind"}),
    # notify
    "mpp_notify_messages_total": frozenset({"channel", "outcome"}),
    "mpp_notify_channel_live": frozenset({"channel", "provider"}),
    "mpp_webhook_attempts_total": frozenset({"outcome"}),
    "mpp_webhook_subscriptions_disabled": frozenset(),
    # Exposed once a provider's webhook call was refused (unsigned, wrong token).
    "mpp_notify_provider_callbacks_refused_total": frozenset({"provider", "reason"}),
}

_EVERY_SERVICE = (
    "http_server_request_duration_seconds",
    "mpp_consumer_lag",
    "mpp_consumer_handled_total",
    "mpp_consumer_dead_lettered_total",
    "mpp_outbox_backlog",
    "mpp_outbox_oldest_age_seconds",
    "mpp_outbox_published_total",
    "mpp_service_ready",
    "mpp_personal_data_erased_total",
)
EXPOSED_BY: dict[str, frozenset[str]] = {
    **{name: ALL_JOBS for name in _EVERY_SERVICE},
    "mpp_applications_submitted_total": frozenset({"mpp-intake"}),
    "mpp_applications_in_stage": frozenset({"mpp-intake"}),
    "mpp_uploads_deleted_total": frozenset({"mpp-intake"}),
    "mpp_population_escalated_total": frozenset({"mpp-intake"}),
    "mpp_documents_ready_total": frozenset({"mpp-documents"}),
    "mpp_documents_picked_up_total": frozenset({"mpp-documents"}),
    "mpp_sla_open_jobs": frozenset({"mpp-documents"}),
    "mpp_sla_fired_total": frozenset({"mpp-documents"}),
    "mpp_pickup_fired_total": frozenset({"mpp-documents"}),
    "mpp_complaints_overdue": frozenset({"mpp-complaints"}),
    "mpp_complaints_deadlines_fired_total": frozenset({"mpp-complaints"}),
    "mpp_notify_messages_total": frozenset({"mpp-notify"}),
    "mpp_notify_channel_live": frozenset({"mpp-notify"}),
    "mpp_webhook_attempts_total": frozenset({"mpp-notify"}),
    "mpp_webhook_subscriptions_disabled": frozenset({"mpp-notify"}),
}

# Labels Prometheus adds to every scraped series.
TARGET_LABELS = frozenset({"job", "instance"})
# Labels OpenTelemetry's Prometheus reader adds to every series.
SCOPE_LABEL_PREFIX = "otel_scope_"
# Series Prometheus writes itself for every scrape target (labels: job, instance).
PROMETHEUS_SERIES = frozenset(
    {
        "up",
        "scrape_duration_seconds",
        "scrape_samples_scraped",
        "scrape_samples_post_metric_relabeling",
        "scrape_series_added",
    }
)


def base_name(series: str) -> str:
    """The contract's name of an exposed series: `x_bucket`, `x_count` and
    `x_sum` of a histogram `x` give `x`; any other name is returned as is."""
    for suffix in HISTOGRAM_SUFFIXES:
        if series.endswith(suffix) and series.removesuffix(suffix) in HISTOGRAMS:
            return series.removesuffix(suffix)
    return series


def exposed_series(name: str) -> frozenset[str]:
    """The series names a service exposes for the contract's metric `name`."""
    if name in HISTOGRAMS:
        return frozenset(name + suffix for suffix in HISTOGRAM_SUFFIXES)
    return frozenset({name})


def is_known(series: str) -> bool:
    """Whether a query may use this series name: the contract's or Prometheus' own."""
    return base_name(series) in METRICS or series in PROMETHEUS_SERIES


def allowed_labels(series: str) -> frozenset[str]:
    """The labels a series of this name carries (`otel_scope_*` aside)."""
    if series in PROMETHEUS_SERIES:
        return TARGET_LABELS
    labels = METRICS[base_name(series)] | TARGET_LABELS
    if series in HISTOGRAMS or (series.endswith("_bucket") and base_name(series) != series):
        # `le` is on the buckets; the base name only comes up in functions over them
        labels |= {"le"}
    return labels


def is_allowed_label(series: str, label: str) -> bool:
    return label in allowed_labels(series) or label.startswith(SCOPE_LABEL_PREFIX)
