"""The event contract for outsiders: an AsyncAPI 3.0 document and one JSON
Schema (draft 2020-12) per event type, generated from the registered models.

The generated files live next to this module in `contract/` and ship in the
wheel; notify serves them as they are kept. A unit test regenerates them in
memory and fails when they drifted from the models.

    python -m mpp_shared.events.contract           # (re)write the files
    python -m mpp_shared.events.contract --check   # exit 1 if they drifted
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import uuid
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from mpp_shared.events.envelope import CONTENT_TYPE, CloudEvent, EventData, registered_types
from mpp_shared.events.examples import EXAMPLES, NOW
from mpp_shared.events.topics import Topic, dlq_of

CONTRACT_DIR = Path(__file__).with_name("contract")
ASYNCAPI_FILE = "asyncapi.json"
SCHEMAS_DIR = "schemas"
ENVELOPE_NAME = "cloudevent"
SCHEMA_BASE_URL = "https://mpp.kedirikab.go.id/schemas/events/"
CONTRACT_VERSION = "1.0.0"  # of the document; each event's version is in its type
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
CITIZEN_FACING_TAG = "citizen-facing"
ACRONYMS = {"sla": "SLA", "opd": "OPD"}
KAFKA_BINDING_VERSION = "0.5.0"
# The W3C Trace Context specification's own example.
EXAMPLE_TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@dataclass(frozen=True)
class Stream:
    """What a topic carries, who writes it and how its messages are keyed."""

    producer: str
    summary: str
    subject_field: str
    subject: str
    key: str


STREAMS: dict[str, Stream] = {
    Topic.APPLICATIONS: Stream(
        producer="intake",
        summary="Applications taken at the MPP and kecamatan / desa counters, and their "
        "verification.",
        subject_field="application_id",
        subject="the application id",
        key="the application id, so one request's events stay in order",
    ),
    Topic.DOCUMENTS: Stream(
        producer="documents",
        summary="Production jobs of the requested documents, up to the handover at the "
        "pickup point.",
        subject_field="job_id",
        subject="the production job id",
        key="the application id the job belongs to, so one request's events stay in order",
    ),
    Topic.SLA: Stream(
        producer="documents",
        summary="SLA clocks: a warning when most of the time is used, a breach when the due "
        "moment passed with the work still open.",
        subject_field="subject_id",
        subject="the id of the timed work (`subject_id`: the job)",
        key="the id of the timed work (`subject_id`)",
    ),
    Topic.COMPLAINTS: Stream(
        producer="complaints",
        summary="Complaints (pengaduan): filing, verification, assignment to an OPD, response, "
        "closing, reopening and escalation.",
        subject_field="complaint_id",
        subject="the complaint id",
        key="the complaint id, so one complaint's events stay in order",
    ),
    Topic.NOTIFICATIONS: Stream(
        producer="notify",
        summary="What notify sent to citizens and officers, with masked recipients only.",
        subject_field="notification_id",
        subject="the notification id",
        key="the application or complaint id the message was about",
    ),
}

# Descriptions added to properties the models leave undescribed, where a
# subscriber needs to know what a field is not.
FIELD_NOTES: dict[str, str] = {
    "contact_sealed": "The citizen's contact details sealed for notify alone (public-key "
    "encryption); no other subscriber can read them. Never a clear phone number or e-mail.",
    "holder_nik_check": "Keyed hash of the holder's NIK, usable only by documents to check "
    "the collector at handover; not the NIK and not comparable with any other index.",
}

PRIVACY = (
    "**Privacy.** No event on a shared topic carries a clear NIK, phone number or e-mail "
    "address: events carry ids, masked values (`*_masked`) and what a subscriber needs. "
    "Contact details travel only as `contact_sealed`, sealed with notify's public key and "
    "readable by notify alone."
)

WEBHOOKS = """\
## Signed webhooks (alternative to Kafka)

An OPD system that cannot read Kafka subscribes with its `opd_system` token at
notify's `POST /v1/subscriptions`, naming the event types it wants and the
URL to call. notify then `POST`s each matching event to that URL: the body
is the same CloudEvent as on Kafka (structured mode,
`Content-Type: application/cloudevents+json`), with these headers:

- `X-MPP-Event-Id`: the CloudEvent `id`; the same event can arrive more than
  once (at-least-once delivery, retries), so deduplicate on it;
- `X-MPP-Event-Type`: the CloudEvent `type`;
- `X-MPP-Delivery-Id`: this delivery (one per subscription and event, or per
  replay);
- `X-MPP-Timestamp`: when the request was signed, in Unix seconds;
- `X-MPP-Signature`: `v1=<hex HMAC-SHA256(secret, f"{timestamp}.{raw body}")>`,
  keyed with the subscription's secret, over the timestamp, a dot and the
  body bytes exactly as received.

To check a delivery: recompute the HMAC over the raw body (before any JSON
parsing), compare it in constant time with the `v1=` value, and refuse
timestamps too far from your clock (e.g. more than 5 minutes) to stop replays.
Answer with any 2xx status to acknowledge; anything else, or no answer in
time, is retried with growing pauses; a subscription that keeps failing is
disabled.
"""


# --- generation ---------------------------------------------------------------


def stream_of(topic: str) -> Stream:
    """The stream description of `topic`; a topic added without one still gets a plain entry."""
    return STREAMS.get(
        topic,
        Stream(
            producer="mpp",
            summary=f"Events of {topic}.",
            subject_field="",
            subject="the aggregate id",
            key="the aggregate id, so one aggregate's events stay in order",
        ),
    )


def schema_url(name: str) -> str:
    return f"{SCHEMA_BASE_URL}{name}.json"


def _title(event_type: str) -> str:
    """`mpp.document.in_production.v1` -> `Document in production (v1)`."""
    parts = event_type.split(".")
    words = " ".join(ACRONYMS.get(w, w) for p in parts[1:-1] for w in p.split("_"))
    return f"{words[:1].upper()}{words[1:]} ({parts[-1]})"


def _description(model: type[EventData]) -> str:
    # pydantic does not inherit docstrings; the base's would describe the base.
    doc = model.__dict__.get("__doc__")
    if doc:
        return " ".join(doc.split())
    return f"{_title(model.event_type)}."


def _example_data(event_type: str) -> dict[str, Any]:
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
    data = _example_data(event_type)
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
    data["description"] = _description(model)
    data["examples"] = [_example_data(event_type)]
    properties = _envelope_properties(
        {"const": event_type, "description": "The versioned event type."}, stream.subject
    )
    properties["data"] = data
    schema: dict[str, Any] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": schema_url(event_type),
        "title": event_type,
        "description": _description(model),
        "type": "object",
        "properties": properties,
        "required": list(_ENVELOPE_REQUIRED),
        "examples": [example_event(event_type)],
    }
    if defs:
        schema["$defs"] = defs
    return schema


def _rewrite_refs(node: Any, prefix: str) -> Any:
    if isinstance(node, dict):
        return {
            k: (
                prefix + v.removeprefix("#/$defs/")
                if k == "$ref" and isinstance(v, str) and v.startswith("#/$defs/")
                else _rewrite_refs(v, prefix)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(v, prefix) for v in node]
    return node


def _put(components: dict[str, Any], name: str, schema: dict[str, Any]) -> None:
    if name in components and components[name] != schema:
        raise RuntimeError(f"two different schemas are both named {name}")
    components[name] = schema


def _headers_schemas() -> dict[str, Any]:
    headers = {
        "type": "object",
        "description": "Kafka record headers (UTF-8 values).",
        "properties": {
            "content-type": {"type": "string", "const": CONTENT_TYPE},
            "traceparent": {
                "type": "string",
                "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
                "description": "W3C Trace Context of the publish; continue the trace from it.",
            },
            "tracestate": {"type": "string", "description": "W3C Trace Context vendor state."},
        },
        "required": ["content-type"],
    }
    dead_letter = {
        "type": "object",
        "description": "The original record's headers plus why and where it was parked.",
        "allOf": [{"$ref": "#/components/schemas/MessageHeaders"}],
        "properties": {
            "mpp-error": {"type": "string", "description": "The error, at most 2000 characters."},
            "mpp-original-topic": {"type": "string"},
            "mpp-original-partition": {"type": "string", "pattern": "^[0-9]+$"},
            "mpp-original-offset": {"type": "string", "pattern": "^[0-9]+$"},
            "mpp-consumer": {"type": "string", "description": "The consumer group that gave up."},
        },
        "required": [
            "mpp-error",
            "mpp-original-topic",
            "mpp-original-partition",
            "mpp-original-offset",
            "mpp-consumer",
        ],
    }
    return {"MessageHeaders": headers, "DeadLetterHeaders": dead_letter}


def _message(event_type: str, model: type[EventData], components: dict[str, Any]) -> dict[str, Any]:
    topic = str(model.topic)
    stream = stream_of(topic)
    schema = event_schema(event_type)
    for name, sub in schema.pop("$defs", {}).items():
        _put(components, name, _rewrite_refs(sub, "#/components/schemas/"))
    schema.pop("$schema")
    schema.pop("$id")
    _put(components, event_type, _rewrite_refs(schema, "#/components/schemas/"))
    description = _description(model)
    details = (
        f"{description}\n\nPublished by `{stream.producer}` on `{topic}`. "
        f"CloudEvents `subject`: {stream.subject}. Kafka key: {stream.key}. "
        f"JSON Schema: {schema_url(event_type)}"
    )
    if model.citizen_facing:
        details += "\n\nCitizen-facing: notify tells the citizen about it."
    tags = [{"name": f"producer:{stream.producer}"}]
    if model.citizen_facing:
        tags.append({"name": CITIZEN_FACING_TAG})
    return {
        "name": event_type,
        "title": _title(event_type),
        "summary": description,
        "description": details,
        "contentType": CONTENT_TYPE,
        "headers": {"$ref": "#/components/schemas/MessageHeaders"},
        "payload": {"$ref": f"#/components/schemas/{event_type}"},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "format": "uuid", "description": stream.key},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
        "tags": tags,
        "examples": [
            {
                "name": "example",
                "headers": {"content-type": CONTENT_TYPE, "traceparent": EXAMPLE_TRACEPARENT},
                "payload": example_event(event_type),
            }
        ],
    }


def _info_description() -> str:
    return f"""\
Events of the district service mall (Mal Pelayanan Publik) backend, for other
OPD systems (Dukcapil, DPMPTSP, the Ombudsman's or LAPOR! liaison, dashboards).

**Envelope.** Every event is a CloudEvents 1.0 event in structured JSON mode
(`{CONTENT_TYPE}`): `specversion`, `id` (UUID), `source` (the producing
service, e.g. `/mpp/intake`), `type` (versioned, e.g.
`mpp.application.verified.v1`), `subject` (the aggregate id), `time`,
`datacontenttype` and `data`. The schema of every `data` is versioned in the
type name: a breaking change is a new type version, published side by side
with the old one.

**Kafka.** One topic per stream, each with a `.dlq` twin. Records are keyed by
the aggregate id, so one request's (or complaint's) events stay in order within
a partition. Headers carry `content-type` and the W3C `traceparent` /
`tracestate` of the publish. Delivery is at least once: deduplicate on the
CloudEvent `id`.

**Dead-letter topics.** `<topic>.dlq` holds records a consumer could not
handle after bounded retries, parked as received (body, key and headers) with
the error in `mpp-*` headers, for inspection and replay. Do not treat them as
new facts.

{PRIVACY}

**Schemas.** One JSON Schema (draft 2020-12) per event type, for the whole
CloudEvent with its `data`, at `{SCHEMA_BASE_URL}<type>.json`; notify serves
this document at `/v1/contract/asyncapi.json` and the schemas at
`/v1/contract/schemas/<type>.json` (list at `/v1/contract/schemas`).

{WEBHOOKS}"""


def _topics() -> list[str]:
    found = {t.value for t in Topic} | {str(m.topic) for m in registered_types().values()}
    return sorted(found)


def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document of every topic, its `.dlq` twin and every event type."""
    types = registered_types()
    components: dict[str, Any] = dict(_headers_schemas())
    messages = {t: _message(t, types[t], components) for t in sorted(types)}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic in _topics():
        stream = stream_of(topic)
        on_topic = sorted(t for t, m in types.items() if str(m.topic) == topic)
        dlq = dlq_of(topic)
        channels[topic] = {
            "address": topic,
            "title": topic,
            "description": f"{stream.summary} Written by `{stream.producer}`; key: {stream.key}.",
            "messages": {t: {"$ref": f"#/components/messages/{t}"} for t in on_topic},
        }
        channels[dlq] = {
            "address": dlq,
            "title": dlq,
            "description": f"Dead-letter twin of `{topic}`: its records that a consumer could "
            "not handle after bounded retries, as received (same body, key and headers, which "
            "may also be a malformed record), plus `mpp-error`, `mpp-original-topic`, "
            "`mpp-original-partition`, `mpp-original-offset` and `mpp-consumer` headers. "
            "Kept for inspection and replay.",
            "messages": {
                t: {
                    **{k: v for k, v in messages[t].items() if k not in ("examples", "tags")},
                    "title": f"{messages[t]['title']}, dead-lettered",
                    "headers": {"$ref": "#/components/schemas/DeadLetterHeaders"},
                }
                for t in on_topic
            },
        }
        for channel, what in ((topic, "events"), (dlq, "dead-lettered records")):
            operations[f"receive.{channel}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{channel}"},
                "title": f"Receive {channel}",
                "summary": f"Subscribe to the {what} of `{topic}`.",
                "messages": [{"$ref": f"#/channels/{channel}/messages/{t}"} for t in on_topic],
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "MPP events",
            "version": CONTRACT_VERSION,
            "description": _info_description(),
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "production": {
                "host": "kafka.mpp.kedirikab.go.id:9092",
                "protocol": "kafka",
                "description": "Placeholder: the production Apache Kafka cluster (KRaft, 3 "
                "brokers); ask the MPP operators for the bootstrap servers and access.",
            },
            "development": {
                "host": "localhost:9092",
                "protocol": "kafka",
                "description": "The embedded development broker (Tansu, memory only) that "
                "`make run` starts; it forgets everything on restart.",
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {"schemas": components, "messages": messages},
    }


def dumps(doc: dict[str, Any]) -> str:
    """The stored form: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render() -> dict[str, str]:
    """Every contract file by its path relative to the contract directory."""
    files = {ASYNCAPI_FILE: dumps(asyncapi_document())}
    files[f"{SCHEMAS_DIR}/{ENVELOPE_NAME}.json"] = dumps(envelope_schema())
    for event_type in sorted(registered_types()):
        files[f"{SCHEMAS_DIR}/{event_type}.json"] = dumps(event_schema(event_type))
    return files


def _on_disk(directory: Path) -> set[str]:
    found = {ASYNCAPI_FILE} if (directory / ASYNCAPI_FILE).exists() else set()
    schemas = directory / SCHEMAS_DIR
    if schemas.is_dir():
        found |= {f"{SCHEMAS_DIR}/{p.name}" for p in schemas.glob("*.json")}
    return found


def drifted(directory: Path = CONTRACT_DIR, expected: dict[str, str] | None = None) -> list[str]:
    """Files missing, different from the models, or left over from a removed type."""
    expected = render() if expected is None else expected
    present = _on_disk(directory)
    changed = [
        name
        for name, text in expected.items()
        if name not in present or (directory / name).read_text(encoding="utf-8") != text
    ]
    return sorted(changed + [name for name in present if name not in expected])


def write(directory: Path = CONTRACT_DIR) -> list[str]:
    """(Re)write the contract files; returns those created, changed or removed."""
    expected = render()
    touched = drifted(directory, expected)
    (directory / SCHEMAS_DIR).mkdir(parents=True, exist_ok=True)
    for name in touched:
        path = directory / name
        if name in expected:
            path.write_text(expected[name], encoding="utf-8")
        else:
            path.unlink()
    return touched


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when the files differ from the models"
    )
    parser.add_argument("--dir", type=Path, default=CONTRACT_DIR, help="contract directory")
    args = parser.parse_args(argv)
    if args.check:
        stale = drifted(args.dir)
        if stale:
            print(
                "The event contract drifted from the models in mpp_shared.events; "
                "run `make contract` and commit the result. Drifted files:\n  "
                + "\n  ".join(str(args.dir / name) for name in stale),
                file=sys.stderr,
            )
            return 1
        print(f"event contract up to date ({args.dir})")
        return 0
    touched = write(args.dir)
    for name in touched:
        print(
            f"wrote {args.dir / name}"
            if (args.dir / name).exists()
            else f"removed {args.dir / name}"
        )
    print(f"event contract: {len(touched)} file(s) changed in {args.dir}")
    return 0


# --- loading what is kept in the repository -----------------------------------


@dataclass(frozen=True)
class StoredFile:
    content: bytes
    etag: str


@dataclass(frozen=True)
class IndexEntry:
    event_type: str
    topic: str
    citizen_facing: bool


@dataclass(frozen=True)
class StoredContract:
    asyncapi: StoredFile
    schemas: dict[str, StoredFile]  # by event type, plus the envelope as `cloudevent`
    index: list[IndexEntry]


def _stored(content: bytes) -> StoredFile:
    return StoredFile(content, f'"{hashlib.sha256(content).hexdigest()[:32]}"')


@cache
def stored() -> StoredContract:
    """The contract files shipped with the package, read once."""
    root = resources.files(__package__ or "mpp_shared.events") / "contract"
    asyncapi = (root / ASYNCAPI_FILE).read_bytes()
    schemas = {
        entry.name.removesuffix(".json"): _stored(entry.read_bytes())
        for entry in (root / SCHEMAS_DIR).iterdir()
        if entry.name.endswith(".json")
    }
    doc = json.loads(asyncapi)
    messages = doc["components"]["messages"]
    index = [
        IndexEntry(
            event_type=name,
            topic=channel["address"],
            citizen_facing=any(
                tag["name"] == CITIZEN_FACING_TAG for tag in messages[name].get("tags", [])
            ),
        )
        for channel in doc["channels"].values()
        if not channel["address"].endswith(dlq_of(""))
        for name in channel["messages"]
    ]
    return StoredContract(
        asyncapi=_stored(asyncapi),
        schemas=schemas,
        index=sorted(index, key=lambda e: e.event_type),
    )


if __name__ == "__main__":
    sys.exit(main())
