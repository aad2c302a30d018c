"""OPD webhook subscriptions as their clients manage them: register, read,
change, disable and enable, delete. Redelivery and the delivery log are in
`webhook_deliveries`.

A subscription belongs to the client (token subject) that registered it;
anyone else's is refused as not found, as if it did not exist. The secret is
stored encrypted, bound to its row, and never shown again. Every change and
its audit entry commit together; production delivers over https only, and
never to an address of notify's own networks (`webhooks.addresses`: checked
here when the URL is registered or changed, and again at every connection).
A subscription signed the Standard Webhooks way needs a ``whsec_`` secret.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from mpp_notify.domain.subscriptions import SubscriptionStatus, secret_context, url_for_audit
from mpp_notify.store import subscriptions
from mpp_notify.usecases.subscription_views import SubscriptionPublic, subscription_public
from mpp_notify.webhooks import signing
from mpp_notify.webhooks.addresses import AddressGuard, AddressRefused, Unresolvable
from mpp_shared import audit
from mpp_shared.auth import Principal
from mpp_shared.errors import Invalid, NotFound
from mpp_shared.idempotency import Idempotency, StoredAnswer
from mpp_shared.pii import FieldCipher

# How long registration waits for the URL's name to resolve; a name that does
# not resolve (yet) is taken, and checked again at every connection.
RESOLVE_TIMEOUT = 5.0


def not_found() -> NotFound:
    return NotFound("not_found", "Langganan tidak ditemukan", "Subscription not found")


@dataclass(frozen=True)
class NewSubscription:
    url: str
    event_types: list[str]
    secret: str
    description: str | None = None
    signature_scheme: signing.SignatureScheme = signing.MPP_V1


@dataclass(frozen=True)
class SubscriptionChanges:
    """The fields named in `sent` change (description may become None, the
    others may not); a new secret signs the next attempt on."""

    sent: frozenset[str]
    url: str | None = None
    event_types: list[str] | None = None
    secret: str | None = None
    description: str | None = None
    signature_scheme: signing.SignatureScheme | None = None


def _refuse_plain_http(url: str, *, production: bool) -> None:
    if production and urlsplit(url).scheme != "https":
        raise Invalid.field(
            "url",
            "webhook_url_https",
            "harus memakai https di lingkungan produksi",
            "must use https in production",
        )


async def _refuse_internal_address(url: str, guard: AddressGuard) -> None:
    """422 on `url` when its host is, or resolves to, an address webhooks
    may not go to (with the guard's check on)."""
    if not guard.check:
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT):
            await guard.resolve(host, port)
    except AddressRefused as exc:
        message_id, message_en = exc.texts()
        raise Invalid.field("url", "webhook_url_address", message_id, message_en) from None
    except (Unresolvable, TimeoutError):
        return


def _refuse_secret_for_scheme(changes: SubscriptionChanges, current: str) -> None:
    """A standard_webhooks subscription signs with a ``whsec_`` secret: one
    switching to it brings one, and a new secret of one must be one."""
    scheme = changes.signature_scheme if "signature_scheme" in changes.sent else current
    if scheme != signing.STANDARD_WEBHOOKS:
        return
    if "secret" in changes.sent:
        if changes.secret is not None and signing.is_standard_secret(changes.secret):
            return
    elif current == signing.STANDARD_WEBHOOKS:
        return
    raise Invalid.field("secret", "webhook_secret_standard", *signing.STANDARD_SECRET_TEXTS)


async def read_subscription(
    conn: asyncpg.Connection, subscription_id: uuid.UUID, owner: str | None
) -> SubscriptionPublic:
    """One subscription; with `owner`, only if it is theirs (else NotFound)."""
    row = await subscriptions.find(conn, subscription_id, owner)
    if row is None:
        raise not_found()
    return subscription_public(row)


async def show_subscription(
    pool: asyncpg.Pool, subscription_id: uuid.UUID, owner: str | None
) -> SubscriptionPublic:
    async with pool.acquire() as conn:
        return await read_subscription(conn, subscription_id, owner)


async def list_subscriptions(
    pool: asyncpg.Pool, *, owner: str | None, status: SubscriptionStatus | None
) -> list[SubscriptionPublic]:
    """Oldest first: one client's (`owner`), or everyone's."""
    async with pool.acquire() as conn:
        rows = await subscriptions.find_all(conn, owner, status)
    return [subscription_public(row) for row in rows]


async def register(
    pool: asyncpg.Pool,
    cipher: FieldCipher,
    client: Principal,
    new: NewSubscription,
    *,
    production: bool,
    idempotency_key: str | None,
    guard: AddressGuard,
) -> SubscriptionPublic | StoredAnswer:
    """The new subscription, owned by `client`; a retry with the same
    Idempotency-Key gets the first answer back (a StoredAnswer)."""
    _refuse_plain_http(new.url, production=production)
    await _refuse_internal_address(new.url, guard)
    if new.signature_scheme == signing.STANDARD_WEBHOOKS and not signing.is_standard_secret(
        new.secret
    ):
        raise Invalid.field("secret", "webhook_secret_standard", *signing.STANDARD_SECRET_TEXTS)
    owner = client.subject
    # The fingerprint kept with the key must not be a plain hash of the secret.
    fingerprint = {
        "url": new.url,
        "event_types": new.event_types,
        "description": new.description,
        "signature_scheme": new.signature_scheme,
        "secret": cipher.blind_index(new.secret, context="webhook_secret").hex(),
    }
    async with pool.acquire() as conn, conn.transaction():
        once = Idempotency(conn, f"subscriptions:{owner}", idempotency_key)
        if (stored := await once.replay(fingerprint)) is not None:
            return stored
        subscription_id = uuid.uuid4()
        await subscriptions.insert(
            conn,
            subscription_id,
            owner=owner,
            url=new.url,
            event_types=new.event_types,
            secret_enc=cipher.encrypt(new.secret, context=secret_context(subscription_id)),
            description=new.description,
            signature_scheme=new.signature_scheme,
        )
        detail = {
            "url": url_for_audit(new.url),
            "event_types": new.event_types,
            "signature_scheme": new.signature_scheme,
        }
        await _audit(conn, client, "subscription.created", subscription_id, detail)
        answer = await read_subscription(conn, subscription_id, owner)
        await once.remember(answer)
    return answer


def _columns(changes: SubscriptionChanges) -> dict[str, Any]:
    """The columns to set, by name; only the description may be set to null."""
    columns: dict[str, Any] = {}
    for name in sorted(changes.sent):
        value = getattr(changes, name)
        if value is None and name != "description":
            raise Invalid.field(name, "missing", "tidak boleh kosong", "may not be null")
        columns[name] = value
    return columns


async def change(
    pool: asyncpg.Pool,
    cipher: FieldCipher,
    client: Principal,
    subscription_id: uuid.UUID,
    changes: SubscriptionChanges,
    *,
    production: bool,
    guard: AddressGuard,
) -> SubscriptionPublic:
    """Change the client's own subscription (nothing sent: nothing changes,
    no audit entry)."""
    columns = _columns(changes)
    if "url" in columns:
        _refuse_plain_http(columns["url"], production=production)
        await _refuse_internal_address(columns["url"], guard)
    if "secret" in columns:
        columns["secret_enc"] = cipher.encrypt(
            columns.pop("secret"), context=secret_context(subscription_id)
        )
    async with pool.acquire() as conn, conn.transaction():
        current = await subscriptions.lock_own_scheme(conn, subscription_id, client.subject)
        if current is None:
            raise not_found()
        _refuse_secret_for_scheme(changes, current)
        if columns:
            await subscriptions.change(conn, subscription_id, columns)
            detail: dict[str, Any] = {"changed": sorted(c.removesuffix("_enc") for c in columns)}
            if "url" in columns:
                detail["url"] = url_for_audit(columns["url"])
            if "event_types" in columns:
                detail["event_types"] = columns["event_types"]
            if "signature_scheme" in columns:
                detail["signature_scheme"] = columns["signature_scheme"]
            await _audit(conn, client, "subscription.updated", subscription_id, detail)
        return await read_subscription(conn, subscription_id, client.subject)


async def enable(
    pool: asyncpg.Pool,
    client: Principal,
    subscription_id: uuid.UUID,
    *,
    wake_dispatcher: Callable[[], None],
) -> SubscriptionPublic:
    """Active again: its waiting deliveries go out at once (dead ones stay dead)."""
    async with pool.acquire() as conn, conn.transaction():
        await _lock_own(conn, subscription_id, client.subject)
        due_now = await subscriptions.enable(conn, subscription_id)
        detail = {"deliveries_due_now": due_now}
        await _audit(conn, client, "subscription.enabled", subscription_id, detail)
        answer = await read_subscription(conn, subscription_id, client.subject)
    wake_dispatcher()
    return answer


async def disable(
    pool: asyncpg.Pool, client: Principal, subscription_id: uuid.UUID
) -> SubscriptionPublic:
    """Disabled: its deliveries wait until it is enabled again."""
    async with pool.acquire() as conn, conn.transaction():
        await _lock_own(conn, subscription_id, client.subject)
        await subscriptions.disable(conn, subscription_id)
        await _audit(conn, client, "subscription.disabled", subscription_id)
        return await read_subscription(conn, subscription_id, client.subject)


async def delete(pool: asyncpg.Pool, client: Principal, subscription_id: uuid.UUID) -> None:
    """Gone, with its queued deliveries and their attempts."""
    async with pool.acquire() as conn, conn.transaction():
        await _lock_own(conn, subscription_id, client.subject)
        await subscriptions.delete(conn, subscription_id)
        await _audit(conn, client, "subscription.deleted", subscription_id)


async def _lock_own(conn: asyncpg.Connection, subscription_id: uuid.UUID, owner: str) -> None:
    if not await subscriptions.lock_own(conn, subscription_id, owner):
        raise not_found()


async def _audit(
    conn: asyncpg.Connection,
    client: Principal,
    action: str,
    subscription_id: uuid.UUID,
    detail: dict[str, Any] | None = None,
) -> None:
    await audit.record(
        conn,
        client,
        action=action,
        target_type="subscription",
        target_id=str(subscription_id),
        detail=detail,
    )
