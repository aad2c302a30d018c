"""An OTLP/HTTP collector in a process of its own that drops what it gets.

`python -m tests.bench.span_sink PORT`. The soak's services export their
spans as they would in production, to a collector outside the process that
measures them. The fault suite's collector (`tests.support.otlp`) runs in
threads of the test process, where reading hours of export requests competed
with the soak's client for the interpreter lock.

`SpanSink()` starts one on a free port (`endpoint`, `env()`); `stop()`.
"""

from __future__ import annotations

import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from mpp_devstack.embedded import free_port, wait_for_port


class _Drop(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the exporters expect

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        # An empty body is an ExportServiceResponse with nothing rejected.
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


class SpanSink:
    def __init__(self) -> None:
        self.port = free_port()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.bench.span_sink", str(self.port)]
        )
        wait_for_port("127.0.0.1", self.port)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """The services' settings that send their spans here."""
        return {"OTEL_EXPORTER_OTLP_ENDPOINT": self.endpoint}

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(10)


def main() -> None:
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), _Drop).serve_forever()


if __name__ == "__main__":
    main()
