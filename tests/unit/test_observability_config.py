"""Static checks of the observability configuration in deploy/: the Prometheus
alert rules and their unit tests (promtool), the scrape configuration, and
the Grafana data sources and dashboards.

Every metric and label a rule or a panel queries must be one the services
expose (tests/support/metric_contract.py): a misspelt name in PromQL is not an
error, just an empty panel or an alert that can never fire.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from tests.support import metric_contract as contract
from tests.support.promql import Usage, grouping_labels, metric_names, parse
from tests.support.tools import required_tool

REPO_ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = REPO_ROOT / "deploy" / "prometheus"
PROMETHEUS_CONFIG = PROMETHEUS_DIR / "prometheus.yml"
ALERT_RULES = PROMETHEUS_DIR / "alerts.yml"
ALERT_TESTS = PROMETHEUS_DIR / "alerts.test.yml"
GRAFANA_DIR = REPO_ROOT / "deploy" / "grafana"
DASHBOARDS_DIR = GRAFANA_DIR / "dashboards"
DATASOURCES_DIR = GRAFANA_DIR / "provisioning" / "datasources"

DASHBOARD_TITLES = {"Service mall today", "Pipeline health", "Messages"}
SEVERITIES = {"critical", "warning", "info"}
ANNOTATIONS = ("summary", "description", "runbook")
# The trace link of a panel whose series carry the service in `job`.
JOB_PLACEHOLDER = "${__field.labels.job}"


# --------------------------------------------------------------------- helpers


def _promtool() -> str:
    return required_tool(
        "promtool", "Debian: apt-get install prometheus; .ci/run installs it in CI"
    )


def _run_promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_promtool(), *args],
        cwd=PROMETHEUS_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@functools.cache
def _alert_rules() -> dict[str, dict[str, Any]]:
    rules: dict[str, dict[str, Any]] = {}
    for group in _yaml(ALERT_RULES)["groups"]:
        for rule in group["rules"]:
            assert "alert" in rule, f"{rule} is not an alert (recording rules are not expected)"
            assert rule["alert"] not in rules, f"alert {rule['alert']} is defined twice"
            rules[rule["alert"]] = rule
    assert rules, "alerts.yml defines no alert"
    return rules


@functools.cache
def _dashboards() -> dict[str, dict[str, Any]]:
    files = sorted(DASHBOARDS_DIR.glob("*.json"))
    assert files, f"no dashboard in {DASHBOARDS_DIR}"
    return {path.name: json.loads(path.read_text(encoding="utf-8")) for path in files}


@functools.cache
def _datasources() -> dict[str, str]:
    """Provisioned data sources: uid -> type."""
    found: dict[str, str] = {}
    for path in sorted(DATASOURCES_DIR.glob("*.y*ml")):
        for source in _yaml(path).get("datasources") or []:
            uid = source.get("uid")
            assert uid, f"{path.name}: data source {source.get('name')} has no fixed uid"
            assert uid not in found, f"data source uid {uid} is provisioned twice"
            found[uid] = source["type"]
    return found


def _uid_of(kind: str) -> str:
    uids = [uid for uid, type_ in _datasources().items() if type_ == kind]
    assert len(uids) == 1, f"expected one {kind} data source, found {uids}"
    return uids[0]


def _panels(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every panel, those inside (collapsed) rows included; rows themselves not."""
    found: list[dict[str, Any]] = []
    for panel in panels:
        if panel.get("type") == "row":
            found.extend(_panels(panel.get("panels") or []))
        else:
            found.append(panel)
    return found


def _dashboard_queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, PromQL) of every panel target and every query variable."""
    queries: list[tuple[str, str]] = []
    for panel in _panels(dashboard.get("panels") or []):
        for target in panel.get("targets") or []:
            if target.get("expr"):
                queries.append((f"panel {panel['title']!r}", target["expr"]))
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") == "query":
            query = variable.get("query")
            text = query.get("query") if isinstance(query, dict) else query
            queries.append((f"variable {variable['name']!r}", str(text)))
    return queries


def _label_values(query: str) -> tuple[str, str | None]:
    """Grafana's `label_values(expr, label)` as (expr, label); other queries as is."""
    match = re.fullmatch(r"\s*label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*", query)
    return (match.group(1), match.group(2)) if match else (query, None)


def _contract_violations(expr: str) -> list[str]:
    """What an expression uses that the services do not expose."""
    expr, label_values_label = _label_values(expr)
    usage: Usage = parse(expr)
    problems: list[str] = []
    if not usage.metric_names:
        problems.append("selects no metric")
    for selector in usage.selectors:
        if selector.name is None:
            problems.append(f"a selector without a metric name: {selector}")
            continue
        if not contract.is_known(selector.name):
            problems.append(f"unknown metric {selector.name}")
            continue
        for label in sorted(selector.labels):
            if not contract.is_allowed_label(selector.name, label):
                problems.append(f"{selector.name} has no label {label!r}")
        for matcher in selector.matchers:
            if matcher.label == "job":
                problems.extend(
                    _job_matcher_problems(selector.name, matcher.operator, matcher.value)
                )
    known = [name for name in usage.metric_names if contract.is_known(name)]
    grouping = set(usage.grouping) | ({label_values_label} if label_values_label else set())
    for label in sorted(grouping):
        if known and not any(contract.is_allowed_label(name, label) for name in known):
            problems.append(f"no metric of the expression has the label {label!r}: {known}")
    return problems


def _job_matcher_problems(metric: str, operator: str, value: str) -> list[str]:
    """A `job` matcher must name (or match) scrape jobs that expose the metric."""
    if "$" in value or operator.startswith("!"):
        return []
    exposing = contract.EXPOSED_BY.get(contract.base_name(metric), _scrape_jobs())
    if operator == "=":
        return [] if value in exposing else [f"job {value!r} does not expose {metric}"]
    if not any(re.fullmatch(value, job) for job in exposing):
        return [f"job=~{value!r} matches no job exposing {metric}"]
    return []


@functools.cache
def _scrape_jobs() -> frozenset[str]:
    return frozenset(job["job_name"] for job in _yaml(PROMETHEUS_CONFIG)["scrape_configs"])


def _trace_links(panel: dict[str, Any]) -> list[dict[str, Any]]:
    """The data links of a panel that open Explore on a Jaeger search."""
    links = [
        *panel.get("links", []),
        *panel.get("fieldConfig", {}).get("defaults", {}).get("links", []),
    ]
    return [link for link in links if urlsplit(link.get("url", "")).path.endswith("/explore")]


def _explore_queries(url: str) -> list[tuple[str, dict[str, Any]]]:
    """(pane data source uid, query) of every query an Explore URL opens."""
    query = parse_qs(urlsplit(url).query)
    assert query.get("schemaVersion") == ["1"], f"not an Explore URL with panes: {url}"
    panes = json.loads(query["panes"][0])
    return [
        (str(pane["datasource"]), explore_query)
        for pane in panes.values()
        for explore_query in pane["queries"]
    ]


# --------------------------------------------------------------------- promtool


def test_promtool_checks_the_alert_rules() -> None:
    result = _run_promtool("check", "rules", ALERT_RULES.name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(_alert_rules())} rules found" in result.stdout, result.stdout


def test_promtool_unit_tests_of_the_alert_rules_pass() -> None:
    result = _run_promtool("test", "rules", ALERT_TESTS.name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout, result.stdout


def test_promtool_checks_the_prometheus_config() -> None:
    # Offline: the rule files are read relative to prometheus.yml, DNS discovery
    # is not resolved by the check.
    result = _run_promtool("check", "config", PROMETHEUS_CONFIG.name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is valid prometheus config file syntax" in result.stdout, result.stdout


# ----------------------------------------------------------------- alert rules


@pytest.mark.parametrize("alert", sorted(_alert_rules()))
def test_alert_tells_operators_how_bad_what_and_what_to_do(alert: str) -> None:
    rule = _alert_rules()[alert]
    assert rule.get("labels", {}).get("severity") in SEVERITIES, f"{alert}: severity"
    annotations = rule.get("annotations") or {}
    for name in ANNOTATIONS:
        text = str(annotations.get(name, "")).strip()
        assert len(text) >= 20, f"{alert}: annotation {name!r} missing or too short"
    assert alert.startswith("Mpp") and re.fullmatch(r"[A-Za-z]+", alert), alert


@pytest.mark.parametrize("alert", sorted(_alert_rules()))
def test_alert_queries_only_what_the_services_expose(alert: str) -> None:
    problems = _contract_violations(_alert_rules()[alert]["expr"])
    assert not problems, f"{alert}: {problems}"


def test_every_alert_has_a_unit_test_where_it_fires_and_one_where_it_stays_silent() -> None:
    fires: set[str] = set()
    silent: set[str] = set()
    tests = _yaml(ALERT_TESTS)
    assert tests["rule_files"] == [ALERT_RULES.name]
    for case in tests["tests"]:
        for check in case.get("alert_rule_test") or []:
            (fires if check.get("exp_alerts") else silent).add(check["alertname"])
    rules = set(_alert_rules())
    assert fires <= rules and silent <= rules, (
        f"tests of unknown alerts: {(fires | silent) - rules}"
    )
    assert not rules - fires, f"no test where these fire: {sorted(rules - fires)}"
    assert not rules - silent, f"no test where these stay silent: {sorted(rules - silent)}"


def test_alert_unit_test_inputs_look_like_what_the_services_expose() -> None:
    for case in _yaml(ALERT_TESTS)["tests"]:
        for series in case.get("input_series") or []:
            usage = parse(series["series"])
            assert len(usage.selectors) == 1, series
            selector = usage.selectors[0]
            assert selector.name and contract.is_known(selector.name), series
            assert all(m.operator == "=" for m in selector.matchers), series
            labels = {m.label: m.value for m in selector.matchers}
            assert {"job", "instance"} <= set(labels), f"{series}: job and instance are scraped"
            assert labels["job"] in _scrape_jobs(), series
            for label in labels:
                assert contract.is_allowed_label(selector.name, label), f"{series}: {label}"
            if selector.name not in contract.PROMETHEUS_SERIES:
                needed = contract.METRICS[contract.base_name(selector.name)]
                assert needed <= set(labels), f"{series}: lacks {sorted(needed - set(labels))}"


# ------------------------------------------------------------------ prometheus


def test_prometheus_scrapes_the_four_services_under_their_names() -> None:
    config = _yaml(PROMETHEUS_CONFIG)
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert contract.ALL_JOBS <= set(jobs), f"missing scrape jobs: {contract.ALL_JOBS - set(jobs)}"
    for name in contract.ALL_JOBS:
        assert jobs[name].get("metrics_path", "/metrics") == "/metrics", name
    assert [str(path) for path in config["rule_files"]] == [ALERT_RULES.name]


# ----------------------------------------------------------------- dashboards


def test_dashboards_have_unique_uids_and_titles() -> None:
    dashboards = _dashboards()
    uids = [d.get("uid") for d in dashboards.values()]
    titles = [d.get("title") for d in dashboards.values()]
    assert all(uids) and len(set(uids)) == len(uids), uids
    assert all(len(str(uid)) <= 40 for uid in uids), "Grafana uids are at most 40 characters"
    assert all(titles) and len(set(titles)) == len(titles), titles
    assert set(titles) == DASHBOARD_TITLES, titles
    for name, dashboard in dashboards.items():
        panels = _panels(dashboard.get("panels") or [])
        assert panels, f"{name} has no panel"
        rows = [p for p in dashboard["panels"] if p.get("type") == "row"]
        ids = [p.get("id") for p in [*rows, *panels]]
        assert None not in ids and len(set(ids)) == len(ids), f"{name}: panel ids {ids}"
        assert all(p.get("title") for p in panels), f"{name}: a panel has no title"


@pytest.mark.parametrize("name", sorted(_dashboards()))
def test_every_panel_uses_a_provisioned_data_source(name: str) -> None:
    dashboard = _dashboards()[name]
    provisioned = _datasources()
    used: list[tuple[str, Any]] = []
    for panel in _panels(dashboard.get("panels") or []):
        used.append((f"panel {panel['title']!r}", panel.get("datasource")))
        used.extend(
            (f"panel {panel['title']!r}", target.get("datasource"))
            for target in panel.get("targets") or []
        )
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") == "query":
            used.append((f"variable {variable['name']!r}", variable.get("datasource")))
    assert used
    for where, datasource in used:
        assert isinstance(datasource, dict), f"{name}, {where}: no data source uid"
        uid = datasource.get("uid")
        assert uid in provisioned, f"{name}, {where}: data source {uid!r} is not provisioned"
        assert datasource.get("type") == provisioned[uid], f"{name}, {where}: type"


@pytest.mark.parametrize("name", sorted(_dashboards()))
def test_dashboard_queries_use_only_what_the_services_expose(name: str) -> None:
    queries = _dashboard_queries(_dashboards()[name])
    assert queries, f"{name} queries nothing"
    problems = [f"{where}: {p}" for where, expr in queries for p in _contract_violations(expr)]
    assert not problems, f"{name}: {problems}"


@pytest.mark.parametrize("name", sorted(_dashboards()))
def test_every_panel_links_to_the_traces_of_its_service(name: str) -> None:
    jaeger = _uid_of("jaeger")
    for panel in _panels(_dashboards()[name].get("panels") or []):
        where = f"{name}, panel {panel['title']!r}"
        links = _trace_links(panel)
        assert links, f"{where}: no link to the traces in Explore"
        for link in links:
            queries = _explore_queries(link["url"])
            assert queries, f"{where}: the link opens no query"
            for pane_datasource, query in queries:
                assert pane_datasource == jaeger, f"{where}: Explore opens {pane_datasource}"
                assert query.get("datasource") == {"type": "jaeger", "uid": jaeger}, where
                assert query.get("queryType") == "search", where
                service = query.get("service")
                if service == JOB_PLACEHOLDER:
                    # the service comes from the series: each must keep `job`
                    for target in panel.get("targets") or []:
                        assert "job" in grouping_labels(target["expr"]), (
                            f"{where}: links to the series' job, but {target['expr']!r} "
                            "does not keep the job label"
                        )
                else:
                    assert service in contract.ALL_JOBS, f"{where}: service {service!r}"
                    for target in panel.get("targets") or []:
                        exposing = {
                            job
                            for metric in metric_names(target["expr"])
                            for job in contract.EXPOSED_BY.get(contract.base_name(metric), ())
                        }
                        assert service in exposing, (
                            f"{where}: links to {service}, which exposes none of {target['expr']!r}"
                        )


# ----------------------------------------------------------- the PromQL reader


@pytest.mark.parametrize(
    ("expr", "names", "grouping"),
    [
        ("up", {"up"}, set()),
        (
            'sum by (job, consumer) (rate(mpp_consumer_handled_total{topic="mpp.sla"}[5m]))',
            {"mpp_consumer_handled_total"},
            {"job", "consumer"},
        ),
        (
            "histogram_quantile(0.95, sum by (le) (rate(http_server_request_duration_seconds_bucket[$__rate_interval])))",
            {"http_server_request_duration_seconds_bucket"},
            {"le"},
        ),
        (
            "sum(a) without (instance) / on (job) group_left (point) b offset 1h30m > bool 0.5",
            {"a", "b"},
            {"instance", "job", "point"},
        ),
        (
            '{__name__="mpp_sla_open_jobs", point=~"KEC-.*"} and x unless y',
            {"mpp_sla_open_jobs", "x", "y"},
            set(),
        ),
        ("max_over_time(deriv(lag[10m])[1h:5m]) * 60 + 1e3 - 0x1F", {"lag"}, set()),
        (
            'topk(5, count_values("value", sum by (kind) (c_total))) # a comment',
            {"c_total"},
            {"kind"},
        ),
        ('SUM BY (job) (absent(x{job="${job}"}))', {"x"}, {"job"}),
    ],
)
def test_promql_reader_finds_metrics_and_grouping_labels(
    expr: str, names: set[str], grouping: set[str]
) -> None:
    assert metric_names(expr) == names
    assert grouping_labels(expr) == grouping


def test_promql_reader_reports_matcher_labels_per_selector() -> None:
    usage = parse('rate(a{job="x", le="+Inf"}[5m]) / b{ channel != "sms" , }')
    assert [(s.name, s.labels) for s in usage.selectors] == [
        ("a", frozenset({"job", "le"})),
        ("b", frozenset({"channel"})),
    ]


def test_contract_strips_histogram_suffixes_only_for_histograms() -> None:
    assert contract.base_name("http_server_request_duration_seconds_bucket") == (
        "http_server_request_duration_seconds"
    )
    assert contract.base_name("mpp_outbox_published_total") == "mpp_outbox_published_total"
    assert contract.base_name("mpp_consumer_lag_count") == "mpp_consumer_lag_count"
    assert contract.is_allowed_label("http_server_request_duration_seconds_bucket", "le")
    assert not contract.is_allowed_label("http_server_request_duration_seconds_count", "le")
    assert contract.is_allowed_label("mpp_consumer_lag", "otel_scope_name")
    assert not contract.is_known("mpp_consumer_lag_count")
    assert _contract_violations("sum by (stage) (mpp_applications_in_stage)") == []
    assert _contract_violations("sum by (opd) (mpp_applications_in_stage)")
    assert _contract_violations('mpp_sla_open_jobs{job="mpp-intake"}')
