"""Kafka clients configured for this system."""

from __future__ import annotations

import logging

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from mpp_shared.settings import ServiceSettings

log = logging.getLogger(__name__)


def make_producer(settings: ServiceSettings, client_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=client_id,
        acks="all",
        # Only Apache Kafka offers idempotent producers; delivery rests on
        # outbox + inbox everywhere, this is an extra where available.
        enable_idempotence=settings.kafka_enable_idempotence,
        linger_ms=2,
        request_timeout_ms=10_000,
    )


def make_admin(settings: ServiceSettings, client_id: str) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=client_id,
        request_timeout_ms=10_000,
    )


async def ensure_topics(
    admin: AIOKafkaAdminClient, topics: list[str], *, partitions: int, replication: int
) -> list[str]:
    """Create the topics that are missing; returns those created."""
    existing = set(await admin.list_topics())
    missing = [t for t in topics if t not in existing]
    if not missing:
        return []
    try:
        await admin.create_topics(
            [
                NewTopic(t, num_partitions=partitions, replication_factor=replication)
                for t in missing
            ]
        )
    except TopicAlreadyExistsError:
        pass  # another instance was quicker
    log.info("created topics %s", ", ".join(missing))
    return missing
