"""Static checks of the Docker deployment in deploy/ (Docker itself is not needed).

They catch the mistakes a `docker compose up` would only reveal late: paths that
do not exist, services that depend on undefined services, env vars missing from
the example env file, a Kafka quorum that does not list every broker, a setting
a service refuses in production, observability containers wired to the wrong
ports or files.
"""

from __future__ import annotations

import base64
import fnmatch
import functools
import json
import re
import shlex
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic import ValidationError

from mpp_complaints.settings import ComplaintsSettings
from mpp_documents.settings import DocumentsSettings
from mpp_intake.settings import IntakeSettings
from mpp_notify.settings import NotifySettings
from mpp_shared.settings import ServiceSettings

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY_DIR = REPO_ROOT / "deploy"
COMPOSE_FILE = DEPLOY_DIR / "docker-compose.yml"
ENV_EXAMPLE = DEPLOY_DIR / ".env.example"
INIT_SQL = DEPLOY_DIR / "postgres" / "init.sql"
UV_LOCK = REPO_ROOT / "uv.lock"
COLLECTOR_CONFIG = DEPLOY_DIR / "otel-collector" / "config.yaml"
JAEGER_CONFIG = DEPLOY_DIR / "jaeger" / "config.yaml"
PROMETHEUS_CONFIG = DEPLOY_DIR / "prometheus" / "prometheus.yml"
GRAFANA_DIR = DEPLOY_DIR / "grafana"

APP_PORTS = {"intake": 8001, "documents": 8002, "complaints": 8003, "notify": 8004}
KAFKA_IMAGE = "apache/kafka:3.8.0"
SECRETS = {
    "POSTGRES_PASSWORD",
    "CITIZEN_SESSION_SECRET",
    "CHANNEL_TOKEN_PRIVATE_KEY",
    "CHANNEL_TOKEN_PUBLIC_KEY",
    "PII_ENCRYPTION_KEY",
    "PII_INDEX_KEY",
    "NOTIFY_SEAL_PUBLIC_KEY",
    "NOTIFY_SEAL_PRIVATE_KEY",
    "OPEN311_API_KEYS",
    "GRAFANA_ADMIN_PASSWORD",
}
SETTINGS: dict[str, type[ServiceSettings]] = {
    "intake": IntakeSettings,
    "documents": DocumentsSettings,
    "complaints": ComplaintsSettings,
    "notify": NotifySettings,
}
PLACEHOLDER = "change-me"
# What an operator fills in beside the secrets: one notification channel.
OPERATOR_CHOICES = {
    "SMTP_HOST": "smtp.kedirikab.go.id",
    "SMTP_USERNAME": "noreply@mpp.kedirikab.go.id",
    "SMTP_PASSWORD": "an-smtp-password-from-the-mail-server",
}
PROVIDER_SETTINGS = {"SMTP_HOST", "SMS_GATEWAY_URL", "WHATSAPP_PHONE_NUMBER_ID"}
# Placeholders a service does not refuse itself (see .env.example): PostgreSQL
# takes any password.
NOT_REFUSED_BY_SERVICES = {"POSTGRES_PASSWORD"}
HEALTH_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}, ${NAME:+alt}
# and bare $NAME; "$$" is compose's escape for a literal "$" and is not interpolated.
_BRACED = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}")
_BARE = re.compile(r"(?<!\$)\$([A-Za-z_][A-Za-z0-9_]*)")


# --------------------------------------------------------------------------- helpers


@functools.cache
def _compose_text() -> str:
    return COMPOSE_FILE.read_text(encoding="utf-8")


@functools.cache
def _compose() -> dict[str, Any]:
    data = yaml.safe_load(_compose_text())
    assert isinstance(data, dict), "docker-compose.yml must be a mapping"
    return data


def _services() -> dict[str, dict[str, Any]]:
    services = _compose().get("services")
    assert isinstance(services, dict) and services, "compose file defines no services"
    return services


def _env(service: dict[str, Any]) -> dict[str, str]:
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        pairs = (item.split("=", 1) if "=" in item else (item, "") for item in raw)
        return {key: value for key, value in pairs}
    return {key: "" if value is None else str(value) for key, value in raw.items()}


def _command(service: dict[str, Any]) -> list[str]:
    raw = service.get("command") or []
    return shlex.split(raw) if isinstance(raw, str) else [str(part) for part in raw]


def _uncommented_compose_lines() -> list[str]:
    return [line for line in _compose_text().splitlines() if not line.lstrip().startswith("#")]


@functools.cache
def _env_example() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$", line)
        if match:
            name, value = match.groups()
            assert name not in values, f"{name} is defined twice in .env.example"
            values[name] = value.strip().strip("'\"")
    return values


def _interpolate(text: str, values: Mapping[str, str] | None = None) -> str:
    """Resolve ${...} the way compose does, with the values from .env.example
    (or with `values`, an env file's variables)."""
    env = _env_example() if values is None else values

    def replace(match: re.Match[str]) -> str:
        name, operator, argument = match.group(1), match.group(2), match.group(3)
        value = env.get(name)
        unset = value is None or (operator is not None and operator.startswith(":") and not value)
        if operator in (":-", "-"):
            return argument if unset else str(value)
        if operator in (":?", "?"):
            assert not unset, f"{name}: {argument}"
        if operator in (":+", "+"):
            return "" if unset else argument
        return value or ""

    return _BRACED.sub(replace, text)


def _app_services() -> dict[str, dict[str, Any]]:
    services = _services()
    missing = set(APP_PORTS) - set(services)
    assert not missing, f"application services missing from compose: {sorted(missing)}"
    return {name: services[name] for name in APP_PORTS}


def _kafka_brokers() -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in _services().items()
        if str(service.get("image", "")).startswith("apache/kafka:")
    }


def _build_paths(service: dict[str, Any]) -> tuple[Path, Path]:
    build = service["build"]
    if isinstance(build, str):
        build = {"context": build}
    context = (DEPLOY_DIR / build.get("context", ".")).resolve()
    dockerfile = (context / build.get("dockerfile", "Dockerfile")).resolve()
    return context, dockerfile


def _dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = (pending + stripped).strip()
        pending = ""
        keyword, _, arguments = full.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    assert not pending, f"{path}: dangling line continuation at end of file"
    return instructions


def _split_flags(arguments: str) -> tuple[dict[str, str], list[str]]:
    """Split `--flag=value ... rest` into flags and the remaining (JSON or shell) words."""
    flags: dict[str, str] = {}
    if arguments.lstrip().startswith("["):
        return flags, [str(word) for word in json.loads(arguments)]
    words = shlex.split(arguments)
    while words and words[0].startswith("--"):
        name, _, value = words.pop(0)[2:].partition("=")
        flags[name] = value
    rest = " ".join(words)
    if rest.startswith("["):
        return flags, [str(word) for word in json.loads(rest)]
    return flags, words


def _copy_sources(dockerfile: Path) -> list[str]:
    """Sources of every COPY/ADD that reads from the build context (not --from)."""
    sources: list[str] = []
    for keyword, arguments in _dockerfile_instructions(dockerfile):
        if keyword not in ("COPY", "ADD"):
            continue
        flags, words = _split_flags(arguments)
        if "from" in flags:
            continue
        assert len(words) >= 2, f"{keyword} {arguments}: needs a source and a destination"
        sources.extend(words[:-1])
    return sources


def _dockerignore_patterns(dockerfile: Path) -> list[str]:
    ignore_file = dockerfile.with_name(dockerfile.name + ".dockerignore")
    assert ignore_file.is_file(), f"{ignore_file} is missing"
    return [
        line.strip()
        for line in ignore_file.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def _is_ignored(relative: str, patterns: list[str]) -> bool:
    """Approximates .dockerignore matching (a path is ignored if it or a parent matches;
    later patterns win, `!` re-includes). fnmatch's `*` also crosses `/`, which only
    makes this stricter than Docker."""
    parts = relative.strip("/").split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = (raw[1:] if negate else raw).strip("/")
        alternatives = [pattern]
        if pattern.startswith("**/"):
            alternatives.append(pattern[3:])
        if any(fnmatch.fnmatchcase(c, p) for c in candidates for p in alternatives):
            ignored = not negate
    return ignored


# --------------------------------------------------------------------------- tests


def test_compose_file_parses_and_defines_the_stack() -> None:
    services = _services()
    expected = set(APP_PORTS) | {"postgres", "otel-collector", "jaeger", "prometheus", "grafana"}
    assert expected <= set(services), f"missing services: {sorted(expected - set(services))}"
    assert len(_kafka_brokers()) == 3
    for name, service in services.items():
        assert isinstance(service, dict), f"service {name} is not a mapping"
        assert "image" in service or "build" in service, f"{name} has neither image nor build"
    assert services["postgres"]["image"] == f"postgres:{_embedded_postgres_major()}"
    assert str(services["otel-collector"]["image"]).startswith(
        "otel/opentelemetry-collector-contrib:0."
    )
    assert str(services["jaeger"]["image"]).startswith("jaegertracing/jaeger:2.")
    assert str(services["prometheus"]["image"]).startswith("prom/prometheus:v3.")
    assert re.fullmatch(r"grafana/grafana:1[12]\.\d+\.\d+", str(services["grafana"]["image"]))
    # Jaeger v1 (all-in-one) reached its end of life
    assert "all-in-one" not in "\n".join(_uncommented_compose_lines())
    for name, service in services.items():
        image = str(service.get("image", ""))
        assert ":" in image and not image.endswith(":latest"), f"{name}: pin the image {image}"


def test_every_build_dockerfile_and_context_exist() -> None:
    built = {name: s for name, s in _services().items() if "build" in s}
    assert set(APP_PORTS) <= set(built), "every application service must be built"
    for name, service in built.items():
        context, dockerfile = _build_paths(service)
        assert context.is_dir(), f"{name}: build context {context} does not exist"
        assert dockerfile.is_file(), f"{name}: Dockerfile {dockerfile} does not exist"
    # one image for all four services
    assert len({_build_paths(s) for s in _app_services().values()}) == 1
    assert len({s.get("image") for s in _app_services().values()}) == 1


def test_every_file_the_dockerfile_copies_exists_and_is_not_ignored() -> None:
    context, dockerfile = _build_paths(_app_services()["intake"])
    sources = _copy_sources(dockerfile)
    assert {"pyproject.toml", "uv.lock", "shared/", "services/"} <= set(sources)
    patterns = _dockerignore_patterns(dockerfile)
    for source in sources:
        if any(char in source for char in "*?["):
            assert list(context.glob(source)), f"COPY {source}: the pattern matches nothing"
        else:
            assert (context / source).exists(), f"COPY {source}: {context / source} is missing"
        assert not _is_ignored(source, patterns), f"COPY {source} is excluded by .dockerignore"
    # what the directory copies must bring along is not filtered out either
    for member in ["shared", *(f"services/{name}" for name in APP_PORTS)]:
        pyproject = f"{member}/pyproject.toml"
        assert (context / pyproject).is_file(), f"{pyproject} is missing"
        assert not _is_ignored(pyproject, patterns), f"{pyproject} is ignored"
        for package in (context / member).glob("mpp_*/__init__.py"):
            relative = package.relative_to(context).as_posix()
            assert not _is_ignored(relative, patterns), f"{relative} is ignored"
    # secrets never enter the build context
    for secret_file in ("deploy/.env", ".env", "services/intake/.env"):
        assert _is_ignored(secret_file, patterns), f"{secret_file} would enter the build"
    assert _is_ignored(".venv/bin/python", patterns)


def test_dockerfile_conventions() -> None:
    _, dockerfile = _build_paths(_app_services()["intake"])
    instructions = _dockerfile_instructions(dockerfile)
    defaults = {
        name.strip(): value.strip().strip("'\"")
        for keyword, arguments in instructions
        if keyword == "ARG" and "=" in arguments
        for name, _, value in [arguments.partition("=")]
    }

    def expand(text: str) -> str:
        return re.sub(r"\$\{?(\w+)\}?", lambda m: defaults.get(m.group(1), m.group(0)), text)

    stages = [expand(arguments) for keyword, arguments in instructions if keyword == "FROM"]
    assert len(stages) >= 2, "expected a multi-stage build"
    assert all(stage.split()[0] == "python:3.11-slim" for stage in stages), stages

    stage_names = {stage.split()[-1] for stage in stages if " as " in stage.lower()}
    for keyword, arguments in instructions:
        if keyword == "COPY":
            flags, _ = _split_flags(arguments)
            if "from" in flags:
                assert flags["from"] in stage_names, f"COPY --from={flags['from']}: no such stage"

    runs = [expand(arguments) for keyword, arguments in instructions if keyword == "RUN"]
    assert any("uv==0.13.9" in run for run in runs)
    sync = [found for run in runs for found in re.findall(r"uv sync[^&;|]*", run)]
    assert sync and all("--frozen" in s and "--no-dev" in s for s in sync), sync
    # The services and mpp_shared, never every workspace member (the devstack).
    assert any("--no-install-workspace" not in s for s in sync)
    assert not any("--all-packages" in s for s in sync), sync

    users = [arguments for keyword, arguments in instructions if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "must run as non-root"

    healthchecks = [arguments for keyword, arguments in instructions if keyword == "HEALTHCHECK"]
    assert len(healthchecks) == 1
    assert "/health/live" in healthchecks[0] and "urllib" in healthchecks[0]
    assert "curl" not in healthchecks[0]


def test_every_depends_on_target_is_a_defined_service() -> None:
    services = _services()
    checked = 0
    for name, service in services.items():
        depends_on = service.get("depends_on") or {}
        if isinstance(depends_on, list):
            depends_on = {target: {"condition": "service_started"} for target in depends_on}
        for target, options in depends_on.items():
            checked += 1
            assert target in services, f"{name} depends on undefined service {target}"
            assert target != name, f"{name} depends on itself"
            condition = (options or {}).get("condition", "service_started")
            assert condition in HEALTH_CONDITIONS, f"{name} -> {target}: bad condition"
            if condition == "service_healthy":
                target_service = services[target]
                healthcheck = target_service.get("healthcheck") or {}
                has_check = bool(healthcheck.get("test")) and not healthcheck.get("disable")
                if not has_check and "build" in target_service:
                    _, dockerfile = _build_paths(target_service)
                    has_check = "HEALTHCHECK" in dict(_dockerfile_instructions(dockerfile))
                assert has_check, f"{name} waits for {target} to be healthy; it has no check"
    assert checked, "no depends_on found at all"
    for name in APP_PORTS:
        targets = set(services[name].get("depends_on") or {})
        assert {"postgres", *_kafka_brokers()} <= targets, f"{name} must wait for its backends"


def test_every_python_module_command_names_an_existing_package() -> None:
    commanded: dict[str, str] = {}
    for name, service in _services().items():
        command = _command(service)
        for index, word in enumerate(command[:-1]):
            if word == "-m" and command[index + 1].startswith("mpp_"):
                module = command[index + 1].split(".")[0]
                short = module.removeprefix("mpp_")
                package = REPO_ROOT / "services" / short / module
                assert package.is_dir(), f"{name}: `python -m {module}` but {package} is missing"
                commanded[name] = module
    assert commanded == {name: f"mpp_{name}" for name in APP_PORTS}


def test_every_interpolated_variable_is_in_env_example() -> None:
    text = "\n".join(_uncommented_compose_lines())
    used = {m.group(1) for m in _BRACED.finditer(text)} | set(_BARE.findall(text))
    assert used, "the compose file interpolates nothing; secrets must come from the env file"
    example = _env_example()
    assert not used - set(example), f"missing from .env.example: {sorted(used - set(example))}"
    assert not set(example) - used, f"unused in compose: {sorted(set(example) - used)}"
    # `docker compose --env-file deploy/.env.example config` must interpolate cleanly
    for match in _BRACED.finditer(text):
        if match.group(2) in (":?", "?"):
            assert example[match.group(1)], f"{match.group(1)} needs a placeholder value"


def test_secrets_are_required_and_have_no_defaults() -> None:
    text = "\n".join(_uncommented_compose_lines())
    forms: dict[str, set[str | None]] = {}
    for match in _BRACED.finditer(text):
        forms.setdefault(match.group(1), set()).add(match.group(2))
    assert set(forms) >= SECRETS, f"not interpolated: {sorted(SECRETS - set(forms))}"
    for name in SECRETS:
        assert forms[name] == {":?"}, f"{name} must always be written ${{{name}:?...}}"
    for name, service in _services().items():
        for key, value in _env(service).items():
            if key in SECRETS:
                assert value.startswith("${") and key in value, f"{name}.{key} is hard-coded"


def test_every_mounted_local_file_exists_and_named_volumes_are_declared() -> None:
    declared = set((_compose().get("volumes") or {}).keys())
    bind_mounts = 0
    for name, service in _services().items():
        for volume in service.get("volumes") or []:
            if isinstance(volume, str):
                source, _, target = volume.partition(":")
                kind = "bind" if source.startswith((".", "/", "~")) else "volume"
                target = target.split(":")[0]
            else:
                kind, source, target = volume["type"], volume.get("source", ""), volume["target"]
            if kind == "bind":
                bind_mounts += 1
                path = (DEPLOY_DIR / source).resolve()
                assert path.exists(), f"{name}: mounted {source} -> {path} does not exist"
            elif kind == "volume" and source:
                assert source in declared, f"{name}: volume {source} is not declared"
            assert target.startswith("/"), f"{name}: mount target {target} is not absolute"
    assert bind_mounts, "expected at least the postgres init script to be mounted"
    postgres_mounts = [str(v) for v in _services()["postgres"].get("volumes") or []]
    assert any(
        "postgres/init.sql" in v and ":/docker-entrypoint-initdb.d/" in v for v in postgres_mounts
    )


def test_init_sql_creates_every_service_database() -> None:
    created = {
        name.lower()
        for name in re.findall(
            r'CREATE\s+DATABASE\s+"?(\w+)"?', INIT_SQL.read_text(encoding="utf-8"), re.I
        )
    }
    assert created == {f"mpp_{name}" for name in APP_PORTS}
    for name, service in _app_services().items():
        url = urlsplit(_interpolate(_env(service)["DATABASE_URL"]))
        assert url.path.lstrip("/") in created, f"{name} uses a database init.sql never creates"


@pytest.mark.parametrize("name", sorted(APP_PORTS))
def test_application_service_environment(name: str) -> None:
    services = _services()
    service = _app_services()[name]
    env = _env(service)
    port = APP_PORTS[name]
    assert env["MPP_ENV"] == "production"
    assert env["KAFKA_ENABLE_IDEMPOTENCE"] == "true"
    assert env["PORT"] == str(port)
    assert f"{port}:{port}" in [str(p) for p in service.get("ports") or []]
    assert service.get("restart") in ("always", "unless-stopped", "on-failure")

    url = urlsplit(_interpolate(env["DATABASE_URL"]))
    assert url.scheme in ("postgresql", "postgres")
    assert url.hostname in services and url.port == 5432 and url.username and url.password
    assert url.path == f"/mpp_{name}"

    brokers = _kafka_brokers().values()
    advertised = {_internal_listener(broker) for broker in brokers}
    assert set(env["KAFKA_BOOTSTRAP_SERVERS"].split(",")) == advertised
    # the services create their topics themselves: same layout as the broker defaults
    broker_env = _env(next(iter(brokers)))
    assert env["KAFKA_REPLICATION_FACTOR"] == broker_env["KAFKA_DEFAULT_REPLICATION_FACTOR"]
    assert env["KAFKA_TOPIC_PARTITIONS"] == broker_env["KAFKA_NUM_PARTITIONS"]

    otlp = urlsplit(env["OTEL_EXPORTER_OTLP_ENDPOINT"])
    assert otlp.hostname == "otel-collector" and otlp.port == 4318
    assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
    # metrics are scraped from /metrics, never pushed
    assert env["OTEL_METRICS_EXPORTER"] == "none"
    assert env["OTEL_SERVICE_NAME"] == f"mpp-{name}"
    assert "otel-collector" in (service.get("depends_on") or {})
    for key in ("OIDC_ISSUER", "PII_ENCRYPTION_KEY", "PII_INDEX_KEY", "NOTIFY_SEAL_PUBLIC_KEY"):
        assert env.get(key), f"{name} lacks {key}"
    assert "JWT_SECRET" not in env, "production accepts no development token"
    assert ("CITIZEN_SESSION_SECRET" in env) == (name == "intake")
    assert ("CHANNEL_TOKEN_PRIVATE_KEY" in env) == (name == "notify")
    assert ("CHANNEL_TOKEN_PUBLIC_KEY" in env) == (name == "complaints")
    assert ("NOTIFY_SEAL_PRIVATE_KEY" in env) == (name == "notify")
    assert ("OPEN311_API_KEYS" in env) == (name == "complaints")
    if name == "notify":
        assert PROVIDER_SETTINGS <= set(env), "every channel's provider comes from the env file"
        assert "NOTIFY_RECORD_ONLY" in env


def _internal_listener(broker: dict[str, Any]) -> str:
    env = _env(broker)
    listener = env["KAFKA_INTER_BROKER_LISTENER_NAME"]
    for entry in env["KAFKA_ADVERTISED_LISTENERS"].split(","):
        scheme, _, address = entry.partition("://")
        if scheme == listener:
            return address
    raise AssertionError(f"no advertised {listener} listener in {env}")


def test_kafka_quorum_lists_all_brokers_and_replication_is_3_with_min_isr_2() -> None:
    brokers = _kafka_brokers()
    assert sorted(brokers) == ["kafka-1", "kafka-2", "kafka-3"]
    node_ids: dict[str, str] = {}
    voters_seen: set[str] = set()
    cluster_ids: set[str] = set()
    for name, broker in brokers.items():
        env = _env(broker)
        assert broker["image"] == KAFKA_IMAGE
        assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
        node_ids[env["KAFKA_NODE_ID"]] = name
        voters_seen.add(env["KAFKA_CONTROLLER_QUORUM_VOTERS"])
        cluster_ids.add(env["CLUSTER_ID"])

        controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"]
        listeners = dict(
            entry.split("://", 1) for entry in env["KAFKA_LISTENERS"].split(",") if entry
        )
        controller_port = listeners[controller].rsplit(":", 1)[1]
        voters = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")
        assert all(v.rsplit(":", 1)[1] == controller_port for v in voters), voters
        assert controller not in env["KAFKA_ADVERTISED_LISTENERS"]
        assert _internal_listener(broker).split(":")[0] in (name, broker.get("hostname"))

        assert int(env["KAFKA_DEFAULT_REPLICATION_FACTOR"]) == 3
        assert int(env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"]) == 3
        assert int(env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"]) == 3
        assert int(env["KAFKA_MIN_INSYNC_REPLICAS"]) == 2
        assert int(env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"]) == 2
        assert int(env["KAFKA_NUM_PARTITIONS"]) >= 3
        assert broker.get("healthcheck", {}).get("test"), f"{name} needs a healthcheck"
        assert any(str(v).endswith(":/var/lib/kafka/data") for v in broker.get("volumes", []))

    assert len(node_ids) == 3, "KAFKA_NODE_ID values must be unique"
    assert len(voters_seen) == 1, "all brokers must agree on the controller quorum"
    quorum = dict(v.split("@", 1) for v in voters_seen.pop().split(","))
    assert set(quorum) == set(node_ids), "the quorum must list every broker's node id"
    for node_id, address in quorum.items():
        assert address.split(":")[0] == node_ids[node_id], f"voter {node_id} is not its broker"

    assert len(cluster_ids) == 1, "all brokers must share one CLUSTER_ID"
    cluster_id = cluster_ids.pop()
    assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16, "CLUSTER_ID is not a UUID"


# ------------------------------------------------------------ PostgreSQL version


@functools.cache
def _embedded_postgres_major() -> str:
    """Major version of the embedded PostgreSQL the tests and `make run` use."""
    match = re.search(
        r'^name = "embedded-postgres"\nversion = "(\d+)\.',
        UV_LOCK.read_text(encoding="utf-8"),
        re.M,
    )
    assert match, "embedded-postgres is not in uv.lock"
    return match.group(1)


def test_postgres_is_the_embedded_major_and_its_volume_holds_the_data() -> None:
    postgres = _services()["postgres"]
    major = int(_embedded_postgres_major())
    assert postgres["image"] == f"postgres:{major}"
    named = [
        str(v).split(":")
        for v in postgres.get("volumes") or []
        if not str(v).startswith((".", "/"))
    ]
    assert len(named) == 1, f"expected one named data volume, found {named}"
    source, target = named[0][0], named[0][1]
    assert source in (_compose().get("volumes") or {})
    # From 18 on, PGDATA is /var/lib/postgresql/<major>/docker and the image's
    # VOLUME is /var/lib/postgresql; a volume at .../data would not hold the data.
    assert target == ("/var/lib/postgresql" if major >= 18 else "/var/lib/postgresql/data")
    assert "PGDATA" not in _env(postgres), "keep the image's own data directory"


# ------------------------------------------------------------ observability wiring


def _mount(service: str, source: str) -> str:
    """The container path where `service` mounts the deploy/ path `source`."""
    for volume in _services()[service].get("volumes") or []:
        parts = str(volume).split(":")
        if (DEPLOY_DIR / parts[0]).resolve() == (DEPLOY_DIR / source).resolve():
            if len(parts) == 3:
                assert parts[2] == "ro", f"{service}: mount {source} read-only"
            return parts[1]
    raise AssertionError(f"{service} does not mount {source}")


def _port(endpoint: str) -> int:
    return int(endpoint.rsplit(":", 1)[1])


def _check_pipelines(config: dict[str, Any], where: str) -> None:
    """Every component a collector pipeline or the service names is configured."""
    service = config["service"]
    for extension in service.get("extensions") or []:
        assert extension in (config.get("extensions") or {}), f"{where}: extension {extension}"
    assert service["pipelines"], f"{where}: no pipeline"
    for pipeline, parts in service["pipelines"].items():
        for kind in ("receivers", "processors", "exporters"):
            for component in parts.get(kind) or []:
                assert component in (config.get(kind) or {}), f"{where}: {pipeline} {component}"
        assert parts.get("receivers") and parts.get("exporters"), f"{where}: {pipeline}"


def test_traces_flow_from_the_services_through_the_collector_to_jaeger() -> None:
    services = _services()
    collector = _yaml_file(COLLECTOR_CONFIG)
    _check_pipelines(collector, "collector")
    assert set(collector["service"]["pipelines"]) == {"traces"}, "metrics are scraped, not pushed"
    traces = collector["service"]["pipelines"]["traces"]
    assert "batch" in traces["processors"]
    assert traces["processors"][0] == "memory_limiter", "memory_limiter goes first"

    # the services' OTLP/HTTP endpoint is the collector's http receiver
    protocols = collector["receivers"]["otlp"]["protocols"]
    assert protocols["http"]["endpoint"] == "0.0.0.0:4318"
    assert protocols["grpc"]["endpoint"] == "0.0.0.0:4317"
    command = _command(services["otel-collector"])
    assert command == [f"--config={_mount('otel-collector', 'otel-collector/config.yaml')}"]

    # the collector's exporter reaches Jaeger's OTLP receiver of the same protocol
    exporters = [collector["exporters"][e] for e in traces["exporters"]]
    assert len(exporters) == 1 and traces["exporters"][0].split("/")[0] == "otlp"
    host, port = exporters[0]["endpoint"].rsplit(":", 1)
    assert host == "jaeger" and host in services
    jaeger = _yaml_file(JAEGER_CONFIG)
    _check_pipelines(jaeger, "jaeger")
    assert _port(jaeger["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"]) == int(port)
    assert _command(services["jaeger"]) == [
        "--config",
        _mount("jaeger", "jaeger/config.yaml"),
    ]
    assert "jaeger" in (services["otel-collector"].get("depends_on") or {})

    # Jaeger stores what it receives and its query service reads that storage
    backends = jaeger["extensions"]["jaeger_storage"]["backends"]
    exporter = jaeger["exporters"][jaeger["service"]["pipelines"]["traces"]["exporters"][0]]
    assert exporter["trace_storage"] in backends
    query = jaeger["extensions"]["jaeger_query"]
    assert query["storage"]["traces"] == exporter["trace_storage"]
    ui_port = _port(query["http"]["endpoint"])
    assert ui_port == 16686
    assert f"127.0.0.1:{ui_port}:{ui_port}" in services["jaeger"].get("ports", [])


def test_prometheus_reads_its_rules_and_scrapes_every_replica_of_every_service() -> None:
    prometheus = _services()["prometheus"]
    config_dir = _mount("prometheus", "prometheus")
    flags = dict(word.lstrip("-").split("=", 1) for word in _command(prometheus))
    assert flags["config.file"] == f"{config_dir}/prometheus.yml"
    assert any(str(v).endswith(":" + flags["storage.tsdb.path"]) for v in prometheus["volumes"])
    assert "127.0.0.1:9090:9090" in prometheus.get("ports", [])

    config = _yaml_file(PROMETHEUS_CONFIG)
    for rule_file in config["rule_files"]:
        assert (PROMETHEUS_CONFIG.parent / rule_file).is_file(), rule_file
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for name, port in APP_PORTS.items():
        job = jobs[f"mpp-{name}"]
        assert _env(_services()[name])["OTEL_SERVICE_NAME"] == job["job_name"]
        # DNS discovery returns every replica of a compose service
        (discovery,) = job["dns_sd_configs"]
        assert discovery["names"] == [name] and discovery["type"] == "A"
        assert discovery["port"] == port


def test_grafana_provisions_the_data_sources_and_the_dashboards_it_mounts() -> None:
    services = _services()
    grafana = services["grafana"]
    env = _env(grafana)
    assert _mount("grafana", "grafana/provisioning") == "/etc/grafana/provisioning"
    dashboards_path = _mount("grafana", "grafana/dashboards")
    assert "3000:3000" in grafana.get("ports", [])
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert env["GF_USERS_ALLOW_SIGN_UP"] == "false"
    home = env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home.startswith(dashboards_path + "/")
    assert (GRAFANA_DIR / "dashboards" / home.removeprefix(dashboards_path + "/")).is_file()

    providers = [
        provider
        for path in sorted((GRAFANA_DIR / "provisioning" / "dashboards").glob("*.y*ml"))
        for provider in _yaml_file(path)["providers"]
    ]
    assert [p["options"]["path"] for p in providers] == [dashboards_path]

    sources = {
        source["type"]: source
        for path in sorted((GRAFANA_DIR / "provisioning" / "datasources").glob("*.y*ml"))
        for source in _yaml_file(path)["datasources"]
    }
    assert set(sources) == {"prometheus", "jaeger"}
    jaeger_query = _yaml_file(JAEGER_CONFIG)["extensions"]["jaeger_query"]
    expected = {
        "prometheus": ("prometheus", 9090),
        "jaeger": ("jaeger", _port(jaeger_query["http"]["endpoint"])),
    }
    for kind, (host, port) in expected.items():
        url = urlsplit(sources[kind]["url"])
        assert (url.hostname, url.port) == (host, port), f"{kind} data source: {url.geturl()}"
        assert host in services and host in (grafana.get("depends_on") or {})


def _yaml_file(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# ------------------------------------------------------------ service settings


@pytest.mark.parametrize("name", sorted(APP_PORTS))
def test_every_setting_compose_gives_a_service_is_one_it_reads(name: str) -> None:
    """A misspelt variable is ignored by the service (extra settings are
    ignored), so the setting silently keeps its default."""
    fields = {field.upper() for field in SETTINGS[name].model_fields}
    unknown = {key for key in _env(_app_services()[name]) if not key.startswith("OTEL_")} - fields
    assert not unknown, f"{name} has no setting {sorted(unknown)}"


@functools.cache
def _generation_commands() -> dict[str, str | None]:
    """Each change-me variable of .env.example -> the Python code its section
    gives to generate a value (`python -c "..."` in a comment above it), or
    None when it gives none."""
    commands: dict[str, str | None] = {}
    code: str | None = None
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("# ---"):
            code = None
            continue
        command = re.match(r"#\s+(python3?\s+-c\s+.*)$", stripped)
        if command:
            words = shlex.split(command.group(1))
            assert len(words) == 3 and words[1] == "-c", f"not a python -c command: {line}"
            code = words[2]
            continue
        variable = re.match(r"([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$", stripped)
        if variable and variable.group(2).strip() == PLACEHOLDER:
            commands[variable.group(1)] = code
    return commands


@functools.cache
def _generated_secrets() -> dict[str, str]:
    """A value for every change-me variable, made the way .env.example says."""
    known = set(_env_example())
    values: dict[str, str] = {}
    for name, code in _generation_commands().items():
        assert code, f"{name}: .env.example does not say how to generate it"
        if name in values:
            continue  # an earlier command printed it (both halves of a key pair)
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, f"{name}: the command fails: {result.stderr}"
        lines = result.stdout.strip().splitlines()
        assigned = [line.split("=", 1) for line in lines if line.split("=", 1)[0] in known]
        if assigned:
            assert len(assigned) == len(lines), f"{name}: {lines}"
            values.update({key: value for key, value in assigned})
        else:
            assert len(lines) == 1 and lines[0].strip(), f"{name}: prints {lines}"
            values[name] = lines[0].strip()
    assert set(_generation_commands()) <= set(values)
    return values


def _service_environment(name: str, overrides: Mapping[str, str]) -> dict[str, str]:
    """The environment compose gives `name`, with an env file of .env.example
    updated with `overrides`."""
    values = {**_env_example(), **overrides}
    return {key: _interpolate(raw, values) for key, raw in _env(_app_services()[name]).items()}


def _settings(
    name: str, environment: Mapping[str, str], monkeypatch: pytest.MonkeyPatch
) -> ServiceSettings:
    """The service's settings, read from exactly `environment` as at start-up."""
    settings_class = SETTINGS[name]
    for field in settings_class.model_fields:
        monkeypatch.delenv(field.upper(), raising=False)
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    return settings_class()


def _secret_variables(name: str) -> list[str]:
    """The change-me variables the compose environment of `name` refers to."""
    text = "\n".join(_env(_app_services()[name]).values())
    return sorted({m.group(1) for m in _BRACED.finditer(text)} & set(_generation_commands()))


def test_env_example_says_how_to_generate_every_secret_and_the_commands_work() -> None:
    generated = _generated_secrets()
    assert set(generated) >= SECRETS, f"no generator for {sorted(SECRETS - set(generated))}"
    assert len(set(generated.values())) == len(generated), "two secrets came out the same"
    for name in ("PII_ENCRYPTION_KEY", "PII_INDEX_KEY", "NOTIFY_SEAL_PUBLIC_KEY"):
        assert len(base64.b64decode(generated[name], validate=True)) == 32, name
    assert re.fullmatch(r"[0-9a-f]+", generated["POSTGRES_PASSWORD"]), "URL-safe password"


@pytest.mark.parametrize("name", sorted(APP_PORTS))
def test_service_starts_with_the_compose_environment_and_generated_secrets(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    generated = _generated_secrets()
    settings = _settings(
        name, _service_environment(name, {**generated, **OPERATOR_CHOICES}), monkeypatch
    )
    assert settings.mpp_env == "production"
    assert settings.port == APP_PORTS[name]
    assert settings.oidc_issuer and settings.oidc_issuer.startswith("https://")
    assert settings.kafka_enable_idempotence is True
    assert settings.kafka_replication_factor == 3
    if isinstance(settings, ComplaintsSettings):
        assert settings.open311_keys() == {generated["OPEN311_API_KEYS"]}
    if isinstance(settings, NotifySettings):
        assert settings.notify_seal_private_key == generated["NOTIFY_SEAL_PRIVATE_KEY"]
        assert settings.smtp_host == OPERATOR_CHOICES["SMTP_HOST"]
        assert not settings.sms_gateway_url and not settings.whatsapp_phone_number_id


@pytest.mark.parametrize("name", sorted(APP_PORTS))
def test_service_refuses_the_env_example_as_it_is(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValidationError) as refused:
        _settings(name, _service_environment(name, OPERATOR_CHOICES), monkeypatch)
    refusable = set(_secret_variables(name)) - NOT_REFUSED_BY_SERVICES
    assert any(variable in str(refused.value) for variable in refusable), str(refused.value)


def _placeholder_cases() -> list[Any]:
    cases: list[Any] = []
    for name in sorted(APP_PORTS):
        for variable in _secret_variables(name):
            if variable in NOT_REFUSED_BY_SERVICES:
                continue
            cases.append(pytest.param(name, variable, id=f"{name}-{variable}"))
    return cases


@pytest.mark.parametrize(("name", "variable"), _placeholder_cases())
def test_service_refuses_each_placeholder_left_in_the_env_file(
    name: str, variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = {**_generated_secrets(), **OPERATOR_CHOICES, variable: PLACEHOLDER}
    with pytest.raises(ValidationError) as refused:
        _settings(name, _service_environment(name, values), monkeypatch)
    assert variable in str(refused.value)


def test_notify_refuses_to_start_without_a_provider_unless_told_to_only_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secrets_only = _generated_secrets()
    assert all(not _env_example()[setting] for setting in PROVIDER_SETTINGS)
    with pytest.raises(ValidationError) as refused:
        _settings("notify", _service_environment("notify", secrets_only), monkeypatch)
    assert "NOTIFY_RECORD_ONLY" in str(refused.value)

    record_only = {**secrets_only, "NOTIFY_RECORD_ONLY": "true"}
    settings = _settings("notify", _service_environment("notify", record_only), monkeypatch)
    assert isinstance(settings, NotifySettings) and settings.notify_record_only is True
