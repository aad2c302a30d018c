"""What operators read off the running stack: every metric the dashboards
and alert rules in deploy/ name is one the services really expose, with the
labels they group by, and every request leaves one JSON log line with its
route, status, duration and trace id, and nothing personal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families

from mpp_devstack.stack import SERVICES, Stack
from tests.e2e.test_counter_day import body
from tests.e2e.test_pickup import _ready
from tests.e2e.test_production import _move, _verified_job
from tests.support.auth import auth
from tests.support.http import expect
from tests.support.identities import nik, phone
from tests.support.metric_contract import EXPOSED_BY, JOBS, METRICS, SCOPE_LABEL_PREFIX, base_name
from tests.support.polling import eventually, poll_until
from tests.support.promql import metric_names

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _exposed(text: str) -> dict[str, set[str]]:
    """Each series name of a /metrics page and the labels its samples carry."""
    found: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = {k for k in sample.labels if not k.startswith(SCOPE_LABEL_PREFIX)}
            found.setdefault(base_name(sample.name), set()).update(labels - {"le"})
    return found


def _queries_in_deploy() -> set[str]:
    """Every PromQL expression of the alert rules and the dashboards."""
    queries: set[str] = set()
    for rules in (DEPLOY / "prometheus").glob("alerts*.yml"):
        for group in (yaml.safe_load(rules.read_text()) or {}).get("groups", []):
            queries.update(rule["expr"] for rule in group.get("rules", []) if "expr" in rule)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("expr"), str):
                queries.add(node["expr"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for dashboard in (DEPLOY / "grafana" / "dashboards").glob("*.json"):
        walk(json.loads(dashboard.read_text()))
    return queries


async def test_dashboards_and_alerts_name_only_what_the_services_expose(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    # A journey through pickup, so the counters that count it exist, and one
    # still in production, so the gauges of open work have a row; a request
    # to every service, so each has served one.
    resident = nik()
    _, job = await _ready(stack, http, resident)
    expect(await _move(http, stack, job["id"], "pickup", to="picked_up", collector_nik=resident))
    await _verified_job(stack, http, nik())
    for name in SERVICES:
        expect(await http.get(f"{stack.services[name].url}/openapi.json"))

    async def pages() -> dict[str, dict[str, set[str]]] | None:
        found = {}
        for name in SERVICES:
            answer = await http.get(f"{stack.services[name].url}/metrics")
            assert answer.headers["content-type"].startswith("text/plain"), answer.headers
            assert answer.status_code == 200, answer.text
            found[JOBS[name]] = _exposed(answer.text)
        missing = [
            (metric, target)
            for metric, targets in EXPOSED_BY.items()
            for target in targets
            if metric not in found[target]
        ]
        if missing:
            absent[:] = missing
            return None
        return found

    absent: list[tuple[str, str]] = []
    held, exposed = await poll_until(pages, timeout=30, interval=0.5)
    assert held, f"not exposed within 30 s (metric, service): {absent}"
    for metric, targets in EXPOSED_BY.items():
        for target in targets:
            labels = exposed[target][metric]
            assert METRICS[metric] <= labels, (metric, target, labels)
    # Nothing of ours goes unnamed in the contract (and so unwatched).
    ours = {m for page in exposed.values() for m in page if m.startswith("mpp_")}
    assert ours <= set(METRICS), sorted(ours - set(METRICS))

    queries = _queries_in_deploy()
    assert len(queries) >= 20, "the dashboards and rules were not found"
    named = {base_name(m) for query in queries for m in metric_names(query)}
    everything = set().union(*exposed.values()) | {"up"}
    assert named <= everything, sorted(named - everything)


async def test_every_request_leaves_one_json_line_with_its_route_and_trace(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    resident = nik()
    intake = stack.services["intake"]
    contact = phone("0812")
    app = expect(
        await http.post(
            f"{intake.url}/v1/applications",
            json=body("kk", [], nik=resident, phone=contact.typed),
            headers=auth("frontdesk"),
        ),
        201,
    )
    tracked = await http.get(f"{intake.url}/v1/track/{app['tracking_code']}")
    assert tracked.status_code == 200, tracked.text

    def lines() -> list[dict[str, Any]]:
        found = []
        for line in intake.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{") and '"logger": "mpp.http"' in line:
                found.append(json.loads(line))
        return found

    def ours() -> list[dict[str, Any]] | None:
        mine = [
            line
            for line in lines()
            if (line["route"], line["status"])
            in {("/v1/applications", 201), ("/v1/track/{tracking_code}", 200)}
        ]
        return mine if len(mine) >= 2 else None

    found = await eventually(ours, timeout=10, what="the request lines of intake")
    for line in found:
        assert line["method"] in {"GET", "POST"}
        assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
        assert len(line["trace_id"]) == 32, line
    text = "\n".join(json.dumps(line) for line in lines())
    for secret in (resident, "Siti Rahayu", contact.typed, contact.e164, app["tracking_code"]):
        assert secret not in text
    assert '"/health/' not in text and '"/metrics"' not in text


async def test_each_service_froze_its_startup_heap_out_of_the_collectors_way(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    # What startup built is never scanned by a full collection again
    # (mpp_shared.heap): 100,000 and more objects per service.
    for name in SERVICES:
        answer = await http.get(f"{stack.services[name].url}/metrics")
        assert answer.status_code == 200, answer.text
        frozen = [
            sample.value
            for family in text_string_to_metric_families(answer.text)
            for sample in family.samples
            if sample.name == "python_gc_frozen_objects"
        ]
        assert frozen and frozen[0] > 50_000, (name, frozen)
