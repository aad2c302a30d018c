"""OPD webhook subscriptions: the states of a subscription and of its
deliveries, and what of a receiver's URL may be written down."""

from __future__ import annotations

import uuid
from typing import Literal
from urllib.parse import urlsplit

SubscriptionStatus = Literal["active", "disabled"]
DeliveryStatus = Literal["pending", "sending", "retrying", "delivered", "dead"]
# Deliveries waiting for their next attempt (a `sending` one is being tried now).
WAITING: tuple[DeliveryStatus, ...] = ("pending", "retrying")


def url_for_audit(url: str) -> str:
    """The URL without credentials, query or fragment, which may hold the
    receiver's tokens."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


def secret_context(subscription_id: uuid.UUID) -> str:
    """Associated data of a subscription's encrypted secret (binds it to its row)."""
    return f"webhook_secret:{subscription_id}"
