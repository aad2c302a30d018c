"""The AsyncAPI 3.0 document of the event contract: every topic and its `.dlq`
twin as channels, a receive operation for each, and every event type as a
message whose payload is its JSON Schema (see `json_schemas`), moved under
`components` with its shared definitions."""

from __future__ import annotations

from typing import Any

from mpp_shared.events.envelope import CONTENT_TYPE, EventData, registered_types
from mpp_shared.events.json_schemas import (
    SCHEMA_BASE_URL,
    description_of,
    event_schema,
    example_event,
    schema_url,
    title_of,
)
from mpp_shared.events.streams import stream_of
from mpp_shared.events.topics import Topic, dlq_of

CONTRACT_VERSION = "1.0.0"  # of the document; each event's version is in its type
CITIZEN_FACING_TAG = "citizen-facing"
KAFKA_BINDING_VERSION = "0.5.0"
# The W3C Trace Context specification's own example.
EXAMPLE_TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
COMPONENT_SCHEMAS = "#/components/schemas/"

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

**Standard Webhooks.** Register with `"signature_scheme": "standard_webhooks"`
to have deliveries signed as https://www.standardwebhooks.com specifies, and
verify them with one of its ready libraries. The secret is then a Standard
Webhooks secret, `whsec_` followed by the base64 of 24 to 64 random bytes
(e.g. `"whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()`), and
instead of `X-MPP-Timestamp` and `X-MPP-Signature` each delivery carries:

- `webhook-id`: the message id, the same on every retry of a delivery
  (equal to `X-MPP-Delivery-Id`);
- `webhook-timestamp`: when the request was signed, in Unix seconds;
- `webhook-signature`: `v1,<base64 HMAC-SHA256(key, f"{webhook-id}.{webhook-timestamp}.{raw body}")>`,
  keyed with the bytes the `whsec_` secret encodes.

`signature_scheme` shows in the subscription's answer and can be changed with
`PATCH /v1/subscriptions/{id}` (switching to `standard_webhooks` needs a
`whsec_` secret in the same request).

**Where webhooks may go.** In production a URL whose host is, or resolves to,
a loopback, private, link-local (cloud metadata), carrier-grade NAT,
multicast or reserved address is refused at registration (422 on `url`) and
again at every delivery; redirects are never followed.
"""

SERVERS = {
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
}


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
        "allOf": [{"$ref": f"{COMPONENT_SCHEMAS}MessageHeaders"}],
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
    """The message of `event_type`; puts its payload schema (and the
    definitions it shares) into `components`."""
    topic = str(model.topic)
    stream = stream_of(topic)
    schema = event_schema(event_type)
    for name, sub in schema.pop("$defs", {}).items():
        _put(components, name, _rewrite_refs(sub, COMPONENT_SCHEMAS))
    schema.pop("$schema")
    schema.pop("$id")
    _put(components, event_type, _rewrite_refs(schema, COMPONENT_SCHEMAS))
    description = description_of(model)
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
        "title": title_of(event_type),
        "summary": description,
        "description": details,
        "contentType": CONTENT_TYPE,
        "headers": {"$ref": f"{COMPONENT_SCHEMAS}MessageHeaders"},
        "payload": {"$ref": f"{COMPONENT_SCHEMAS}{event_type}"},
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


def _channels(topic: str, on_topic: list[str], messages: dict[str, Any]) -> dict[str, Any]:
    """The channel of `topic` and of its `.dlq` twin, carrying the types `on_topic`."""
    stream = stream_of(topic)
    dlq = dlq_of(topic)
    return {
        topic: {
            "address": topic,
            "title": topic,
            "description": f"{stream.summary} Written by `{stream.producer}`; key: {stream.key}.",
            "messages": {t: {"$ref": f"#/components/messages/{t}"} for t in on_topic},
        },
        dlq: {
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
                    "headers": {"$ref": f"{COMPONENT_SCHEMAS}DeadLetterHeaders"},
                }
                for t in on_topic
            },
        },
    }


def _operations(topic: str, on_topic: list[str]) -> dict[str, Any]:
    """A receive operation for `topic` and one for its `.dlq` twin."""
    return {
        f"receive.{channel}": {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{channel}"},
            "title": f"Receive {channel}",
            "summary": f"Subscribe to the {what} of `{topic}`.",
            "messages": [{"$ref": f"#/channels/{channel}/messages/{t}"} for t in on_topic],
        }
        for channel, what in ((topic, "events"), (dlq_of(topic), "dead-lettered records"))
    }


def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document of every topic, its `.dlq` twin and every event type."""
    types = registered_types()
    components: dict[str, Any] = dict(_headers_schemas())
    messages = {t: _message(t, types[t], components) for t in sorted(types)}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic in _topics():
        on_topic = sorted(t for t, m in types.items() if str(m.topic) == topic)
        channels |= _channels(topic, on_topic, messages)
        operations |= _operations(topic, on_topic)
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "MPP events",
            "version": CONTRACT_VERSION,
            "description": _info_description(),
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {name: dict(server) for name, server in SERVERS.items()},
        "channels": channels,
        "operations": operations,
        "components": {"schemas": components, "messages": messages},
    }
