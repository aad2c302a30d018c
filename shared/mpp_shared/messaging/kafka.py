"""Kafka clients configured for this system."""

from __future__ import annotations

import logging
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context

from mpp_shared.settings import ServiceSettings

log = logging.getLogger(__name__)


def connection(settings: ServiceSettings) -> dict[str, Any]:
    """What every client of the service needs to reach the cluster: its
    addresses and, for an authenticated cluster, the login and the CA."""
    found: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "security_protocol": settings.kafka_security_protocol,
    }
    if settings.kafka_security_protocol.startswith("SASL_"):
        found |= {
            "sasl_mechanism": settings.kafka_sasl_mechanism,
            "sasl_plain_username": settings.kafka_sasl_username,
            "sasl_plain_password": settings.kafka_sasl_password,
        }
    if settings.kafka_security_protocol.endswith("SSL"):
        found["ssl_context"] = create_ssl_context(cafile=settings.kafka_ssl_cafile)
    return found


def make_producer(settings: ServiceSettings, client_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        **connection(settings),
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
        **connection(settings),
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
