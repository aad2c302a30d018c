"""The JSON Schemas (draft 2020-12) of the event contract: the CloudEvents
envelope, and one schema per event type for the whole CloudEvent with its
model as `data`, each with a complete example. Output is deterministic
(fixed ids and times), so the kept files only change when a model does."""

from __future__ import annotations

import json
import uuid
from typing import Any

from mpp_shared.events.envelope import CONTENT_TYPE, CloudEvent, EventData, registered_types
from mpp_shared.events.examples import EXAMPLES, NOW
from mpp_shared.events.streams import stream_of

ENVELOPE_NAME = "cloudevent"
SCHEMA_BASE_URL = "https://mpp.kedirikab.go.id/schemas/events/"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ACRONYMS = {"sla": "SLA", "opd": "OPD"}

# Descriptions added to properties the models leave undescribed, where a
# subscriber needs to know what a field is not.
FIELD_NOTES: dict[str, str] = {
    "contact_sealed": "The citizen's contact details sealed for notify alone (public-key "
    "encryption); no other subscriber can read them. Never a clear phone number or e-mail.",
    "holder_nik_check": "Keyed hash of the holder's NIK, usable only by documents to check "
    "the collector at handover; not the NIK and not comparable with any other index.",
}

_ENVELOPE_REQUIRED = [
    "specversion",
    "id",
    "source",
    "type",
    "subject",
    "time",
    "datacontenttype",
    "data",
]


def schema_url(name: str) -> str:
    return f"{SCHEMA_BASE_URL}{name}.json"


def title_of(event_type: str) -> str:
    """`mpp.document.in_production.v1` -> `Document in production (v1)`."""
    parts = event_type.split(".")
    words = " ".join(ACRONYMS.get(w, w) for p in parts[1:-1] for w in p.split("_"))
    return f"{words[:1].upper()}{words[1:]} ({parts[-1]})"


def description_of(model: type[EventData]) -> str:
    """The model's own docstring on one line, else its title."""
    # pydantic does not inherit docstrings; the base's would describe the base.
    doc = model.__dict__.get("__doc__")
    if doc:
        return " ".join(doc.split())
    return f"{title_of(model.event_type)}."


def example_data(event_type: str) -> dict[str, Any]:
    """The example payload in its JSON form, as `build_event` puts it in `data`."""
    model = registered_types()[event_type]
    if event_type not in EXAMPLES:
        raise RuntimeError(
            f"no example for {event_type}: add one to mpp_shared.events.examples.EXAMPLES"
        )
    return model(**EXAMPLES[event_type]).model_dump(mode="json")


def example_event(event_type: str) -> dict[str, Any]:
    """A complete CloudEvent of `event_type` as published, with fixed ids."""
    model = registered_types()[event_type]
    stream = stream_of(str(model.topic))
    data = example_data(event_type)
    subject = data.get(stream.subject_field) or str(uuid.uuid5(uuid.NAMESPACE_URL, event_type))
    event = CloudEvent(
        id=uuid.uuid5(uuid.NAMESPACE_URL, schema_url(event_type)),
        source=f"/mpp/{stream.producer}",
        type=event_type,
        subject=str(subject),
        time=NOW,
        data=data,
    )
    doc: dict[str, Any] = json.loads(event.to_bytes())
    return doc


def _envelope_properties(type_schema: dict[str, Any], subject: str) -> dict[str, Any]:
    return {
        "specversion": {"const": "1.0", "description": "CloudEvents specification version."},
        "id": {
            "type": "string",
            "format": "uuid",
            "description": "Unique per event; the same id on a redelivery, so deduplicate on it.",
        },
        "source": {
            "type": "string",
            "pattern": "^/mpp/[a-z_]+$",
            "description": "The service that produced the event, e.g. `/mpp/intake`.",
        },
        "type": type_schema,
        "subject": {"type": "string", "minLength": 1, "description": f"The aggregate: {subject}."},
        "time": {
            "type": "string",
            "format": "date-time",
            "description": "When the event happened (UTC).",
        },
        "datacontenttype": {"const": "application/json"},
    }


def envelope_schema() -> dict[str, Any]:
    """The CloudEvents 1.0 envelope every event travels in, whatever its type."""
    properties = _envelope_properties(
        {
            "type": "string",
            "pattern": r"^mpp\.[a-z_]+\.[a-z_]+\.v[0-9]+$",
            "description": "The versioned event type; its schema is at "
            f"{SCHEMA_BASE_URL}<type>.json.",
        },
        "an id of the thing the event is about",
    )
    properties["data"] = {
        "type": "object",
        "description": "The event's payload, described by the schema of its `type`.",
    }
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": schema_url(ENVELOPE_NAME),
        "title": "CloudEvent",
        "description": "CloudEvents 1.0 envelope in structured JSON mode "
        f"(content type `{CONTENT_TYPE}`) around every MPP event.",
        "type": "object",
        "properties": properties,
        "required": list(_ENVELOPE_REQUIRED),
    }


def _add_field_notes(schema: dict[str, Any]) -> None:
    for name, prop in schema.get("properties", {}).items():
        if name in FIELD_NOTES and "description" not in prop:
            prop["description"] = FIELD_NOTES[name]


def event_schema(event_type: str) -> dict[str, Any]:
    """The JSON Schema of a whole CloudEvent of `event_type`, its model as `data`."""
    model = registered_types()[event_type]
    stream = stream_of(str(model.topic))
    data = model.model_json_schema(mode="serialization")
    defs = data.pop("$defs", {})
    for sub in (data, *defs.values()):
        _add_field_notes(sub)
    data["description"] = description_of(model)
    data["examples"] = [example_data(event_type)]
    properties = _envelope_properties(
        {"const": event_type, "description": "The versioned event type."}, stream.subject
    )
    properties["data"] = data
    schema: dict[str, Any] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": schema_url(event_type),
        "title": event_type,
        "description": description_of(model),
        "type": "object",
        "properties": properties,
        "required": list(_ENVELOPE_REQUIRED),
        "examples": [example_event(event_type)],
    }
    if defs:
        schema["$defs"] = defs
    return schema
