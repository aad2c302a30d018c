"""The embedded Tansu broker and the services it serves agree on a topic's
partition count, whoever creates the topic: a relay (KAFKA_TOPIC_PARTITIONS)
or the broker itself when a client names a topic it does not have (after a
restart that forgot everything, a consumer's subscription comes first); it
starts only on a port it listens on itself, and is paused and resumed for sure.

The broker here is one of the test's own, never the session's: the session
may run against an external broker, which has its own topic defaults."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from mpp_devstack.embedded import TansuBroker, free_port, port_is_ephemeral
from mpp_devstack.stack import Stack


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[TansuBroker]:
    own = TansuBroker(log_path=tmp_path / "broker.log")
    own.start()
    try:
        yield own
    finally:
        own.stop()


async def test_a_topic_the_broker_makes_on_its_own_has_the_stack_partition_count(
    broker: TansuBroker, tmp_path: Path
) -> None:
    named_by_producer = f"probe.autocreate.{uuid.uuid4().hex[:8]}"
    named_by_consumer = f"probe.autocreate.{uuid.uuid4().hex[:8]}"

    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(named_by_producer, b"probe")
        made = {
            named_by_producer: len(
                producer.client.cluster.partitions_for_topic(named_by_producer) or ()
            )
        }
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        named_by_consumer, bootstrap_servers=broker.bootstrap, group_id=named_by_consumer
    )
    await consumer.start()
    try:
        deadline = asyncio.get_running_loop().time() + 15
        while not consumer.partitions_for_topic(named_by_consumer):
            assert asyncio.get_running_loop().time() < deadline, "the subscription made no topic"
            await asyncio.sleep(0.2)
        made[named_by_consumer] = len(consumer.partitions_for_topic(named_by_consumer) or ())
    finally:
        await consumer.stop()
    assert made == dict.fromkeys(made, TansuBroker.AUTO_CREATE_PARTITIONS)

    stack = Stack(
        workdir=tmp_path,
        fixed_ports=False,
        database_url="postgresql://127.0.0.1/unused",
        kafka_bootstrap=broker.bootstrap,
        broker=broker,
    )
    env = stack.service_env("intake", 8001)
    assert env["KAFKA_TOPIC_PARTITIONS"] == str(TansuBroker.AUTO_CREATE_PARTITIONS)


def test_a_broker_whose_port_was_taken_says_so_instead_of_borrowing_the_listener(
    tmp_path: Path,
) -> None:
    """Something else listening on the chosen port answers a connect just as
    the broker would: the start waits for its own process to listen, so a
    stack never runs on another program's server without knowing it."""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", free_port()))
        squatter.listen()
        port = squatter.getsockname()[1]
        assert not port_is_ephemeral(port)
        refused = TansuBroker(port, tmp_path / "broker.log")
        with pytest.raises(RuntimeError, match=f"exited .* before listening on port {port}"):
            refused.start()
        # ... and a broker that is not running cannot be paused in silence.
        with pytest.raises(RuntimeError, match="not running"):
            refused.pause()


def test_pause_and_resume_return_once_the_broker_is_stopped_and_running(
    broker: TansuBroker,
) -> None:
    assert broker.process is not None
    process = psutil.Process(broker.process.pid)
    broker.pause()
    assert process.status() == psutil.STATUS_STOPPED
    broker.resume()
    assert process.status() != psutil.STATUS_STOPPED
