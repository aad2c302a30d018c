"""Static checks of the Docker deployment in deploy/ (Docker itself is not needed).

They catch the mistakes a `docker compose up` would only reveal late: paths that
do not exist, services that depend on undefined services, env vars missing from
the example env file, a Kafka quorum that does not list every broker.
"""

from __future__ import annotations

import base64
import fnmatch
import functools
import json
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY_DIR = REPO_ROOT / "deploy"
COMPOSE_FILE = DEPLOY_DIR / "docker-compose.yml"
ENV_EXAMPLE = DEPLOY_DIR / ".env.example"
INIT_SQL = DEPLOY_DIR / "postgres" / "init.sql"

APP_PORTS = {"intake": 8001, "documents": 8002, "complaints": 8003, "notify": 8004}
KAFKA_IMAGE = "apache/kafka:3.8.0"
SECRETS = {
    "POSTGRES_PASSWORD",
    "JWT_SECRET",
    "PII_ENCRYPTION_KEY",
    "PII_INDEX_KEY",
    "NOTIFY_SEAL_PUBLIC_KEY",
    "NOTIFY_SEAL_PRIVATE_KEY",
}
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


def _interpolate(text: str) -> str:
    """Resolve ${...} the way compose does, with the values from .env.example."""
    env = _env_example()

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
    expected = set(APP_PORTS) | {"postgres", "jaeger"}
    assert expected <= set(services), f"missing services: {sorted(expected - set(services))}"
    assert len(_kafka_brokers()) == 3
    for name, service in services.items():
        assert isinstance(service, dict), f"service {name} is not a mapping"
        assert "image" in service or "build" in service, f"{name} has neither image nor build"
    assert str(services["postgres"]["image"]).startswith("postgres:16")
    assert services["jaeger"]["image"] == "jaegertracing/all-in-one:1.60"


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
    assert any("--all-packages" in s and "--no-install-workspace" not in s for s in sync)

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
    assert otlp.hostname in services and otlp.port == 4318
    assert env["OTEL_SERVICE_NAME"] == f"mpp-{name}"
    for key in ("JWT_SECRET", "PII_ENCRYPTION_KEY", "PII_INDEX_KEY", "NOTIFY_SEAL_PUBLIC_KEY"):
        assert env.get(key), f"{name} lacks {key}"
    assert ("NOTIFY_SEAL_PRIVATE_KEY" in env) == (name == "notify")


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
