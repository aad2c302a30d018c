"""OpenTelemetry set-up (traces and metrics over OTLP, configured by the
standard OTEL_* variables) and structured JSON logs that carry trace ids."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

_configured = False


def _exporting(signal: str) -> bool:
    chosen = os.environ.get(f"OTEL_{signal.upper()}_EXPORTER", "otlp")
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
        f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT"
    )
    return chosen != "none" and bool(endpoint)


def setup_telemetry(service_name: str) -> None:
    """Install tracer and meter providers once per process.

    Spans are always created (sampling per OTEL_TRACES_SAMPLER, default
    parent-based always-on) so trace ids reach logs and Kafka headers; they
    are exported when an OTLP endpoint is configured.
    """
    global _configured
    if _configured or os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return
    _configured = True
    # HTTP metrics and spans under the stable semantic-convention names
    # (http.server.request.duration in seconds, http.route, ...).
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
    resource = Resource.create(
        {
            "service.name": os.environ.get("OTEL_SERVICE_NAME", f"mpp-{service_name}"),
            "service.namespace": "mpp",
            "service.version": package_version(service_name),
        }
    )
    tracer_provider = TracerProvider(resource=resource)
    if _exporting("traces"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(tracer_provider)

    # Always readable on GET /metrics (mpp_shared.web.observability); pushed
    # over OTLP too when an exporter is configured.
    readers: list[MetricReader] = [PrometheusMetricReader()]
    if _exporting("metrics"):
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
    metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=readers))

    # One span per database transaction, not per statement (mpp_shared.dbtrace).
    from mpp_shared import dbtrace

    dbtrace.enable()


def package_version(service_name: str) -> str:
    """The installed version of the service's package (mpp-intake ...)."""
    try:
        return metadata.version(f"mpp-{service_name}")
    except metadata.PackageNotFoundError:
        return "unknown"


def shutdown_telemetry() -> None:
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.shutdown()
    meter_provider = metrics.get_meter_provider()
    if isinstance(meter_provider, MeterProvider):
        meter_provider.shutdown()


def current_trace_id() -> str | None:
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


class JsonFormatter(logging.Formatter):
    """One JSON object per line with the active trace and span ids.

    Personal data must never be logged; callers log ids and masked values.
    """

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        ctx = trace.get_current_span().get_span_context()
        if ctx.is_valid:
            doc["trace_id"] = format(ctx.trace_id, "032x")
            doc["span_id"] = format(ctx.span_id, "016x")
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            doc.update(extra)
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str)


def setup_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiokafka is chatty about every reconnect; its warnings are enough.
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
