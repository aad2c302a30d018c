"""Topic registry: one topic per stream, each with a `.dlq` twin."""

from __future__ import annotations

from enum import StrEnum


class Topic(StrEnum):
    APPLICATIONS = "mpp.applications"
    DOCUMENTS = "mpp.documents"
    COMPLAINTS = "mpp.complaints"
    SLA = "mpp.sla"
    NOTIFICATIONS = "mpp.notifications"
    CITIZEN = "mpp.citizen"
    POPULATION = "mpp.population"


def dlq_of(topic: str) -> str:
    return f"{topic}.dlq"


ALL_TOPICS: list[str] = [t.value for t in Topic] + [dlq_of(t.value) for t in Topic]
