"""Broker plumbing: producers, topics, the outbox relay and the idempotent consumer."""
