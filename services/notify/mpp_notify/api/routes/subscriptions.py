"""OPD webhook subscriptions: an `opd_system` client manages its own
(register, change, disable / enable, delete, redeliver a time range, read its
delivery log); supervisors and admins read every subscription.

A subscription belongs to the token subject that created it; anyone else's
is answered 404, as if it did not exist. The secret is stored encrypted and
never shown again. Every change is in the audit trail.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from mpp_notify.api.deps import CipherDep, InProduction, RetentionDays, WakeWebhooks
from mpp_notify.api.subscription_schemas import (
    DeliveryList,
    RedeliveryRequest,
    SubscriptionCreate,
    SubscriptionList,
    SubscriptionUpdate,
)
from mpp_notify.domain.subscriptions import DeliveryStatus, SubscriptionStatus
from mpp_notify.usecases import subscriptions, webhook_deliveries
from mpp_notify.usecases.subscription_views import RedeliveryAccepted, SubscriptionPublic
from mpp_notify.usecases.subscriptions import NewSubscription, SubscriptionChanges
from mpp_notify.usecases.webhook_deliveries import Redelivery
from mpp_notify.webhooks.addresses import AddressGuard
from mpp_shared.auth import Principal, Role
from mpp_shared.errors import Forbidden
from mpp_shared.idempotency import StoredAnswer
from mpp_shared.web import IdempotencyKey, PoolDep, replayed
from mpp_shared.web.auth import require_roles

router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"])
Reader = Annotated[Principal, Depends(require_roles(Role.OPD_SYSTEM, Role.SUPERVISOR))]
# require_roles always admits admin; writes further need the opd_system role
# (`_owning_client`), so admins and supervisors only read.
Client = Annotated[Principal, Depends(require_roles(Role.OPD_SYSTEM))]


async def _address_guard(request: Request) -> AddressGuard:
    """The check of a webhook URL's addresses the settings ask for; a test
    may put its own resolver in `app.state.webhook_resolver`."""
    settings = request.app.state.settings
    return AddressGuard.of(
        check=settings.webhooks_check_addresses(),
        allowed=settings.webhook_allowed_networks,
        resolver=getattr(request.app.state, "webhook_resolver", None),
    )


Guard = Annotated[AddressGuard, Depends(_address_guard)]


def _owning_client(principal: Principal) -> Principal:
    """The client whose own subscriptions a write may touch."""
    if Role.OPD_SYSTEM not in principal.roles:
        raise Forbidden(
            "forbidden",
            "Hanya sistem OPD pemilik langganan yang dapat mengubahnya",
            "Only the OPD system that owns a subscription may change it",
        )
    return principal


def _sees_all(principal: Principal) -> bool:
    return bool(principal.roles & {Role.SUPERVISOR, Role.ADMIN})


def _visible_to(principal: Principal) -> str | None:
    """Whose subscriptions a reader sees: everyone's (None) or their own."""
    return None if _sees_all(principal) else principal.subject


def _answer(result: Any) -> Any:
    """The use case's answer, or the first answer to a retried Idempotency-Key."""
    return replayed(result) if isinstance(result, StoredAnswer) else result


@router.post(
    "",
    status_code=201,
    response_model=SubscriptionPublic,
    summary="Register a webhook for event types (opd_system)",
    description="Deliveries are signed POSTs of CloudEvents; see the signing notes in "
    "mpp_notify.webhooks.signing (signature_scheme mpp_v1, the default, or "
    "standard_webhooks). Receivers dedupe by the X-MPP-Event-Id header. In production "
    "a URL whose host is, or resolves to, a loopback, private, link-local (cloud "
    "metadata), CGNAT, multicast or reserved address is refused (422 on url), and "
    "checked again at every delivery.",
)
async def create_subscription(
    body: SubscriptionCreate,
    pool: PoolDep,
    cipher: CipherDep,
    production: InProduction,
    guard: Guard,
    principal: Client,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    new = NewSubscription(
        body.url, body.event_types, body.secret, body.description, body.signature_scheme
    )
    result = await subscriptions.register(
        pool,
        cipher,
        _owning_client(principal),
        new,
        production=production,
        idempotency_key=idempotency_key,
        guard=guard,
    )
    return _answer(result)


@router.get(
    "", response_model=SubscriptionList, summary="Subscriptions (own, or all for supervisors)"
)
async def list_subscriptions(
    pool: PoolDep,
    principal: Reader,
    status: SubscriptionStatus | None = None,
    owner: Annotated[str | None, Query(description="Supervisors: one client's only")] = None,
) -> Any:
    if not _sees_all(principal):
        owner = principal.subject
    items = await subscriptions.list_subscriptions(pool, owner=owner, status=status)
    return SubscriptionList(items=items, count=len(items))


@router.get("/{subscription_id}", response_model=SubscriptionPublic, summary="One subscription")
async def get_subscription(subscription_id: uuid.UUID, pool: PoolDep, principal: Reader) -> Any:
    return await subscriptions.show_subscription(pool, subscription_id, _visible_to(principal))


@router.patch(
    "/{subscription_id}",
    response_model=SubscriptionPublic,
    summary="Change URL, event types, signature scheme, secret or description (opd_system)",
)
async def update_subscription(
    subscription_id: uuid.UUID,
    body: SubscriptionUpdate,
    pool: PoolDep,
    cipher: CipherDep,
    production: InProduction,
    guard: Guard,
    principal: Client,
) -> Any:
    changes = SubscriptionChanges(
        sent=frozenset(body.model_fields_set),
        url=body.url,
        event_types=body.event_types,
        secret=body.secret,
        description=body.description,
        signature_scheme=body.signature_scheme,
    )
    return await subscriptions.change(
        pool,
        cipher,
        _owning_client(principal),
        subscription_id,
        changes,
        production=production,
        guard=guard,
    )


@router.post(
    "/{subscription_id}/enable",
    response_model=SubscriptionPublic,
    summary="Enable again (opd_system): waiting deliveries go out at once",
)
async def enable_subscription(
    subscription_id: uuid.UUID, pool: PoolDep, principal: Client, wake: WakeWebhooks
) -> Any:
    return await subscriptions.enable(
        pool, _owning_client(principal), subscription_id, wake_dispatcher=wake
    )


@router.post(
    "/{subscription_id}/disable",
    response_model=SubscriptionPublic,
    summary="Disable (opd_system): deliveries wait until enabled again",
)
async def disable_subscription(subscription_id: uuid.UUID, pool: PoolDep, principal: Client) -> Any:
    return await subscriptions.disable(pool, _owning_client(principal), subscription_id)


@router.delete(
    "/{subscription_id}",
    status_code=204,
    response_class=Response,
    response_model=None,
    summary="Delete (opd_system), with its queued deliveries",
)
async def delete_subscription(
    subscription_id: uuid.UUID, pool: PoolDep, principal: Client
) -> Response:
    await subscriptions.delete(pool, _owning_client(principal), subscription_id)
    return Response(status_code=204)


@router.post(
    "/{subscription_id}/redeliveries",
    status_code=202,
    response_model=RedeliveryAccepted,
    summary="Send again the events of a time range (opd_system)",
    description="Every journaled event of the subscription's types (or the subset named) "
    "with its time in [from, to) is queued again, also events from before the subscription "
    "existed, as far back as the retention window. Redelivered events carry their original "
    "X-MPP-Event-Id and the header X-MPP-Replay: true.",
)
async def redeliver(
    subscription_id: uuid.UUID,
    body: RedeliveryRequest,
    pool: PoolDep,
    retention: RetentionDays,
    principal: Client,
    wake: WakeWebhooks,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    redelivery = Redelivery(subscription_id, body.from_, body.to, body.event_types)
    result = await webhook_deliveries.redeliver(
        pool,
        _owning_client(principal),
        redelivery,
        retention_days=retention,
        idempotency_key=idempotency_key,
        wake_dispatcher=wake,
    )
    return _answer(result)


@router.get(
    "/{subscription_id}/deliveries",
    response_model=DeliveryList,
    summary="Delivery log with every attempt, newest first",
)
async def list_deliveries(
    subscription_id: uuid.UUID,
    pool: PoolDep,
    principal: Reader,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    items = await webhook_deliveries.list_deliveries(
        pool, subscription_id, owner=_visible_to(principal), status=status, limit=limit
    )
    return DeliveryList(items=items, count=len(items))
