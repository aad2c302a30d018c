"""The event contract for outsiders: the AsyncAPI document and JSON Schemas kept
in the repository match the models, validate the examples, and notify serves
them as kept."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from mpp_notify.api.routes import contract as contract_routes
from mpp_shared.events import contract
from mpp_shared.events.envelope import CONTENT_TYPE, CloudEvent, build_event, registered_types
from mpp_shared.events.examples import EXAMPLES, example
from mpp_shared.events.topics import ALL_TOPICS, Topic, dlq_of
from mpp_shared.web import install_error_handlers
from mpp_shared.web.auth import PUBLIC_MARKER

TYPES = sorted(registered_types())
# Clear personal data that must never be a field of an event on a shared topic.
FORBIDDEN_FIELDS = {"nik", "phone", "phone_number", "email", "e_mail", "contact", "full_name"}


def stored_json(name: str) -> Any:
    return json.loads((contract.CONTRACT_DIR / name).read_text(encoding="utf-8"))


def schema_file(event_type: str) -> dict[str, Any]:
    doc: dict[str, Any] = stored_json(f"{contract.SCHEMAS_DIR}/{event_type}.json")
    return doc


def published(event_type: str) -> dict[str, Any]:
    """The example as a producer publishes it: built with build_event, through bytes."""
    data = example(event_type)
    event = build_event(data, source="/mpp/test", subject="0b5f8a5e-6f1c-4e55-9a43-2f8d7a1c9e01")
    doc: dict[str, Any] = json.loads(event.to_bytes())
    return doc


# --- drift --------------------------------------------------------------------


def test_files_in_the_repository_equal_a_fresh_generation() -> None:
    expected = contract.render()
    on_disk = {
        f"{contract.SCHEMAS_DIR}/{p.name}"
        for p in (contract.CONTRACT_DIR / contract.SCHEMAS_DIR).glob("*.json")
    } | {contract.ASYNCAPI_FILE}
    drifted = sorted(
        (on_disk ^ set(expected))
        | {
            name
            for name, text in expected.items()
            if name in on_disk
            and (contract.CONTRACT_DIR / name).read_text(encoding="utf-8") != text
        }
    )
    assert drifted == [], (
        f"the event contract drifted from the models in mpp_shared.events: {drifted}; "
        "run `make contract` and commit the files"
    )
    assert contract.drifted() == []


def test_generation_is_stable_and_in_the_stored_form() -> None:
    first, second = contract.render(), contract.render()
    assert first == second
    for name, text in first.items():
        assert text.endswith("}\n"), name
        assert (
            text
            == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        )


def test_check_names_drifted_changed_missing_and_stale_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert contract.main(["--dir", str(tmp_path)]) == 0
    assert contract.main(["--check", "--dir", str(tmp_path)]) == 0
    changed = tmp_path / "schemas" / "mpp.application.verified.v1.json"
    changed.write_text(changed.read_text().replace('"kk"', '"ktp_el"'))
    (tmp_path / "schemas" / "mpp.complaint.filed.v1.json").unlink()
    (tmp_path / "schemas" / "mpp.application.removed.v1.json").write_text("{}\n")
    capsys.readouterr()
    assert contract.main(["--check", "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "make contract" in err
    for name in ("verified.v1.json", "filed.v1.json", "removed.v1.json"):
        assert name in err
    assert "asyncapi.json" not in err
    # Writing repairs all three: the stale file of a removed type goes too.
    assert contract.main(["--dir", str(tmp_path)]) == 0
    assert contract.drifted(tmp_path) == []
    assert not (tmp_path / "schemas" / "mpp.application.removed.v1.json").exists()


# --- JSON Schemas ------------------------------------------------------------------


def test_every_registered_type_has_its_schema() -> None:
    assert TYPES, "no event types registered"
    for event_type in TYPES:
        schema = schema_file(event_type)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$id"] == f"https://mpp.kedirikab.go.id/schemas/events/{event_type}.json"
        assert schema["title"] == event_type
        assert schema["description"]
        assert schema["properties"]["type"]["const"] == event_type
        assert jsonschema_rs.meta.is_valid(schema), event_type


def test_schema_descriptions_come_from_the_model_docstrings() -> None:
    schema = schema_file("mpp.application.returned.v1")
    assert schema["description"] == "The verifier asks for corrections of the named items."
    assert schema["properties"]["data"]["description"] == schema["description"]
    # Without a docstring of its own, a model does not inherit its base's.
    queued = schema_file("mpp.document.queued.v1")
    assert "base" not in queued["description"]


def test_the_data_schema_is_the_models_serialization_schema() -> None:
    for event_type in TYPES:
        model = registered_types()[event_type]
        expected = model.model_json_schema(mode="serialization")
        schema = schema_file(event_type)
        data = schema["properties"]["data"]
        assert set(data["properties"]) == set(expected["properties"]), event_type
        assert data["required"] == expected.get("required", []), event_type
        assert data["additionalProperties"] is False, event_type
        assert schema.get("$defs", {}).keys() == expected.get("$defs", {}).keys(), event_type


def test_envelope_schema_covers_the_cloudevent_model() -> None:
    envelope = stored_json(f"{contract.SCHEMAS_DIR}/cloudevent.json")
    assert set(envelope["properties"]) == set(CloudEvent.model_fields)
    assert set(envelope["required"]) == set(CloudEvent.model_fields)
    for event_type in TYPES:
        assert set(schema_file(event_type)["properties"]) == set(CloudEvent.model_fields)


@pytest.mark.parametrize("event_type", TYPES)
def test_examples_validate_against_their_schema(event_type: str) -> None:
    schema = schema_file(event_type)
    validator = jsonschema_rs.validator_for(schema, validate_formats=True)
    assert event_type in EXAMPLES
    # The stored examples, and the example as a producer would publish it.
    for sample in [*schema["examples"], published(event_type)]:
        errors = [e.message for e in validator.iter_errors(sample)]
        assert errors == [], f"{event_type}: {errors}"
    data_validator = jsonschema_rs.validator_for(
        {**schema["properties"]["data"], "$defs": schema.get("$defs", {})}, validate_formats=True
    )
    assert data_validator.is_valid(example(event_type).model_dump(mode="json"))
    envelope = jsonschema_rs.validator_for(stored_json("schemas/cloudevent.json"))
    assert envelope.is_valid(published(event_type))


@pytest.mark.parametrize("event_type", TYPES)
def test_a_schema_rejects_a_clear_nik(event_type: str) -> None:
    validator = jsonschema_rs.validator_for(schema_file(event_type))
    event = published(event_type)
    event["data"]["nik"] = "3506012345678901"
    assert not validator.is_valid(event)
    errors = " ".join(e.message for e in validator.iter_errors(event))
    assert "nik" in errors


def test_a_schema_rejects_the_wrong_type_and_a_missing_field() -> None:
    validator = jsonschema_rs.validator_for(schema_file("mpp.application.verified.v1"))
    event = published("mpp.application.verified.v1")
    assert validator.is_valid(event)
    assert not validator.is_valid({**event, "type": "mpp.application.rejected.v1"})
    without = copy.deepcopy(event)
    del without["data"]["verified_by"]
    assert not validator.is_valid(without)
    assert not validator.is_valid({k: v for k, v in event.items() if k != "subject"})


def _property_names(node: Any) -> set[str]:
    names: set[str] = set()
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict):
            names |= set(props)
        for value in node.values():
            names |= _property_names(value)
    elif isinstance(node, list):
        for value in node:
            names |= _property_names(value)
    return names


def test_no_schema_declares_clear_personal_data() -> None:
    for event_type in TYPES:
        data = schema_file(event_type)["properties"]["data"]
        assert not _property_names(data) & FORBIDDEN_FIELDS, event_type
    sealed = schema_file("mpp.application.submitted.v1")["properties"]["data"]["properties"]
    assert "notify alone" in sealed["contact_sealed"]["description"]


# --- AsyncAPI -----------------------------------------------------------------


def test_asyncapi_document_shape() -> None:
    doc = stored_json(contract.ASYNCAPI_FILE)
    assert doc["asyncapi"] == "3.0.0"
    assert doc["defaultContentType"] == CONTENT_TYPE
    description = doc["info"]["description"]
    for needle in (
        "contact_sealed",
        "notify alone",
        "NIK",
        "/v1/subscriptions",
        "X-MPP-Timestamp",
        "X-MPP-Signature",
        'v1=<hex HMAC-SHA256(secret, f"{timestamp}.{raw body}")>',
        "X-MPP-Event-Id",
        "X-MPP-Event-Type",
        "X-MPP-Delivery-Id",
        "traceparent",
    ):
        assert needle in description, needle
    servers = doc["servers"]
    assert {s["protocol"] for s in servers.values()} == {"kafka"}
    assert servers["development"]["host"] == "localhost:9092"
    assert "production" in servers


def test_every_topic_has_a_channel_and_a_receive_operation() -> None:
    doc = stored_json(contract.ASYNCAPI_FILE)
    assert set(ALL_TOPICS) <= set(doc["channels"])
    for topic in ALL_TOPICS:
        channel = doc["channels"][topic]
        assert channel["address"] == topic
        operation = doc["operations"][f"receive.{topic}"]
        assert operation["action"] == "receive"
        assert operation["channel"] == {"$ref": f"#/channels/{topic}"}
        assert len(operation["messages"]) == len(channel["messages"])
        for ref in operation["messages"]:
            assert resolve(doc, ref["$ref"]) is not None


def resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_every_reference_in_the_document_resolves() -> None:
    doc = stored_json(contract.ASYNCAPI_FILE)
    refs = _refs(doc)
    assert refs
    for ref in refs:
        assert resolve(doc, ref) is not None, ref


def test_every_registered_type_is_a_message_on_its_topic_and_its_dlq() -> None:
    doc = stored_json(contract.ASYNCAPI_FILE)
    messages = doc["components"]["messages"]
    assert set(messages) == set(TYPES)
    for event_type in TYPES:
        model = registered_types()[event_type]
        message = messages[event_type]
        assert message["name"] == event_type
        assert message["title"]
        assert message["contentType"] == CONTENT_TYPE
        assert message["payload"] == {"$ref": f"#/components/schemas/{event_type}"}
        assert message["headers"] == {"$ref": "#/components/schemas/MessageHeaders"}
        assert message["bindings"]["kafka"]["key"]["type"] == "string"
        tags = {t["name"] for t in message["tags"]}
        assert (contract.CITIZEN_FACING_TAG in tags) is model.citizen_facing
        topic = str(model.topic)
        assert doc["channels"][topic]["messages"][event_type] == {
            "$ref": f"#/components/messages/{event_type}"
        }
        dead = doc["channels"][dlq_of(topic)]["messages"][event_type]
        assert dead["payload"] == message["payload"]
        assert dead["headers"] == {"$ref": "#/components/schemas/DeadLetterHeaders"}


def test_asyncapi_payload_schemas_validate_the_examples() -> None:
    """The payloads in components.schemas are the same schemas, refs made document-local."""
    doc = stored_json(contract.ASYNCAPI_FILE)
    for event_type in TYPES:
        root = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$ref": f"#/components/schemas/{event_type}",
            "components": doc["components"],
        }
        validator = jsonschema_rs.validator_for(root)
        (sample,) = doc["components"]["messages"][event_type]["examples"]
        assert validator.is_valid(sample["payload"]), event_type
        assert validator.is_valid(published(event_type)), event_type
        nik = published(event_type)
        nik["data"]["nik"] = "3506012345678901"
        assert not validator.is_valid(nik), event_type


def test_message_headers_describe_what_the_relay_and_the_dlq_write() -> None:
    doc = stored_json(contract.ASYNCAPI_FILE)
    schemas = doc["components"]["schemas"]
    headers = schemas["MessageHeaders"]["properties"]
    assert {"content-type", "traceparent", "tracestate"} <= set(headers)
    assert headers["content-type"]["const"] == CONTENT_TYPE
    dead = schemas["DeadLetterHeaders"]["required"]
    consumer_source = (
        Path(contract.__file__).parent.parent / "messaging" / "consumer.py"
    ).read_text()
    for name in dead:
        assert f'"{name}"' in consumer_source, name


def test_topics_of_the_models_are_known_topics() -> None:
    for event_type in TYPES:
        assert str(registered_types()[event_type].topic) in {t.value for t in Topic}


# --- served over HTTP ---------------------------------------------------------


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(contract_routes.router)
    return TestClient(app)


def test_routes_are_public() -> None:
    for route in contract_routes.router.routes:
        assert PUBLIC_MARKER in [d.call for d in route.dependant.dependencies], route  # type: ignore[attr-defined]


def test_serves_the_asyncapi_document_as_kept(client: TestClient) -> None:
    answer = client.get("/v1/contract/asyncapi.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.content == (contract.CONTRACT_DIR / contract.ASYNCAPI_FILE).read_bytes()
    etag = answer.headers["etag"]
    again = client.get("/v1/contract/asyncapi.json", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""


def test_serves_each_schema_as_kept(client: TestClient) -> None:
    for name in [*TYPES, "cloudevent"]:
        answer = client.get(f"/v1/contract/schemas/{name}.json")
        assert answer.status_code == 200, name
        assert answer.headers["content-type"].startswith("application/schema+json")
        kept = contract.CONTRACT_DIR / contract.SCHEMAS_DIR / f"{name}.json"
        assert answer.content == kept.read_bytes(), name


def test_lists_every_event_type_with_topic_and_schema_url(client: TestClient) -> None:
    answer = client.get("/v1/contract/schemas")
    assert answer.status_code == 200
    body = answer.json()
    assert body["count"] == len(TYPES)
    assert [item["event_type"] for item in body["items"]] == TYPES
    for item in body["items"]:
        model = registered_types()[item["event_type"]]
        assert item["topic"] == str(model.topic)
        assert item["dead_letter_topic"] == dlq_of(str(model.topic))
        assert item["citizen_facing"] is model.citizen_facing
        assert item["schema_url"].endswith(f"/v1/contract/schemas/{item['event_type']}.json")
        followed = client.get(item["schema_url"])
        assert followed.status_code == 200
        assert followed.json()["title"] == item["event_type"]
    assert client.get(body["asyncapi_url"]).json()["asyncapi"] == "3.0.0"
    assert client.get(body["envelope_schema_url"]).json()["title"] == "CloudEvent"


def test_unknown_event_type_is_a_localized_404(client: TestClient) -> None:
    answer = client.get("/v1/contract/schemas/mpp.application.teleported.v1.json")
    assert answer.status_code == 404
    body = answer.json()
    assert body["code"] == "unknown_event_type"
    assert "tidak dikenal" in body["detail"]
    assert "mpp.application.teleported.v1" in body["detail"]
    english = client.get(
        "/v1/contract/schemas/mpp.application.teleported.v1.json",
        headers={"Accept-Language": "en"},
    )
    assert english.status_code == 404
    assert english.json()["detail"].startswith("Unknown event type")
    assert client.get("/v1/contract/schemas/..%2Fasyncapi.json").status_code == 404
