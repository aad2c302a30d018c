"""Event contracts: CloudEvents envelope, topic registry and versioned data schemas."""

from mpp_shared.events.envelope import CloudEvent, EventData, build_event, parse_event
from mpp_shared.events.topics import ALL_TOPICS, Topic, dlq_of

__all__ = ["ALL_TOPICS", "CloudEvent", "EventData", "Topic", "build_event", "dlq_of", "parse_event"]
