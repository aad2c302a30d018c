"""Contracts and plumbing shared by the MPP services.

Nothing here knows a service's domain: event envelope and schemas, topic
names, outbox and inbox, database and broker helpers, auth, PII protection,
telemetry, settings and the embedded development stack.
"""
