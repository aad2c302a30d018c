"""The Kubernetes manifests in deploy/k8s, checked offline.

Every kustomization (the base and each overlay) is rendered with
`kubectl kustomize`. The core objects are validated against the Kubernetes
JSON schemas (kubernetes-validate, strict: an unknown field fails); the custom
resources of Strimzi and CloudNativePG against the fields their operators
require. Then what makes the manifests fit this code base is checked against
the code: commands, ports and probes, settings and secrets, the Kafka topics
and ACLs, the databases and the connection budget.

Without kubectl the module is skipped, except in CI (CI=true) where that fails.
"""

from __future__ import annotations

import ast
import fnmatch
import importlib
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from mpp_complaints.settings import ComplaintsSettings
from mpp_documents.settings import DocumentsSettings
from mpp_intake.settings import IntakeSettings
from mpp_notify.settings import NotifySettings
from mpp_notify.webhooks.fanout import SUBSCRIBABLE_TOPICS
from mpp_shared.events.streams import STREAMS
from mpp_shared.events.topics import ALL_TOPICS, Topic, dlq_of
from mpp_shared.settings import ServiceSettings
from tests.support.tools import required_tool

Manifest = dict[str, Any]

REPO_ROOT = Path(__file__).resolve().parents[2]
K8S_DIR = REPO_ROOT / "deploy" / "k8s"
OVERLAYS = sorted(p.parent.name for p in (K8S_DIR / "overlays").glob("*/kustomization.yaml"))
TARGETS = ["base", *(f"overlays/{name}" for name in OVERLAYS)]
OVERLAY_TARGETS = TARGETS[1:]
KUBERNETES_VERSION = "1.32"

SETTINGS: dict[str, type[ServiceSettings]] = {
    "intake": IntakeSettings,
    "documents": DocumentsSettings,
    "complaints": ComplaintsSettings,
    "notify": NotifySettings,
}
RUN_AS_USER = 10001  # the image's user (deploy/Dockerfile)
GRACE_SECONDS = 30
STARTUP_BUDGET_SECONDS = 300  # migrations, and waiting for the database and the broker
# Topics other government offices (OPD) may read: the streams they may also
# subscribe to through notify's webhooks.
PUBLIC_TOPICS = frozenset(str(topic) for topic in SUBSCRIBABLE_TOPICS)
MARKER_TOPIC = "_mpp.relay.{service}"  # the outbox relay's marker (mpp_shared/messaging/outbox.py)
LIBPQ_VARIABLES = frozenset({"PGUSER", "PGPASSWORD"})  # asyncpg reads them beside the URL
SECRET_NAME = re.compile(r"(SECRET|PASSWORD|TOKEN|_KEY|_KEYS)$")
PLACEHOLDERS = frozenset({"", "change-me"})
CONNECTIONS_RESERVED = 10  # superuser, replication and the operator's own connections

STRIMZI_APIS = frozenset({"kafka.strimzi.io/v1beta2", "kafka.strimzi.io/v1"})
STRIMZI_KINDS = frozenset({"Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser"})
CNPG_API = "postgresql.cnpg.io/v1"
CNPG_KINDS = frozenset({"Cluster", "Database"})
LISTENER_TYPES = frozenset(
    {"internal", "cluster-ip", "route", "loadbalancer", "nodeport", "ingress"}
)
LISTENER_RESERVED_PORTS = frozenset({9090, 9091, 9404, 9999})
ACL_RESOURCES = frozenset({"topic", "group", "cluster", "transactionalId"})
ACL_OPERATIONS = frozenset(
    {
        "Read",
        "Write",
        "Create",
        "Delete",
        "Alter",
        "Describe",
        "ClusterAction",
        "AlterConfigs",
        "DescribeConfigs",
        "IdempotentWrite",
        "All",
    }
)
# Kafka's implied operations: each of these also allows Describe.
IMPLIES_DESCRIBE = frozenset({"Read", "Write", "Delete", "Alter", "All"})
# Keys of the Secrets the operators generate.
CNPG_APP_KEYS = frozenset(
    {"username", "user", "password", "dbname", "host", "port", "pgpass"}
    | {"uri", "jdbc-uri", "fqdn-uri", "fqdn-jdbc-uri"}
)
CA_CERT_KEYS = frozenset({"ca.crt", "ca.key"})
STRIMZI_CLUSTER_CA_KEYS = frozenset({"ca.crt", "ca.p12", "ca.password"})
STRIMZI_USER_KEYS = {
    "scram-sha-512": frozenset({"password", "sasl.jaas.config"}),
    "tls": frozenset({"ca.crt", "user.crt", "user.key", "user.p12", "user.password"}),
}


# --------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class Render:
    objects: list[Manifest]

    def of(self, kind: str) -> list[Manifest]:
        return [o for o in self.objects if o.get("kind") == kind]

    def named(self, kind: str, name: str) -> Manifest | None:
        return next((o for o in self.of(kind) if o["metadata"]["name"] == name), None)


@pytest.fixture(scope="module")
def kubectl() -> str:
    return required_tool(
        "kubectl",
        "the manifests are rendered with kubectl kustomize; https://kubernetes.io/docs/tasks/tools/",
        Path("/usr/bin/kubectl"),
    )


@pytest.fixture(scope="module")
def renders(kubectl: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Render]:
    """Each target rendered from a copy of deploy/k8s where every secret env
    file is made from its committed `.example` (placeholders, never a real
    value found on this machine)."""
    tree = tmp_path_factory.mktemp("k8s") / "k8s"

    def real_secrets(_folder: str, names: list[str]) -> list[str]:
        return [n for n in names if f"{n}.example" in names]

    shutil.copytree(K8S_DIR, tree, ignore=real_secrets)
    for example in tree.rglob("*.env.example"):
        shutil.copyfile(example, example.with_suffix(""))
    out: dict[str, Render] = {}
    for target in TARGETS:
        done = subprocess.run(
            [kubectl, "kustomize", str(tree / target)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"kubectl kustomize {target} failed:\n{done.stderr}"
        objects = [o for o in yaml.safe_load_all(done.stdout) if o]
        assert objects, f"{target} renders no object"
        out[target] = Render(objects)
    return out


def test_there_is_a_production_overlay() -> None:
    assert "production" in OVERLAYS, f"deploy/k8s/overlays/production is missing (found {OVERLAYS})"


# --------------------------------------------------------------------------- small helpers


def _dig(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _where(obj: Manifest) -> str:
    return f"{obj.get('kind')}/{_dig(obj, 'metadata', 'name')}"


def _cpu(quantity: Any) -> float:
    text = str(quantity)
    return float(text[:-1]) / 1000 if text.endswith("m") else float(text)


_MEMORY_UNITS = {
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
}


def _memory(quantity: Any) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]i|[kMG])?", str(quantity))
    assert match, f"not a memory quantity: {quantity!r}"
    return float(match[1]) * _MEMORY_UNITS.get(match[2] or "", 1)


def _service_of(deployment: Manifest) -> str:
    return str(deployment["metadata"]["name"])


def _container(deployment: Manifest) -> Manifest:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, f"{_where(deployment)} must run exactly one container"
    return dict(containers[0])


@dataclass(frozen=True)
class Var:
    value: str | None = None
    secret: tuple[str, str] | None = None  # (Secret name, key)
    optional: bool = False


def _environment(render: Render, deployment: Manifest) -> dict[str, Var]:
    """The container's environment: ConfigMaps (envFrom) first, then `env`."""
    container = _container(deployment)
    env: dict[str, Var] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            name = source["configMapRef"]["name"]
            config_map = render.named("ConfigMap", name)
            assert config_map is not None, f"{_where(deployment)}: ConfigMap {name} is not rendered"
            for key, value in (config_map.get("data") or {}).items():
                env[key] = Var(value=str(value))
    for item in container.get("env", []):
        ref = _dig(item, "valueFrom", "secretKeyRef")
        if ref:
            env[item["name"]] = Var(
                secret=(ref["name"], ref["key"]), optional=bool(ref.get("optional"))
            )
        else:
            env[item["name"]] = Var(
                value=None if "valueFrom" in item else str(item.get("value", ""))
            )
    return env


def _mount_of(deployment: Manifest, path: str) -> Manifest | None:
    """The volume mounted at the directory holding `path`."""
    spec = deployment["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    for mount in _container(deployment).get("volumeMounts", []):
        if path.startswith(mount["mountPath"].rstrip("/") + "/") or path == mount["mountPath"]:
            return volumes.get(mount["name"])
    return None


def _secret_file(deployment: Manifest, path: str) -> tuple[str, str] | None:
    """(Secret name, key) of a file mounted from a Secret volume."""
    volume = _mount_of(deployment, path)
    if volume is None or "secret" not in volume:
        return None
    name = Path(path).name
    for item in volume["secret"].get("items", [{"key": name, "path": name}]):
        if item["path"] == name:
            return volume["secret"]["secretName"], item["key"]
    return None


def _port_number(container: Manifest, port: Any) -> int | None:
    if isinstance(port, int):
        return port
    for declared in container.get("ports", []):
        if declared.get("name") == port:
            return int(declared["containerPort"])
    return None


def _selects(selector: Manifest | None, labels: dict[str, str]) -> bool:
    match = (selector or {}).get("matchLabels") or {}
    return bool(match) and all(labels.get(k) == v for k, v in match.items())


# --------------------------------------------------------------------------- schemas


@pytest.mark.parametrize("target", TARGETS)
def test_core_objects_match_the_kubernetes_schemas(renders: dict[str, Render], target: str) -> None:
    problems: list[str] = []
    for obj in renders[target].objects:
        if obj.get("apiVersion") in STRIMZI_APIS or obj.get("apiVersion") == CNPG_API:
            continue  # operators' resources: test_custom_resources_have_what_their_operators_require
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            problems.append(
                f"{_where(obj)}: {obj.get('apiVersion')} has no Kubernetes schema and no check here"
            )
        except kubernetes_validate.ValidationError as exc:
            path = "/".join(str(p) for p in exc.path)
            problems.append(f"{_where(obj)} at {path or '.'}: {exc.message}")
    assert not problems, f"{target}:\n" + "\n".join(problems)


def _strimzi_problems(render: Render) -> Iterator[str]:
    kafkas = {k["metadata"]["name"]: k for k in render.of("Kafka")}
    for obj in render.objects:
        if obj.get("kind") in STRIMZI_KINDS:
            if obj["apiVersion"] not in STRIMZI_APIS:
                yield f"{_where(obj)}: apiVersion {obj['apiVersion']} is not {sorted(STRIMZI_APIS)}"
            if (
                obj["kind"] != "Kafka"
                and _dig(obj, "metadata", "labels", "strimzi.io/cluster") not in kafkas
            ):
                yield f"{_where(obj)}: label strimzi.io/cluster names no Kafka resource ({sorted(kafkas)})"
    for name, kafka in kafkas.items():
        spec = kafka.get("spec") or {}
        if "zookeeper" in spec:
            yield f"Kafka/{name}: spec.zookeeper is gone from Strimzi; KRaft only"
        for moved in ("replicas", "storage"):
            if moved in (spec.get("kafka") or {}):
                yield f"Kafka/{name}: spec.kafka.{moved} belongs to the KafkaNodePools"
        if not _dig(spec, "kafka", "version"):
            yield f"Kafka/{name}: spec.kafka.version is not set"
        listeners = _dig(spec, "kafka", "listeners") or []
        if not listeners:
            yield f"Kafka/{name}: spec.kafka.listeners is empty"
        ports = [listener.get("port") for listener in listeners]
        if len(set(ports)) != len(ports):
            yield f"Kafka/{name}: listener ports repeat: {ports}"
        for listener in listeners:
            where = f"Kafka/{name} listener {listener.get('name')}"
            if not re.fullmatch(r"[a-z0-9]{1,11}", str(listener.get("name"))):
                yield f"{where}: name must be 1-11 lower-case letters or digits"
            port = listener.get("port")
            if not isinstance(port, int) or port < 9092 or port in LISTENER_RESERVED_PORTS:
                yield f"{where}: port {port!r} must be a number >= 9092 and not reserved {sorted(LISTENER_RESERVED_PORTS)}"
            if listener.get("type") not in LISTENER_TYPES:
                yield f"{where}: type {listener.get('type')!r} is not one of {sorted(LISTENER_TYPES)}"
            if not isinstance(listener.get("tls"), bool):
                yield f"{where}: tls must be true or false"
            if _dig(listener, "authentication", "type") not in STRIMZI_USER_KEYS:
                yield f"{where}: every listener must authenticate (scram-sha-512 or tls)"
        if _dig(spec, "kafka", "authorization", "type") != "simple":
            yield f"Kafka/{name}: spec.kafka.authorization.type must be simple"
        config = _dig(spec, "kafka", "config") or {}
        wanted = {
            "default.replication.factor": 3,
            "min.insync.replicas": 2,
            "offsets.topic.replication.factor": 3,
            "transaction.state.log.replication.factor": 3,
            "transaction.state.log.min.isr": 2,
            "auto.create.topics.enable": False,
        }
        for key, value in wanted.items():
            if config.get(key) != value:
                yield f"Kafka/{name}: spec.kafka.config {key} is {config.get(key)!r}, expected {value!r}"
        for operator in ("topicOperator", "userOperator"):
            if not isinstance(_dig(spec, "entityOperator", operator), dict):
                yield f"Kafka/{name}: spec.entityOperator.{operator} is needed for KafkaTopic/KafkaUser"
        pools = [
            p
            for p in render.of("KafkaNodePool")
            if _dig(p, "metadata", "labels", "strimzi.io/cluster") == name
        ]
        controllers = sum(
            p["spec"].get("replicas", 0)
            for p in pools
            if "controller" in p["spec"].get("roles", [])
        )
        brokers = sum(
            p["spec"].get("replicas", 0) for p in pools if "broker" in p["spec"].get("roles", [])
        )
        if controllers != 3:
            yield f"Kafka/{name}: {controllers} KRaft controllers; a quorum of 3 survives one loss"
        if brokers < 3:
            yield f"Kafka/{name}: {brokers} brokers cannot hold replication factor 3"
    for pool in render.of("KafkaNodePool"):
        spec = pool.get("spec") or {}
        if not isinstance(spec.get("replicas"), int):
            yield f"{_where(pool)}: spec.replicas is required"
        roles = spec.get("roles") or []
        if not roles or not set(roles) <= {"controller", "broker"}:
            yield f"{_where(pool)}: spec.roles must be controller and/or broker, got {roles}"
        storage = spec.get("storage") or {}
        volumes = storage.get("volumes", [storage]) if storage.get("type") == "jbod" else [storage]
        if storage.get("type") not in {"jbod", "persistent-claim", "ephemeral"}:
            yield f"{_where(pool)}: spec.storage.type {storage.get('type')!r} is not jbod, persistent-claim or ephemeral"
        for volume in volumes:
            if volume.get("type") == "persistent-claim" and not volume.get("size"):
                yield f"{_where(pool)}: a persistent-claim volume needs a size"
    for topic in render.of("KafkaTopic"):
        spec = topic.get("spec") or {}
        if not isinstance(spec.get("partitions"), int) or spec["partitions"] < 1:
            yield f"{_where(topic)}: spec.partitions must be a positive number"
        if spec.get("replicas") != 3:
            yield f"{_where(topic)}: spec.replicas is {spec.get('replicas')!r}, expected 3"
        min_isr = _dig(spec, "config", "min.insync.replicas")
        if min_isr is None or int(min_isr) != 2:
            yield f"{_where(topic)}: config min.insync.replicas is {min_isr!r}, expected 2"
    auth_types = {
        _dig(lst, "authentication", "type")
        for k in kafkas.values()
        for lst in _dig(k, "spec", "kafka", "listeners") or []
    }
    for user in render.of("KafkaUser"):
        spec = user.get("spec") or {}
        auth = _dig(spec, "authentication", "type")
        if auth not in STRIMZI_USER_KEYS:
            yield f"{_where(user)}: spec.authentication.type {auth!r} is not one of {sorted(STRIMZI_USER_KEYS)}"
        elif auth not in auth_types:
            yield f"{_where(user)}: no listener accepts {auth} authentication ({sorted(map(str, auth_types))})"
        if _dig(spec, "authorization", "type") != "simple":
            yield f"{_where(user)}: spec.authorization.type must be simple"
        for acl in _dig(spec, "authorization", "acls") or []:
            resource = acl.get("resource") or {}
            label = f"{_where(user)} ACL {resource}"
            if resource.get("type") not in ACL_RESOURCES:
                yield f"{label}: resource.type must be one of {sorted(ACL_RESOURCES)}"
            if resource.get("type") != "cluster" and not resource.get("name"):
                yield f"{label}: resource.name is required"
            if resource.get("type") != "cluster" and resource.get("patternType") not in {
                "literal",
                "prefix",
            }:
                yield f"{label}: resource.patternType must be literal or prefix"
            if "operation" in acl:
                yield f"{label}: `operation` was removed from the API; use `operations`"
            operations = acl.get("operations") or []
            if not operations or not set(operations) <= ACL_OPERATIONS:
                yield f"{label}: operations {operations} must be a non-empty list of {sorted(ACL_OPERATIONS)}"


def _cnpg_problems(render: Render) -> Iterator[str]:
    embedded = _embedded_postgres_major()
    clusters = {c["metadata"]["name"]: c for c in render.of("Cluster")}
    for obj in render.objects:
        if obj.get("kind") in CNPG_KINDS and obj["apiVersion"] != CNPG_API:
            yield f"{_where(obj)}: apiVersion {obj['apiVersion']} is not {CNPG_API}"
    for name, cluster in clusters.items():
        spec = cluster.get("spec") or {}
        if spec.get("instances") != 3:
            yield f"Cluster/{name}: spec.instances is {spec.get('instances')!r}, expected 3"
        if not _dig(spec, "storage", "size"):
            yield f"Cluster/{name}: spec.storage.size is required"
        image = str(spec.get("imageName", ""))
        tag = image.rpartition(":")[2] if ":" in image else ""
        major = re.match(r"\d+", tag)
        if major is None or major[0] != embedded:
            yield f"Cluster/{name}: imageName {image!r} is not PostgreSQL {embedded} (embedded-postgres in uv.lock)"
        initdb = _dig(spec, "bootstrap", "initdb") or {}
        if not initdb.get("database") or not initdb.get("owner"):
            yield f"Cluster/{name}: spec.bootstrap.initdb needs database and owner (its `-app` secret holds the owner's credentials)"
        for key, value in (_dig(spec, "postgresql", "parameters") or {}).items():
            if not isinstance(value, str):
                yield f"Cluster/{name}: postgresql.parameters.{key} must be a string, got {value!r}"
    for database in render.of("Database"):
        spec = database.get("spec") or {}
        for field in ("name", "owner"):
            if not spec.get(field):
                yield f"{_where(database)}: spec.{field} is required"
        if spec.get("name") in {"postgres", "template0", "template1"}:
            yield f"{_where(database)}: spec.name {spec.get('name')} is reserved"
        target = clusters.get(_dig(spec, "cluster", "name"))
        if target is None:
            yield f"{_where(database)}: spec.cluster.name {_dig(spec, 'cluster', 'name')!r} names no Cluster"
        elif spec.get("owner") != _dig(target, "spec", "bootstrap", "initdb", "owner"):
            yield (
                f"{_where(database)}: owner {spec.get('owner')!r} is not the cluster's application "
                f"owner {_dig(target, 'spec', 'bootstrap', 'initdb', 'owner')!r}, whose credentials the services use"
            )


def _embedded_postgres_major() -> str:
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text(encoding="utf-8"))
    versions = [p["version"] for p in lock["package"] if p["name"] == "embedded-postgres"]
    assert versions, "embedded-postgres is not in uv.lock"
    return str(versions[0]).split(".")[0]


@pytest.mark.parametrize("target", TARGETS)
def test_custom_resources_have_what_their_operators_require(
    renders: dict[str, Render], target: str
) -> None:
    render = renders[target]
    kinds = {o.get("kind") for o in render.objects}
    assert STRIMZI_KINDS <= kinds, (
        f"{target}: Strimzi resources missing: {sorted(STRIMZI_KINDS - kinds)}"
    )
    assert CNPG_KINDS <= kinds, (
        f"{target}: CloudNativePG resources missing: {sorted(CNPG_KINDS - kinds)}"
    )
    problems = [*_strimzi_problems(render), *_cnpg_problems(render)]
    assert not problems, f"{target}:\n" + "\n".join(problems)


# --------------------------------------------------------------------------- the services


@pytest.mark.parametrize("target", TARGETS)
def test_deployments_run_each_service_safely(renders: dict[str, Render], target: str) -> None:
    render = renders[target]
    deployments = {_service_of(d): d for d in render.of("Deployment")}
    assert set(deployments) == set(SETTINGS), (
        f"{target}: Deployments {sorted(deployments)}, expected {sorted(SETTINGS)}"
    )
    images = {_container(d)["image"] for d in deployments.values()}
    assert len(images) == 1, (
        f"{target}: the four services must run the one image, found {sorted(images)}"
    )
    if target != "base":
        image = images.pop()
        assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"), (
            f"{target}: image {image!r} needs a fixed tag"
        )
    problems: list[str] = []
    for service, deployment in deployments.items():
        where = f"{target} Deployment/{service}"
        pod = deployment["spec"]["template"]["spec"]
        container = _container(deployment)
        port = SETTINGS[service].model_fields["port"].default
        if container.get("command") != ["python", "-m", f"mpp_{service}"]:
            problems.append(
                f"{where}: command {container.get('command')} is not python -m mpp_{service}"
            )
        if "replicas" in deployment["spec"]:
            problems.append(f"{where}: spec.replicas would fight its HorizontalPodAutoscaler")
        env = _environment(render, deployment)
        if env.get("PORT", Var()).value != str(port):
            problems.append(
                f"{where}: PORT is {env.get('PORT', Var()).value!r}, the service listens on {port}"
            )
        if _port_number(container, "http") != port:
            problems.append(f"{where}: container port `http` is not {port}")
        probes = {
            "readinessProbe": {"/health/ready"},
            "livenessProbe": {"/health/live"},
            "startupProbe": {"/health/live", "/health/ready"},
        }
        for probe_name, paths in probes.items():
            probe = container.get(probe_name)
            if not probe or "httpGet" not in probe:
                problems.append(f"{where}: no HTTP {probe_name}")
                continue
            if probe["httpGet"].get("path") not in paths:
                problems.append(
                    f"{where}: {probe_name} path {probe['httpGet'].get('path')!r} is not {sorted(paths)}"
                )
            if _port_number(container, probe["httpGet"].get("port")) != port:
                problems.append(
                    f"{where}: {probe_name} port {probe['httpGet'].get('port')!r} is not the service's {port}"
                )
        startup = container.get("startupProbe") or {}
        period = startup.get("periodSeconds", 10)
        budget = startup.get("initialDelaySeconds", 0) + period * startup.get("failureThreshold", 3)
        if budget < STARTUP_BUDGET_SECONDS:
            problems.append(
                f"{where}: the startupProbe allows {budget} s, migrations need {STARTUP_BUDGET_SECONDS} s"
            )
        resources = container.get("resources") or {}
        for kind in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                if resource not in (resources.get(kind) or {}):
                    problems.append(f"{where}: resources.{kind}.{resource} is not set")
        if all(
            r in (resources.get(k) or {}) for k in ("requests", "limits") for r in ("cpu", "memory")
        ):
            if _cpu(resources["requests"]["cpu"]) > _cpu(resources["limits"]["cpu"]):
                problems.append(f"{where}: cpu request above its limit")
            if _memory(resources["requests"]["memory"]) > _memory(resources["limits"]["memory"]):
                problems.append(f"{where}: memory request above its limit")
        pod_security = pod.get("securityContext") or {}
        security = container.get("securityContext") or {}
        if not (pod_security.get("runAsNonRoot") or security.get("runAsNonRoot")):
            problems.append(f"{where}: runAsNonRoot is not true")
        if security.get("runAsUser", pod_security.get("runAsUser")) != RUN_AS_USER:
            problems.append(f"{where}: runAsUser is not {RUN_AS_USER}")
        if security.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{where}: allowPrivilegeEscalation is not false")
        if security.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{where}: readOnlyRootFilesystem is not true")
        if "ALL" not in (_dig(security, "capabilities", "drop") or []):
            problems.append(f"{where}: capabilities are not all dropped")
        tmp = _mount_of(deployment, "/tmp")
        if tmp is None or "emptyDir" not in tmp:
            problems.append(f"{where}: /tmp is not an emptyDir (the root file system is read-only)")
        if pod.get("terminationGracePeriodSeconds") != GRACE_SECONDS:
            problems.append(f"{where}: terminationGracePeriodSeconds is not {GRACE_SECONDS}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("target", TARGETS)
def test_every_deployment_has_a_service_an_autoscaler_and_a_disruption_budget(
    renders: dict[str, Render], target: str
) -> None:
    render = renders[target]
    problems: list[str] = []
    for deployment in render.of("Deployment"):
        name = _service_of(deployment)
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        container = _container(deployment)
        if not _selects(deployment["spec"].get("selector"), labels):
            problems.append(f"Deployment/{name}: its selector does not select its own pods")
        autoscalers = [
            h
            for h in render.of("HorizontalPodAutoscaler")
            if h["apiVersion"] == "autoscaling/v2"
            and _dig(h, "spec", "scaleTargetRef", "kind") == "Deployment"
            and _dig(h, "spec", "scaleTargetRef", "name") == name
        ]
        if len(autoscalers) != 1:
            problems.append(
                f"Deployment/{name}: {len(autoscalers)} autoscaling/v2 HorizontalPodAutoscalers, expected 1"
            )
        for hpa in autoscalers:
            spec = hpa["spec"]
            cpu = [
                m
                for m in spec.get("metrics", [])
                if m.get("type") == "Resource"
                and _dig(m, "resource", "name") == "cpu"
                and _dig(m, "resource", "target", "type") == "Utilization"
            ]
            if not cpu:
                problems.append(f"{_where(hpa)}: no CPU utilization target")
            if spec.get("minReplicas", 1) < 2:
                problems.append(
                    f"{_where(hpa)}: minReplicas {spec.get('minReplicas', 1)}; one pod leaves nothing during a drain"
                )
            if spec.get("maxReplicas", 0) < spec.get("minReplicas", 1):
                problems.append(f"{_where(hpa)}: maxReplicas below minReplicas")
        budgets = [
            p
            for p in render.of("PodDisruptionBudget")
            if _selects(_dig(p, "spec", "selector"), labels)
        ]
        if len(budgets) != 1:
            problems.append(
                f"Deployment/{name}: {len(budgets)} PodDisruptionBudgets select its pods, expected 1"
            )
        for pdb in budgets:
            if "minAvailable" not in pdb["spec"] and "maxUnavailable" not in pdb["spec"]:
                problems.append(f"{_where(pdb)}: neither minAvailable nor maxUnavailable")
            others = [
                _service_of(d)
                for d in render.of("Deployment")
                if d is not deployment
                and _selects(
                    pdb["spec"].get("selector"), d["spec"]["template"]["metadata"]["labels"]
                )
            ]
            if others:
                problems.append(f"{_where(pdb)}: also selects {others}")
        services = [
            s
            for s in render.of("Service")
            if _selects({"matchLabels": _dig(s, "spec", "selector")}, labels)
        ]
        if not services:
            problems.append(f"Deployment/{name}: no Service selects its pods")
        for service in services:
            for port in service["spec"].get("ports", []):
                if _port_number(container, port.get("targetPort", port.get("port"))) is None:
                    problems.append(
                        f"{_where(service)}: targetPort {port.get('targetPort')!r} is no port of the container"
                    )
    assert not problems, f"{target}:\n" + "\n".join(problems)


@pytest.mark.parametrize("target", TARGETS)
def test_environment_fits_the_settings(renders: dict[str, Render], target: str) -> None:
    render = renders[target]
    problems: list[str] = []
    for deployment in render.of("Deployment"):
        service = _service_of(deployment)
        where = f"{target} Deployment/{service}"
        settings = SETTINGS[service]
        env = _environment(render, deployment)
        known = {name.upper() for name in settings.model_fields} | LIBPQ_VARIABLES
        for name in env:
            if name not in known and not name.startswith("OTEL_"):
                problems.append(
                    f"{where}: {name} is no setting of {settings.__name__}; it would be ignored"
                )
        for name, wanted in {
            "MPP_ENV": "production",
            "KAFKA_ENABLE_IDEMPOTENCE": "true",
            "KAFKA_REPLICATION_FACTOR": "3",
            "OTEL_SERVICE_NAME": f"mpp-{service}",
        }.items():
            if env.get(name, Var()).value != wanted:
                problems.append(
                    f"{where}: {name} is {env.get(name, Var()).value!r}, expected {wanted!r}"
                )
        if not env.get("OTEL_EXPORTER_OTLP_ENDPOINT", Var()).value:
            problems.append(f"{where}: OTEL_EXPORTER_OTLP_ENDPOINT is not set")
        required = {name.upper() for name in settings.model_construct()._secret_fields()}
        if service == "complaints":
            required.add("OPEN311_API_KEYS")
        for name in sorted(required):
            if env.get(name, Var()).secret is None:
                problems.append(f"{where}: {name} must come from a Secret (secretKeyRef)")
        for name, var in env.items():
            if SECRET_NAME.search(name) and var.secret is None:
                problems.append(f"{where}: {name} looks like a secret but is a plain value")
        for name, owner in {
            "NOTIFY_SEAL_PRIVATE_KEY": "notify",
            "OPEN311_API_KEYS": "complaints",
        }.items():
            if name in env and service != owner:
                problems.append(f"{where}: {name} belongs to {owner} only")
        problems.extend(_database_problems(render, deployment, env))
        problems.extend(_kafka_client_problems(render, deployment, env))
    assert not problems, "\n".join(problems)


def _database_problems(render: Render, deployment: Manifest, env: dict[str, Var]) -> Iterator[str]:
    service = _service_of(deployment)
    where = f"Deployment/{service}"
    url = env.get("DATABASE_URL", Var()).value
    if not url:
        yield f"{where}: DATABASE_URL is not a plain value"
        return
    parts = urlsplit(url)
    cluster_name = (parts.hostname or "").split(".")[0].removesuffix("-rw")
    cluster = render.named("Cluster", cluster_name)
    if (
        parts.scheme not in {"postgresql", "postgres"}
        or cluster is None
        or not (parts.hostname or "").startswith(f"{cluster_name}-rw")
    ):
        yield f"{where}: DATABASE_URL {url!r} is not the read-write service of a CloudNativePG Cluster"
        return
    if parts.password:
        yield f"{where}: DATABASE_URL carries a password in plain text"
    database = parts.path.lstrip("/")
    if database != f"mpp_{service}":
        yield f"{where}: DATABASE_URL names database {database!r}, expected mpp_{service}"
    databases = {_dig(cluster, "spec", "bootstrap", "initdb", "database")} | {
        _dig(d, "spec", "name")
        for d in render.of("Database")
        if _dig(d, "spec", "cluster", "name") == cluster_name
    }
    if database not in databases:
        yield f"{where}: database {database!r} is created by neither Cluster/{cluster_name} nor a Database ({sorted(map(str, databases))})"
    app_secret = f"{cluster_name}-app"
    for name, key in {"PGUSER": "username", "PGPASSWORD": "password"}.items():
        if env.get(name, Var()).secret != (app_secret, key):
            yield f"{where}: {name} must come from {app_secret}/{key}, the credentials CloudNativePG generates"
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    if query.get("sslmode") != "verify-full":
        yield f"{where}: DATABASE_URL sslmode is {query.get('sslmode')!r}, expected verify-full"
    root = query.get("sslrootcert", "")
    if _secret_file(deployment, root) != (f"{cluster_name}-ca", "ca.crt"):
        yield f"{where}: sslrootcert {root!r} is not {cluster_name}-ca/ca.crt mounted from its Secret"


def _kafka_client_problems(
    render: Render, deployment: Manifest, env: dict[str, Var]
) -> Iterator[str]:
    where = f"Deployment/{_service_of(deployment)}"
    servers = env.get("KAFKA_BOOTSTRAP_SERVERS", Var()).value or ""
    host, _, port = servers.partition(":")
    kafka_name = host.split(".")[0].removesuffix("-kafka-bootstrap")
    kafka = render.named("Kafka", kafka_name)
    if kafka is None or not host.startswith(f"{kafka_name}-kafka-bootstrap"):
        yield f"{where}: KAFKA_BOOTSTRAP_SERVERS {servers!r} is not the bootstrap service of a Strimzi Kafka"
        return
    listener = next(
        (
            lst
            for lst in _dig(kafka, "spec", "kafka", "listeners") or []
            if str(lst.get("port")) == port and lst.get("type") in {"internal", "cluster-ip"}
        ),
        None,
    )
    if listener is None:
        yield f"{where}: port {port!r} is no internal listener of Kafka/{kafka_name}"
        return
    if _dig(listener, "authentication", "type") != "scram-sha-512":
        yield f"{where}: the services authenticate with SCRAM-SHA-512, listener {listener['name']} does not"
        return
    protocol = "SASL_SSL" if listener.get("tls") else "SASL_PLAINTEXT"
    for name, wanted in {
        "KAFKA_SECURITY_PROTOCOL": protocol,
        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
    }.items():
        if env.get(name, Var()).value != wanted:
            yield f"{where}: {name} is {env.get(name, Var()).value!r}, listener {listener['name']} needs {wanted!r}"
    user = env.get("KAFKA_SASL_USERNAME", Var()).value
    if user != f"mpp-{_service_of(deployment)}" or render.named("KafkaUser", user) is None:
        yield f"{where}: KAFKA_SASL_USERNAME {user!r} is not its own KafkaUser mpp-{_service_of(deployment)}"
    elif env.get("KAFKA_SASL_PASSWORD", Var()).secret != (user, "password"):
        yield f"{where}: KAFKA_SASL_PASSWORD must come from the KafkaUser's secret {user}/password"
    if listener.get("tls"):
        cafile = env.get("KAFKA_SSL_CAFILE", Var()).value or ""
        if _secret_file(deployment, cafile) != (f"{kafka_name}-cluster-ca-cert", "ca.crt"):
            yield f"{where}: KAFKA_SSL_CAFILE {cafile!r} is not {kafka_name}-cluster-ca-cert/ca.crt mounted from its Secret"


@pytest.mark.parametrize("target", TARGETS)
def test_postgres_connections_fit_max_connections(renders: dict[str, Render], target: str) -> None:
    render = renders[target]
    for cluster in render.of("Cluster"):
        name = cluster["metadata"]["name"]
        needed = CONNECTIONS_RESERVED
        for deployment in render.of("Deployment"):
            env = _environment(render, deployment)
            if not (env.get("DATABASE_URL", Var()).value or "").startswith(
                f"postgresql://{name}-rw"
            ):
                continue
            hpa = next(
                (
                    h
                    for h in render.of("HorizontalPodAutoscaler")
                    if _dig(h, "spec", "scaleTargetRef", "name") == _service_of(deployment)
                ),
                None,
            )
            assert hpa is not None, f"{target}: {_where(deployment)} has no HorizontalPodAutoscaler"
            surge = int(_dig(deployment, "spec", "strategy", "rollingUpdate", "maxSurge") or 1)
            pool = (
                int(env["DATABASE_POOL_MAX"].value or 0)
                if "DATABASE_POOL_MAX" in env
                else ServiceSettings.model_fields["database_pool_max"].default
            )
            needed += (hpa["spec"]["maxReplicas"] + surge) * (pool + 1)  # + the relay's connection
        limit = int(_dig(cluster, "spec", "postgresql", "parameters", "max_connections") or 100)
        assert needed <= limit, (
            f"{target}: Cluster/{name} allows {limit} connections, the services may open {needed} "
            f"(HPA maxima plus surge, times DATABASE_POOL_MAX + 1, plus {CONNECTIONS_RESERVED})"
        )


# --------------------------------------------------------------------------- secrets


def _generated_secrets(render: Render) -> dict[str, frozenset[str]]:
    """Secrets the operators create, with their keys."""
    out: dict[str, frozenset[str]] = {}
    for cluster in render.of("Cluster"):
        out[f"{cluster['metadata']['name']}-app"] = CNPG_APP_KEYS
        out[f"{cluster['metadata']['name']}-ca"] = CA_CERT_KEYS
    for kafka in render.of("Kafka"):
        out[f"{kafka['metadata']['name']}-cluster-ca-cert"] = STRIMZI_CLUSTER_CA_KEYS
    for user in render.of("KafkaUser"):
        out[user["metadata"]["name"]] = STRIMZI_USER_KEYS.get(
            _dig(user, "spec", "authentication", "type"), frozenset()
        )
    return out


@pytest.mark.parametrize("target", OVERLAY_TARGETS)
def test_every_secret_reference_resolves(renders: dict[str, Render], target: str) -> None:
    render = renders[target]
    secrets = _generated_secrets(render)
    for secret in render.of("Secret"):
        secrets[secret["metadata"]["name"]] = frozenset(secret.get("data") or {}) | frozenset(
            secret.get("stringData") or {}
        )
    problems: list[str] = []
    for deployment in render.of("Deployment"):
        where = f"Deployment/{_service_of(deployment)}"
        container = _container(deployment)
        # (Secret, key); no key when any key will do (envFrom, optional keys).
        refs: list[tuple[str, str | None]] = []
        for var in _environment(render, deployment).values():
            if var.secret:
                refs.append((var.secret[0], None if var.optional else var.secret[1]))
        refs += [
            (s["secretRef"]["name"], None) for s in container.get("envFrom", []) if "secretRef" in s
        ]
        for volume in deployment["spec"]["template"]["spec"].get("volumes", []):
            if "secret" in volume:
                for item in volume["secret"].get("items", [{"key": None}]):
                    refs.append((volume["secret"]["secretName"], item["key"]))
        for name, key in refs:
            if name not in secrets:
                problems.append(
                    f"{where}: Secret {name!r} is neither created by the overlay nor generated by an operator"
                )
            elif key is not None and key not in secrets[name]:
                problems.append(
                    f"{where}: Secret {name!r} has no key {key!r} (has {sorted(secrets[name])})"
                )
    assert not problems, f"{target}:\n" + "\n".join(problems)


def _ignored(path: Path) -> bool:
    """Whether a .gitignore between `path` and deploy/k8s ignores it (name patterns)."""
    for folder in [path.parent, *path.parent.parents]:
        ignore = folder / ".gitignore"
        if ignore.exists():
            for line in ignore.read_text(encoding="utf-8").splitlines():
                pattern = line.strip()
                if (
                    pattern
                    and not pattern.startswith("#")
                    and fnmatch.fnmatch(path.name, pattern.lstrip("/"))
                ):
                    return True
        if folder == K8S_DIR:
            break
    return False


def test_no_secret_value_is_kept_in_git(renders: dict[str, Render]) -> None:
    base = yaml.safe_load((K8S_DIR / "base" / "kustomization.yaml").read_text(encoding="utf-8"))
    assert "secretGenerator" not in base, "the base must not generate Secrets"
    assert not renders["base"].of("Secret"), "the base must hold no Secret"
    for overlay in OVERLAYS:
        folder = K8S_DIR / "overlays" / overlay
        kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text(encoding="utf-8"))
        for generator in kustomization.get("secretGenerator", []):
            where = f"overlays/{overlay} secretGenerator {generator['name']}"
            assert not generator.get("literals"), (
                f"{where}: literals would put secret values in git"
            )
            files = [*generator.get("envs", []), *generator.get("files", [])]
            assert files, f"{where}: reads no file"
            for file in files:
                path = folder / file.split("=", 1)[-1]
                assert _ignored(path), f"{where}: {path.relative_to(REPO_ROOT)} is not git-ignored"
                example = path.with_name(path.name + ".example")
                assert example.exists(), (
                    f"{where}: {example.relative_to(REPO_ROOT)} shows no one what to fill in"
                )
                for line in example.read_text(encoding="utf-8").splitlines():
                    if line.strip() and not line.lstrip().startswith("#"):
                        key, _, value = line.partition("=")
                        assert value.strip() in PLACEHOLDERS, (
                            f"{example.relative_to(REPO_ROOT)}: {key} holds a value; examples keep placeholders only"
                        )


# --------------------------------------------------------------------------- Kafka


def _topic_names(render: Render) -> set[str]:
    return {
        str(_dig(t, "spec", "topicName") or t["metadata"]["name"]) for t in render.of("KafkaTopic")
    }


@pytest.mark.parametrize("target", TARGETS)
def test_every_topic_of_the_registry_is_a_kafka_topic(
    renders: dict[str, Render], target: str
) -> None:
    render = renders[target]
    names = _topic_names(render)
    assert set(ALL_TOPICS) <= names, (
        f"{target}: no KafkaTopic for {sorted(set(ALL_TOPICS) - names)}"
    )
    assert names <= set(ALL_TOPICS), (
        f"{target}: KafkaTopics not in topics.py: {sorted(names - set(ALL_TOPICS))}"
    )
    config_maps = [
        c for c in render.of("ConfigMap") if "KAFKA_TOPIC_PARTITIONS" in (c.get("data") or {})
    ]
    assert config_maps, f"{target}: no ConfigMap sets KAFKA_TOPIC_PARTITIONS"
    for topic in render.of("KafkaTopic"):
        for config_map in config_maps:
            data = config_map["data"]
            assert str(topic["spec"]["partitions"]) == data["KAFKA_TOPIC_PARTITIONS"], (
                f"{target}: {_where(topic)} has {topic['spec']['partitions']} partitions, "
                f"{_where(config_map)} says KAFKA_TOPIC_PARTITIONS={data['KAFKA_TOPIC_PARTITIONS']}"
            )
            assert str(topic["spec"]["replicas"]) == data.get("KAFKA_REPLICATION_FACTOR"), (
                f"{target}: {_where(topic)} has {topic['spec']['replicas']} replicas, "
                f"{_where(config_map)} says KAFKA_REPLICATION_FACTOR={data.get('KAFKA_REPLICATION_FACTOR')}"
            )


@dataclass(frozen=True)
class Grant:
    resource: str
    name: str
    pattern: str
    operations: frozenset[str]

    def covers(self, resource: str, name: str) -> bool:
        if resource != self.resource:
            return False
        return name.startswith(self.name) if self.pattern == "prefix" else name == self.name

    def allows(self, operation: str) -> bool:
        if "All" in self.operations or operation in self.operations:
            return True
        return operation == "Describe" and bool(self.operations & IMPLIES_DESCRIBE)


def _grants(user: Manifest) -> list[Grant]:
    return [
        Grant(
            resource=str(_dig(acl, "resource", "type")),
            name=str(_dig(acl, "resource", "name") or ""),
            pattern=str(_dig(acl, "resource", "patternType") or "literal"),
            operations=frozenset(acl.get("operations") or []),
        )
        for acl in _dig(user, "spec", "authorization", "acls") or []
    ]


def _allowed(grants: list[Grant], resource: str, name: str, operation: str) -> bool:
    return any(g.covers(resource, name) and g.allows(operation) for g in grants)


def _consumers_in_code(service: str) -> list[tuple[set[str], str]]:
    """(topics, consumer group) of each ConsumerSpec in the service's main.py."""
    tree = ast.parse(
        (REPO_ROOT / "services" / service / f"mpp_{service}" / "main.py").read_text(
            encoding="utf-8"
        )
    )
    found: list[tuple[set[str], str]] = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "ConsumerSpec"
        ):
            keywords = {k.arg: k.value for k in node.keywords}
            group = ast.literal_eval(keywords["group"]) if "group" in keywords else service
            topics_node = keywords["topics"]
            if isinstance(topics_node, ast.List):
                topics = set()
                for element in topics_node.elts:
                    assert isinstance(element, ast.Attribute), (
                        f"{service}: topics must be Topic.<NAME>"
                    )
                    topics.add(Topic[element.attr].value)
            else:
                assert "CONSUMED_TOPICS" in ast.unparse(topics_node), (
                    f"{service}: cannot read {ast.unparse(topics_node)}"
                )
                topics = {
                    str(t)
                    for t in importlib.import_module(f"mpp_{service}.handlers").CONSUMED_TOPICS
                }
            found.append((topics, str(group)))
    return found


def test_marker_topic_name_is_the_relays() -> None:
    source = (REPO_ROOT / "shared" / "mpp_shared" / "messaging" / "outbox.py").read_text(
        encoding="utf-8"
    )
    assert f'f"{MARKER_TOPIC}"' in source, (
        "the outbox relay's marker topic is no longer _mpp.relay.<service>"
    )


@pytest.mark.parametrize("target", TARGETS)
def test_service_users_may_do_what_the_code_does_and_no_more(
    renders: dict[str, Render], target: str
) -> None:
    render = renders[target]
    problems: list[str] = []
    for service in SETTINGS:
        user = render.named("KafkaUser", f"mpp-{service}")
        if user is None:
            problems.append(f"KafkaUser mpp-{service} is missing")
            continue
        where = f"KafkaUser/mpp-{service}"
        grants = _grants(user)
        produced = {str(t) for t, stream in STREAMS.items() if stream.producer == service}
        consumers = _consumers_in_code(service)
        consumed = set().union(*(topics for topics, _ in consumers)) if consumers else set()
        writes = produced | {dlq_of(t) for t in consumed}
        marker = MARKER_TOPIC.format(service=service)
        wanted = [
            *(("topic", t, "Describe") for t in ALL_TOPICS),
            ("topic", marker, "Create"),
            ("topic", marker, "Describe"),
            *(("topic", t, "Write") for t in sorted(writes)),
            *(("topic", t, "Read") for t in sorted(consumed)),
            *(("group", group, "Read") for _, group in consumers),
        ]
        for resource, name, operation in wanted:
            if not _allowed(grants, resource, name, operation):
                problems.append(
                    f"{where}: no {operation} on {resource} {name}, which the code needs"
                )
        for grant in grants:
            label = f"{where}: {sorted(grant.operations)} on {grant.resource} {grant.name} ({grant.pattern})"
            if grant.resource not in {"topic", "group"} or grant.operations & {
                "All",
                "Delete",
                "Alter",
                "AlterConfigs",
            }:
                problems.append(f"{label} is more than a service needs")
            if "Write" in grant.operations and (
                grant.pattern != "literal" or grant.name not in writes
            ):
                problems.append(f"{label}: it writes only {sorted(writes)}")
            if "Create" in grant.operations and (
                grant.pattern != "literal" or grant.name != marker
            ):
                problems.append(f"{label}: it creates only its marker {marker}")
            if (
                "Read" in grant.operations
                and grant.resource == "topic"
                and (grant.pattern != "literal" or grant.name not in consumed)
            ):
                problems.append(f"{label}: it reads only {sorted(consumed)}")
    names = _topic_names(render)
    markers = sorted(n for n in names if n.startswith(MARKER_TOPIC.split("{")[0]))
    if markers:
        problems.append(
            f"marker topics {markers} must not be KafkaTopics: a missing marker is how a relay notices a cluster that lost its data"
        )
    assert not problems, f"{target}:\n" + "\n".join(problems)


@pytest.mark.parametrize("target", OVERLAY_TARGETS)
def test_opd_users_read_public_topics_only(renders: dict[str, Render], target: str) -> None:
    render = renders[target]
    services = {f"mpp-{s}" for s in SETTINGS}
    groups = {group for s in SETTINGS for _, group in _consumers_in_code(s)}
    opd_users = [u for u in render.of("KafkaUser") if u["metadata"]["name"] not in services]
    assert opd_users, f"{target}: no OPD KafkaUser"
    problems: list[str] = []
    for user in opd_users:
        name = user["metadata"]["name"]
        grants = _grants(user)
        if not any(g.resource == "topic" for g in grants):
            problems.append(f"KafkaUser/{name}: reads no topic")
        for grant in grants:
            label = f"KafkaUser/{name}: {sorted(grant.operations)} on {grant.resource} {grant.name} ({grant.pattern})"
            if not grant.operations <= {"Read", "Describe"}:
                problems.append(f"{label}: an OPD may only read and describe")
            if grant.resource == "topic":
                if grant.pattern != "literal" or grant.name not in PUBLIC_TOPICS:
                    problems.append(
                        f"{label}: only the public topics {sorted(PUBLIC_TOPICS)}, each by its literal name"
                    )
            elif grant.resource == "group":
                if grant.pattern != "prefix" or not grant.name.startswith(f"{name}."):
                    problems.append(
                        f"{label}: consumer groups must carry the user's own prefix {name}."
                    )
                taken = sorted(g for g in groups if grant.covers("group", g))
                if taken:
                    problems.append(f"{label}: would join the services' groups {taken}")
            else:
                problems.append(f"{label}: an OPD user has topic and group ACLs only")
    assert not problems, f"{target}:\n" + "\n".join(problems)
