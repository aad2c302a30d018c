"""The OTLP/HTTP collector the services export their spans to, as the tests
look spans up.

The raw export requests stay in the server's request log (pytest-httpserver
keeps it anyway), which the personal-data scans read in full
(`tests.privacy.exported_spans`); `find` parses them lazily, only the
requests that came since its last call, so a suite that never looks spans up
pays nothing for them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

TRACES_PATH = "/v1/traces"
OTHER_SIGNAL_PATHS = ("/v1/metrics", "/v1/logs")


@dataclass(frozen=True)
class ExportedSpan:
    service: str
    name: str
    trace_id: str
    kind: int
    attributes: dict[str, Any]


def spans_of(body: bytes) -> list[ExportedSpan]:
    """The spans of one OTLP/HTTP protobuf export request."""
    export = ExportTraceServiceRequest()
    export.ParseFromString(body)
    found = []
    for resource_spans in export.resource_spans:
        resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                found.append(
                    ExportedSpan(
                        service=resource.get("service.name", ""),
                        name=span.name,
                        trace_id=span.trace_id.hex(),
                        kind=span.kind,
                        attributes={
                            a.key: a.value.string_value or a.value.int_value
                            for a in span.attributes
                        },
                    )
                )
    return found


class OtlpReceiver:
    """The collector's endpoints on `server`. With `keep_spans=False` the
    request log is emptied at each export, so hours of spans (a soak) do not
    pile up; nothing can be looked up then."""

    def __init__(self, server: HTTPServer, *, keep_spans: bool = True) -> None:
        self.server = server
        self.keep_spans = keep_spans
        self._lock = threading.Lock()
        self._parsed_log: list[Any] | None = None  # the log object `_spans` was read from
        self._parsed_requests = 0
        self._spans: list[ExportedSpan] = []
        server.expect_request(TRACES_PATH, method="POST").respond_with_handler(self.handle_traces)
        for path in OTHER_SIGNAL_PATHS:
            server.expect_request(path, method="POST").respond_with_data(b"")

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def handle_traces(self, request: Request) -> Response:
        if not self.keep_spans:
            self.server.clear_log()
        return Response(
            ExportTraceServiceResponse().SerializeToString(), content_type="application/x-protobuf"
        )

    def find(self, predicate: Callable[[ExportedSpan], bool]) -> list[ExportedSpan]:
        """Every span exported so far that satisfies `predicate`."""
        with self._lock:
            log = self.server.log
            if log is not self._parsed_log:  # first call, or the log was emptied since
                self._parsed_log, self._parsed_requests, self._spans = log, 0, []
            new = log[self._parsed_requests :]
            self._parsed_requests += len(new)
            for request, _response in new:
                if request.path == TRACES_PATH:
                    self._spans.extend(spans_of(request.get_data()))
            return [s for s in self._spans if predicate(s)]
