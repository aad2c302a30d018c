"""Event contracts: CloudEvents envelope, versioned data schemas and topic registry."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from pydantic import ValidationError

from mpp_shared.events import (
    ALL_TOPICS,
    CloudEvent,
    EventData,
    Topic,
    build_event,
    dlq_of,
    parse_event,
    schemas,
)
from mpp_shared.events.envelope import CONTENT_TYPE, registered_types
from mpp_shared.events.examples import APP_ID, JOB_ID, MISSING_KK, MISSING_MARRIAGE, NOW
from mpp_shared.events.examples import EXAMPLES as SAMPLES

FORBIDDEN_FIELDS = {"nik", "phone", "email", "full_name", "name"}


def sample(event_type: str) -> EventData:
    return registered_types()[event_type](**SAMPLES[event_type])


# --- envelope -----------------------------------------------------------------


def test_build_event_fills_the_envelope() -> None:
    data = sample("mpp.application.submitted.v1")
    event = build_event(data, source="/mpp/intake", subject=str(APP_ID))
    assert event.specversion == "1.0"
    assert event.type == "mpp.application.submitted.v1"
    assert event.source == "/mpp/intake"
    assert event.subject == str(APP_ID)
    assert event.datacontenttype == "application/json"
    assert isinstance(event.id, uuid.UUID)
    assert event.time.tzinfo is not None
    # data is the JSON form of the model (UUIDs and datetimes as strings)
    assert event.data["application_id"] == str(APP_ID)
    assert event.data["submitted_at"] == NOW.isoformat().replace("+00:00", "Z")
    assert CONTENT_TYPE == "application/cloudevents+json"


def test_each_event_gets_its_own_id() -> None:
    data = sample("mpp.application.verified.v1")
    ids = {build_event(data, source="/s", subject="x").id for _ in range(20)}
    assert len(ids) == 20


def test_round_trip_through_bytes() -> None:
    data = sample("mpp.document.picked_up.v1")
    event = build_event(data, source="/mpp/documents", subject=str(JOB_ID))
    raw = event.to_bytes()
    assert json.loads(raw)["specversion"] == "1.0"

    parsed = parse_event(raw)
    assert parsed.type == event.type == "mpp.document.picked_up.v1"
    assert parsed.source == "/mpp/documents"
    assert parsed.subject == str(JOB_ID)
    assert parsed.id == event.id
    assert parsed.time == event.time
    assert parsed.datacontenttype == "application/json"
    assert parsed.specversion == "1.0"
    assert parsed.data == event.data


@pytest.mark.parametrize("event_type", sorted(SAMPLES))
def test_typed_data_returns_the_registered_model(event_type: str) -> None:
    data = sample(event_type)
    parsed = parse_event(build_event(data, source="/s", subject="x").to_bytes())
    typed = parsed.typed_data()
    assert type(typed) is registered_types()[event_type]
    assert typed == data


def test_typed_data_of_unknown_type_raises_key_error() -> None:
    event = CloudEvent(source="/s", type="mpp.unknown.thing.v1", subject="x", data={})
    with pytest.raises(KeyError):
        event.typed_data()


def test_extension_attributes_survive_the_round_trip() -> None:
    event = build_event(sample("mpp.application.verified.v1"), source="/s", subject="x")
    doc = json.loads(event.to_bytes())
    doc["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    parsed = parse_event(json.dumps(doc).encode())
    assert parsed.model_extra == {"traceparent": doc["traceparent"]}


@pytest.mark.parametrize(
    "raw", [b"", b"not json", b'{"specversion": ', b"\xff\xfe\xfa", b"\x80abc"]
)
def test_parse_event_rejects_non_json(raw: bytes) -> None:
    with pytest.raises(ValueError):
        parse_event(raw)


def _valid_doc() -> dict[str, Any]:
    event = build_event(sample("mpp.application.verified.v1"), source="/s", subject="x")
    doc: dict[str, Any] = json.loads(event.to_bytes())
    return doc


@pytest.mark.parametrize("version", ["0.3", "1.1", "2.0", ""])
def test_parse_event_rejects_other_specversions(version: str) -> None:
    doc = _valid_doc()
    doc["specversion"] = version
    with pytest.raises(ValueError, match="specversion"):
        parse_event(json.dumps(doc).encode())


@pytest.mark.parametrize("missing", ["source", "type", "subject", "data"])
def test_parse_event_rejects_missing_required_attributes(missing: str) -> None:
    doc = _valid_doc()
    del doc[missing]
    with pytest.raises(ValidationError) as info:
        parse_event(json.dumps(doc).encode())
    assert any(e["loc"] == (missing,) and e["type"] == "missing" for e in info.value.errors())
    # ValidationError is a ValueError, as parse_event's contract says
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("raw", [b"[1, 2]", b"null", b"42", b'"event"'])
def test_parse_event_rejects_json_that_is_not_an_object(raw: bytes) -> None:
    with pytest.raises(ValueError):
        parse_event(raw)


def test_parse_event_rejects_bad_id_and_data_shapes() -> None:
    doc = _valid_doc()
    doc["id"] = "not-a-uuid"
    with pytest.raises(ValidationError):
        parse_event(json.dumps(doc).encode())
    doc = _valid_doc()
    doc["data"] = ["a", "list"]
    with pytest.raises(ValidationError):
        parse_event(json.dumps(doc).encode())


def test_typed_data_validates_the_payload() -> None:
    doc = _valid_doc()
    del doc["data"]["verified_by"]
    parsed = parse_event(json.dumps(doc).encode())  # the envelope itself is fine
    with pytest.raises(ValidationError):
        parsed.typed_data()


# --- schemas ------------------------------------------------------------------


def test_every_type_has_a_sample() -> None:
    assert set(registered_types()) == set(SAMPLES)


def test_registry_holds_the_expected_types() -> None:
    types = registered_types()
    assert "mpp.application.submitted.v1" in types
    assert types["mpp.application.submitted.v1"] is schemas.ApplicationSubmittedV1
    # the shared base of document events is not itself a published type
    assert schemas.DocumentJobEvent not in types.values()
    # registered_types() hands out a copy, not the registry itself
    types.pop("mpp.application.submitted.v1")
    assert "mpp.application.submitted.v1" in registered_types()


def test_registering_a_type_twice_is_refused() -> None:
    with pytest.raises(RuntimeError, match="registered twice"):

        class Duplicate(EventData):  # pragma: no cover - the class statement raises
            event_type = "mpp.application.submitted.v1"
            topic = Topic.APPLICATIONS


@pytest.mark.parametrize("event_type", sorted(SAMPLES))
def test_type_is_versioned_and_on_a_known_topic(event_type: str) -> None:
    model = registered_types()[event_type]
    assert re.fullmatch(r"mpp\.[a-z_]+\.[a-z_]+\.v[1-9][0-9]*", event_type), event_type
    assert model.event_type == event_type
    assert model.topic in set(Topic)
    assert model.topic in ALL_TOPICS
    assert not model.topic.endswith(".dlq")


@pytest.mark.parametrize("event_type", sorted(SAMPLES))
def test_no_clear_personal_data_in_schemas(event_type: str) -> None:
    fields = set(registered_types()[event_type].model_fields)
    assert not fields & FORBIDDEN_FIELDS
    # Service names are not personal data; holder_nik_check is a keyed hash made
    # for the handover check only (HMAC with a key no subscriber outside has).
    for field in fields - {"service_name_id", "service_name_en", "holder_nik_check"}:
        if any(word in field for word in ("nik", "phone", "email", "name", "contact")):
            assert field.endswith(("_masked", "_sealed")), field


@pytest.mark.parametrize("event_type", sorted(SAMPLES))
def test_extra_fields_are_forbidden(event_type: str) -> None:
    model = registered_types()[event_type]
    assert model.model_config.get("extra") == "forbid"
    with pytest.raises(ValidationError) as info:
        model(**SAMPLES[event_type], nik="3506042602660001")  # type: ignore[call-arg]  # refused extra
    assert [e["type"] for e in info.value.errors()] == ["extra_forbidden"]


def test_event_data_is_frozen() -> None:
    data = sample("mpp.application.verified.v1")
    with pytest.raises(ValidationError):
        data.tracking_code = "ZZZZZZZZZZ"  # type: ignore[attr-defined]  # typed as the base


def test_submitted_schema_refuses_unknown_language_and_channel() -> None:
    base = SAMPLES["mpp.application.submitted.v1"]
    with pytest.raises(ValidationError):
        schemas.ApplicationSubmittedV1(**{**base, "language": "fr"})
    with pytest.raises(ValidationError):
        schemas.ApplicationSubmittedV1(**{**base, "preferred_channel": "pigeon"})


def test_citizen_facing_flags() -> None:
    facing = {t for t, m in registered_types().items() if m.citizen_facing}
    assert facing == {
        "mpp.application.submitted.v1",
        "mpp.application.incomplete.v1",
        "mpp.application.completed.v1",
        "mpp.application.returned.v1",
        "mpp.application.resubmitted.v1",
        "mpp.application.verified.v1",
        "mpp.application.rejected.v1",
        "mpp.document.ready_for_pickup.v1",
        "mpp.document.picked_up.v1",
        "mpp.document.on_hold.v1",
        "mpp.document.cancelled.v1",
        "mpp.document.pickup_reminder.v1",
        "mpp.document.uncollected.v1",
        "mpp.sla.breached.v1",
        "mpp.complaint.deadline_extended.v1",
        "mpp.complaint.filed.v1",
        "mpp.complaint.rejected.v1",
        "mpp.complaint.responded.v1",
        "mpp.complaint.closed.v1",
    }


def test_events_of_the_previous_shape_still_parse() -> None:
    """Events published before the catalog (no catalog version, no promise, no
    reason codes) are still in the topics and must be readable."""
    old_submitted = {
        k: v
        for k, v in SAMPLES["mpp.application.submitted.v1"].items()
        if k not in ("catalog_version", "expected_ready_at")
    }
    submitted = schemas.ApplicationSubmittedV1(**old_submitted)
    assert submitted.catalog_version == 1
    assert submitted.expected_ready_at is None
    old_verified = dict(SAMPLES["mpp.application.verified.v1"])
    del old_verified["expected_ready_at"]
    assert schemas.ApplicationVerifiedV1(**old_verified).expected_ready_at is None
    old_rejected = dict(SAMPLES["mpp.application.rejected.v1"])
    del old_rejected["reason_codes"]
    assert schemas.ApplicationRejectedV1(**old_rejected).reason_codes == []


def test_missing_items_round_trip_as_models() -> None:
    data = sample("mpp.application.incomplete.v1")
    assert isinstance(data, schemas.ApplicationIncompleteV1)
    assert all(isinstance(item, schemas.MissingItem) for item in data.missing)
    assert [item.code for item in data.missing] == ["kk", "buku_nikah"]
    assert data.missing[0].note is None
    event = build_event(data, source="/mpp/intake", subject=str(APP_ID))
    assert event.data["missing"][1] == {**MISSING_MARRIAGE, "note": None}
    typed = parse_event(event.to_bytes()).typed_data()
    assert isinstance(typed, schemas.ApplicationIncompleteV1)
    assert typed.missing == data.missing

    returned = sample("mpp.application.returned.v1")
    assert isinstance(returned, schemas.ApplicationReturnedV1)
    assert returned.items[0].note == "fotokopi tidak terbaca"


def test_missing_item_is_strict_and_frozen() -> None:
    item = schemas.MissingItem(**MISSING_KK)
    with pytest.raises(ValidationError):
        item.code = "ktp_el"  # type: ignore[misc]
    with pytest.raises(ValidationError) as info:
        schemas.MissingItem(**MISSING_KK, nik="3506042602660001")  # type: ignore[call-arg]  # refused extra
    assert [e["type"] for e in info.value.errors()] == ["extra_forbidden"]
    with pytest.raises(ValidationError) as info:
        schemas.MissingItem(code="kk", name_id="Kartu Keluarga")  # type: ignore[call-arg]  # refused omission
    assert [(e["loc"], e["type"]) for e in info.value.errors()] == [(("name_en",), "missing")]


@pytest.mark.parametrize(
    ("event_type", "required"),
    [
        ("mpp.application.incomplete.v1", "missing"),
        ("mpp.application.incomplete.v1", "catalog_version"),
        ("mpp.application.returned.v1", "items"),
        ("mpp.application.completed.v1", "completed_at"),
        ("mpp.application.resubmitted.v1", "resubmitted_at"),
    ],
)
def test_new_application_events_require_their_fields(event_type: str, required: str) -> None:
    payload = dict(SAMPLES[event_type])
    del payload[required]
    with pytest.raises(ValidationError) as info:
        registered_types()[event_type](**payload)
    assert [(e["loc"], e["type"]) for e in info.value.errors()] == [((required,), "missing")]


def test_application_events_share_the_applications_topic() -> None:
    application_types = [t for t in registered_types() if t.startswith("mpp.application.")]
    assert len(application_types) == 7
    assert {registered_types()[t].topic for t in application_types} == {Topic.APPLICATIONS}


# --- topics -------------------------------------------------------------------


@pytest.mark.parametrize("topic", list(Topic))
def test_each_topic_has_a_dlq_twin(topic: Topic) -> None:
    assert topic.value in ALL_TOPICS
    assert dlq_of(topic.value) == f"{topic.value}.dlq"
    assert f"{topic.value}.dlq" in ALL_TOPICS


def test_all_topics_is_exactly_topics_and_their_dlqs() -> None:
    assert len(ALL_TOPICS) == len(set(ALL_TOPICS)) == 2 * len(Topic)
    assert {t for t in ALL_TOPICS if not t.endswith(".dlq")} == {t.value for t in Topic}
    assert all(t.removesuffix(".dlq") in {x.value for x in Topic} for t in ALL_TOPICS)
