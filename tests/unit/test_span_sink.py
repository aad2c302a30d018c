"""The soak's span collector (tests.bench.span_sink): a process of its own
that takes the services' OTLP/HTTP exports and answers them as accepted."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from tests.bench.span_sink import SpanSink


class _Results(SpanExporter):
    """The real OTLP exporter, remembering what each export returned."""

    def __init__(self, endpoint: str) -> None:
        self.inner = OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces", timeout=5)
        self.results: list[SpanExportResult] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.results.append(self.inner.export(spans))
        return self.results[-1]

    def shutdown(self) -> None:
        self.inner.shutdown()


@pytest.fixture
def sink() -> Iterator[SpanSink]:
    started = SpanSink()
    try:
        yield started
    finally:
        started.stop()


def test_exports_are_accepted_on_one_connection(sink: SpanSink) -> None:
    exporter = _Results(sink.env()["OTEL_EXPORTER_OTLP_ENDPOINT"])
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("span-sink-test")
    for n in range(3):
        with tracer.start_as_current_span(f"work {n}"):
            pass
    provider.shutdown()
    assert exporter.results == [SpanExportResult.SUCCESS] * 3


def test_stop_ends_the_process(sink: SpanSink) -> None:
    sink.stop()
    assert sink._process.returncode is not None
