"""Which broker cluster a client talks to.

The embedded broker keeps everything in memory and gets a new cluster id on
every start (`mpp_devstack.embedded.TansuBroker`): after a restart it is
a new cluster that knows no group, no log and no offset. It still keeps a
commit sent to it by a member that joined the cluster before, and a consumer
resuming from such a commit would start past records the new log holds
below it (the relays' republished window and events published since). A
consumer therefore reads the cluster id at each assignment and, when the
cluster changed, reads its partitions from the beginning: its inbox absorbs
what it had handled already. A real Kafka cluster keeps its id.
"""

from __future__ import annotations

import logging

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.protocol.metadata import MetadataRequest

log = logging.getLogger(__name__)


async def cluster_id(consumer: AIOKafkaConsumer) -> str | None:
    """The id of the cluster `consumer` is connected to; None when it cannot be read."""
    client = consumer._client  # aiokafka has no public way to the metadata's cluster id
    node = client.get_random_node()
    if node is None:
        return None
    try:
        answer = await client.send(node, MetadataRequest(topics=[]))
    except Exception as exc:  # the broker is away: decide at the next assignment
        log.info("cluster id not read: %s", exc)
        return None
    found = getattr(answer, "cluster_id", None)
    return str(found) if found else None


async def read_anew_in_a_new_cluster(
    consumer: AIOKafkaConsumer, previous: str | None, assigned: list[TopicPartition], name: str
) -> str | None:
    """At an assignment: when the cluster is another than `previous`, seek the
    `assigned` partitions to their beginning. Returns the cluster id to
    remember (`previous` when it could not be read)."""
    current = await cluster_id(consumer)
    if current is None:
        return previous
    if previous is not None and previous != current and assigned:
        log.warning(
            "consumer %s: the broker is a new cluster (%s, was %s); "
            "reading %d partitions from the beginning",
            name,
            current,
            previous,
            len(assigned),
        )
        await consumer.seek_to_beginning(*assigned)
    return current
