"""CloudEvents 1.0 envelope in structured JSON mode.

Every `data` is a pydantic model (`EventData` subclass) whose class names its
versioned CloudEvents `type` and its topic. A breaking change is a new model
with a new version in the type, published side by side.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from mpp_shared import clock

CONTENT_TYPE = "application/cloudevents+json"

_REGISTRY: dict[str, type[EventData]] = {}


class EventData(BaseModel):
    """Base of every event payload. Subclasses set `event_type` and `topic`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_type: ClassVar[str]
    topic: ClassVar[str]
    citizen_facing: ClassVar[bool] = False

    def __init_subclass__(cls, register: bool = True, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        event_type = cls.__dict__.get("event_type")
        if event_type and register:
            if event_type in _REGISTRY:
                raise RuntimeError(f"event type {event_type} registered twice")
            _REGISTRY[event_type] = cls


def registered_types() -> dict[str, type[EventData]]:
    return dict(_REGISTRY)


class CloudEvent(BaseModel):
    model_config = ConfigDict(extra="allow")

    specversion: str = "1.0"
    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    source: str
    type: str
    subject: str
    time: datetime = Field(default_factory=lambda: clock.now())
    datacontenttype: str = "application/json"
    data: dict[str, Any]

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    def typed_data(self) -> EventData:
        """The `data` parsed with its registered schema (KeyError for unknown types)."""
        return _REGISTRY[self.type].model_validate(self.data)


def build_event(data: EventData, *, source: str, subject: str) -> CloudEvent:
    return CloudEvent(
        source=source,
        type=data.event_type,
        subject=subject,
        data=data.model_dump(mode="json"),
    )


def parse_event(raw: bytes) -> CloudEvent:
    """Parse and validate an envelope; raises ValueError on anything malformed."""
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    event = CloudEvent.model_validate(doc)
    if event.specversion != "1.0":
        raise ValueError(f"unsupported specversion {event.specversion}")
    return event
