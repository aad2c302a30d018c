"""The embedded stack: real PostgreSQL and a real Kafka-protocol broker started
from Python (no Docker, no root needed), and the four service processes."""
