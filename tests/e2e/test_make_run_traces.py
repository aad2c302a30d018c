"""`make run TRACES=1`: the trace viewer (Phoenix) starts with the stack, its
URL is in the banner, and one journey shows there as one trace across the
four services.

Each request to a service starts a trace of its own (the counter's
submission one, the verifier's decision another), and the events it causes
carry it on through Kafka. The verification's trace is the one that crosses
all four services: intake's request, then documents (the production job),
complaints and notify (the citizen's message) consuming the verified event.

Phoenix keeps a span's own attributes but not its resource (no
`service.name`), so a span's service is read from what every service puts on
its spans: the consumer group of a consumer span (the service's name), the
database of a query span (`mpp_<service>`), the port of an HTTP server span.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from mpp_devstack import traces
from tests.e2e.test_counter_day import submit_verified
from tests.support.auth import auth
from tests.support.http import LIVE, expect
from tests.support.identities import nik
from tests.support.launcher import launched
from tests.support.polling import eventually, poll_until

pytestmark = pytest.mark.e2e


def _viewer_installed() -> None:
    """Phoenix in .tools/phoenix, installed now if it is not there yet. Where
    it cannot be installed (no registry to reach), CI fails and a developer's
    run skips, each with the reason."""
    if traces.installed():
        return
    try:
        traces.install(say=lambda line: print(line, flush=True))
    except traces.TraceViewerError as exc:
        reason = f"the trace viewer is not installed and could not be: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def service_of(span: dict[str, Any], ports: dict[int, str]) -> str | None:
    """The service that made `span` (as Phoenix returns it), when the span says."""
    attributes = span["attributes"]
    if group := attributes.get("messaging.consumer.group.name"):
        return str(group)
    if database := attributes.get("db.name"):
        return str(database).removeprefix("mpp_")
    return ports.get(attributes.get("server.port", 0))


CONSUMED = "mpp.applications process"
VERIFIED = "mpp.application.verified.v1"


def journey(spans: list[dict[str, Any]], ports: dict[int, str]) -> dict[str, bool]:
    """Which steps of a verification's journey `spans` (one trace) hold."""

    def has(service: str, name: str | None = None, statement: str | None = None) -> bool:
        return any(
            service_of(span, ports) == service
            and name in (None, span["name"])
            and (statement is None or statement in span["attributes"].get("db.statement", ""))
            for span in spans
        )

    return {
        "intake: the verifier's request": has(
            "intake", name="POST /v1/applications/{application_id}/verification"
        ),
        "documents: the verified event consumed": has("documents", name=CONSUMED),
        "documents: the production job written": has("documents", statement="INSERT INTO jobs "),
        "complaints: the verified event consumed": has("complaints", name=CONSUMED),
        "notify: the verified event consumed": has("notify", name=CONSUMED),
        "notify: the citizen's message queued": has(
            "notify", statement="INSERT INTO delivery_log "
        ),
    }


def _troubles(workdir: Path, service: str, lines: int = 30) -> str:
    """The last warnings and errors in `service`'s log under `make run`."""
    try:
        log = (workdir / "logs" / f"{service}.log").read_text(errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    found = [line for line in log.splitlines() if '"level": "INFO"' not in line]
    return "\n".join(found[-lines:]) or "(none)"


async def _spans(http: httpx.AsyncClient, viewer: str, **params: Any) -> list[dict[str, Any]]:
    """Every span of project `mpp` that matches `params` (all pages)."""
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        answer = await http.get(
            f"{viewer}/v1/projects/{traces.PROJECT}/spans",
            params={**params, "limit": 1000, **({"cursor": cursor} if cursor else {})},
        )
        if answer.status_code == 404:  # no span has reached the project yet
            return found
        page = expect(answer)
        found += page["data"]
        if not (cursor := page["next_cursor"]):
            return found


@pytest.mark.timeout(900)  # a first install, then Phoenix and the stack on a busy machine
async def test_one_journey_is_one_trace_across_the_four_services(tmp_path: Path) -> None:
    _viewer_installed()
    with launched(tmp_path / "run", "--traces") as run:
        run.wait_for(r"Stop everything with Ctrl-C", timeout=400)
        urls = run.urls()
        viewer = run.wait_for(r"^\s+traces\s+(http://\S+)").group(1)
        ports = {int(url.rsplit(":", 1)[1]): name for name, url in urls.items()}
        async with httpx.AsyncClient(timeout=20, limits=LIVE) as http:
            intake = urls["intake"]
            app = await submit_verified(http, intake, nik())

            async def job() -> list[Any] | None:
                answer = await http.get(
                    f"{urls['documents']}/v1/jobs",
                    params={"application_id": app["id"]},
                    headers=auth("production"),
                )
                return expect(answer)["items"] or None

            await eventually(job, timeout=120, what="the job of the verified application")

            # The verification's trace: from the verifier's request at intake
            # through the event to documents (the job), complaints and notify.
            async def verification_trace() -> str | None:
                for span in await _spans(
                    http, viewer, name="POST /v1/applications/{application_id}/verification"
                ):
                    if app["id"] in span["attributes"].get("url.path", ""):
                        return str(span["context"]["trace_id"])
                return None

            trace_id = await eventually(
                verification_trace, timeout=120, interval=1, what="the verification's span"
            )

            # Notify keeps the trace id with each message: the citizen's message
            # about the verification belongs to that trace, whatever the viewer
            # has received so far.
            async def verified_message() -> dict[str, Any] | None:
                answer = await http.get(
                    f"{urls['notify']}/v1/notifications",
                    params={"application_id": app["id"]},
                    headers=auth("supervisor"),
                )
                for message in expect(answer)["items"]:
                    if message["source_event_type"] == VERIFIED:
                        return dict(message)
                return None

            message = await eventually(
                verified_message, timeout=120, what="notify's message about the verification"
            )
            assert message["trace_id"] == trace_id, message

            # Then every step's spans reach the viewer. A busy machine delays
            # the exports (each service sends its spans every few seconds);
            # it does not lose them.
            missing: list[str] = []
            seen: list[tuple[str | None, str]] = []

            async def complete() -> bool:
                spans = await _spans(http, viewer, trace_id=trace_id)
                seen[:] = sorted({(service_of(s, ports), s["name"]) for s in spans}, key=str)
                missing[:] = [step for step, held in journey(spans, ports).items() if not held]
                return not missing

            held, _ = await poll_until(complete, timeout=120, interval=1)
            assert held, (
                f"trace {trace_id} lacks: {'; '.join(missing)}\n"
                f"it holds: {seen}\n"
                f"notify's log, warnings and errors:\n{_troubles(tmp_path / 'run', 'notify')}"
            )

            ui = await http.get(viewer)
            assert ui.status_code == 200 and "<html" in ui.text.lower()
    assert run.process.returncode == 0, run.console()[-3000:]
