"""What an in-memory metric reader holds, as plain values: for each metric
name, each point's labels (sorted pairs) and its value."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.metrics.export import InMemoryMetricReader, NumberDataPoint

Labels = tuple[tuple[str, Any], ...]


def readings(reader: InMemoryMetricReader) -> dict[str, dict[Labels, float]]:
    data = reader.get_metrics_data()
    found: dict[str, dict[Labels, float]] = {}
    for resource in data.resource_metrics if data else []:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    if isinstance(point, NumberDataPoint):
                        labels = tuple(sorted((point.attributes or {}).items()))
                        found.setdefault(metric.name, {})[labels] = point.value
    return found
