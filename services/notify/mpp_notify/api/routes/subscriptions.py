"""OPD webhook subscriptions: an `opd_system` client manages its own
(register, change, disable / enable, delete, redeliver a time range, read its
delivery log); supervisors and admins read every subscription.

A subscription belongs to the token subject that created it; anyone else's
is answered 404, as if it did not exist. The secret is stored encrypted and
never shown again. Every change is in the audit trail.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

import asyncpg
from fastapi import APIRouter, Depends, Query, Request, Response

from mpp_notify.api.subscription_schemas import (
    DeliveryAttemptPublic,
    DeliveryCounts,
    DeliveryList,
    DeliveryPublic,
    DeliveryStatus,
    RedeliveryAccepted,
    RedeliveryRequest,
    SubscriptionCreate,
    SubscriptionList,
    SubscriptionPublic,
    SubscriptionStatus,
    SubscriptionUpdate,
)
from mpp_notify.webhooks import fanout
from mpp_notify.webhooks.dispatcher import secret_context
from mpp_shared import audit
from mpp_shared.auth import Principal, Role, require_roles
from mpp_shared.idempotency import Idempotency
from mpp_shared.pii import FieldCipher
from mpp_shared.web import ApiError, IdempotencyKey, PoolDep, replayed

router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"])
Reader = Annotated[Principal, Depends(require_roles(Role.OPD_SYSTEM, Role.SUPERVISOR))]
# require_roles always admits admin; writes further need the opd_system role
# (`_owner`), so admins and supervisors only read.
Client = Annotated[Principal, Depends(require_roles(Role.OPD_SYSTEM))]
_NOT_FOUND = ApiError(404, "not_found", "Langganan tidak ditemukan", "Subscription not found")

_SELECT = """
SELECT s.*, c.pending, c.delivered, c.dead
FROM subscriptions s
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE d.status IN ('pending', 'sending', 'retrying')) AS pending,
           count(*) FILTER (WHERE d.status = 'delivered') AS delivered,
           count(*) FILTER (WHERE d.status = 'dead') AS dead
    FROM webhook_deliveries d WHERE d.subscription_id = s.id
) c
"""


def _owner(principal: Principal) -> str:
    """The client whose subscriptions a write may touch."""
    if Role.OPD_SYSTEM not in principal.roles:
        raise ApiError(
            403,
            "forbidden",
            "Hanya sistem OPD pemilik langganan yang dapat mengubahnya",
            "Only the OPD system that owns a subscription may change it",
        )
    return principal.subject


def _sees_all(principal: Principal) -> bool:
    return bool(principal.roles & {Role.SUPERVISOR, Role.ADMIN})


def _public(row: asyncpg.Record) -> SubscriptionPublic:
    return SubscriptionPublic(
        id=row["id"],
        owner=row["owner"],
        url=row["url"],
        event_types=row["event_types"],
        description=row["description"],
        status=row["status"],
        consecutive_failures=row["consecutive_failures"],
        disabled_at=row["disabled_at"],
        disabled_reason=row["disabled_reason"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        deliveries=DeliveryCounts(
            pending=row["pending"], delivered=row["delivered"], dead=row["dead"]
        ),
    )


async def _read(
    conn: asyncpg.Connection | asyncpg.Pool, subscription_id: uuid.UUID, owner: str | None
) -> SubscriptionPublic:
    """One subscription; with `owner`, only if it is theirs."""
    row = await conn.fetchrow(
        _SELECT + " WHERE s.id = $1 AND ($2::text IS NULL OR s.owner = $2)",
        subscription_id,
        owner,
    )
    if row is None:
        raise _NOT_FOUND
    return _public(row)


async def _lock_own(conn: asyncpg.Connection, subscription_id: uuid.UUID, owner: str) -> None:
    found = await conn.fetchval(
        "SELECT true FROM subscriptions WHERE id = $1 AND owner = $2 FOR UPDATE",
        subscription_id,
        owner,
    )
    if not found:
        raise _NOT_FOUND


def _require_https_in_production(request: Request, url: str) -> None:
    if request.app.state.settings.mpp_env == "production" and urlsplit(url).scheme != "https":
        raise ApiError.invalid(
            "url",
            "webhook_url_https",
            "harus memakai https di lingkungan produksi",
            "must use https in production",
        )


def _wake_dispatcher(request: Request) -> None:
    """After a commit that made deliveries due: send them now, not at the next poll."""
    dispatcher = getattr(request.app.state, "webhook_dispatcher", None)
    if dispatcher is not None:
        dispatcher.wake()


def _cipher(request: Request) -> FieldCipher:
    cipher: FieldCipher = request.app.state.cipher
    return cipher


def _for_audit(url: str) -> str:
    """The URL without query or fragment, which may hold the receiver's tokens."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


@router.post(
    "",
    status_code=201,
    response_model=SubscriptionPublic,
    summary="Register a webhook for event types (opd_system)",
    description="Deliveries are signed POSTs of CloudEvents; see the signing notes in "
    "mpp_notify.webhooks.signing. Receivers dedupe by the X-MPP-Event-Id header.",
)
async def create_subscription(
    body: SubscriptionCreate,
    request: Request,
    pool: PoolDep,
    principal: Client,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    owner = _owner(principal)
    _require_https_in_production(request, body.url)
    cipher = _cipher(request)
    # The fingerprint kept with the key must not be a plain hash of the secret.
    fingerprint = {
        **body.model_dump(exclude={"secret"}),
        "secret": cipher.blind_index(body.secret, context="webhook_secret").hex(),
    }
    async with pool.acquire() as conn, conn.transaction():
        once = Idempotency(conn, f"subscriptions:{owner}", idempotency_key)
        if (stored := await once.replay(fingerprint)) is not None:
            return replayed(stored)
        subscription_id = uuid.uuid4()
        await conn.execute(
            "INSERT INTO subscriptions (id, owner, url, event_types, secret_enc, description) "
            "VALUES ($1, $2, $3, $4, $5, $6)",
            subscription_id,
            owner,
            body.url,
            body.event_types,
            cipher.encrypt(body.secret, context=secret_context(subscription_id)),
            body.description,
        )
        await audit.record(
            conn,
            principal,
            action="subscription.created",
            target_type="subscription",
            target_id=str(subscription_id),
            detail={"url": _for_audit(body.url), "event_types": body.event_types},
        )
        answer = await _read(conn, subscription_id, owner)
        await once.remember(answer)
    return answer


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
    rows = await pool.fetch(
        _SELECT
        + " WHERE ($1::text IS NULL OR s.owner = $1) AND ($2::text IS NULL OR s.status = $2)"
        " ORDER BY s.created_at, s.id",
        owner,
        status,
    )
    items = [_public(r) for r in rows]
    return SubscriptionList(items=items, count=len(items))


@router.get("/{subscription_id}", response_model=SubscriptionPublic, summary="One subscription")
async def get_subscription(subscription_id: uuid.UUID, pool: PoolDep, principal: Reader) -> Any:
    return await _read(pool, subscription_id, None if _sees_all(principal) else principal.subject)


@router.patch(
    "/{subscription_id}",
    response_model=SubscriptionPublic,
    summary="Change URL, event types, secret or description (opd_system)",
)
async def update_subscription(
    subscription_id: uuid.UUID,
    body: SubscriptionUpdate,
    request: Request,
    pool: PoolDep,
    principal: Client,
) -> Any:
    owner = _owner(principal)
    changes: dict[str, Any] = {}
    for name in sorted(body.model_fields_set):
        value = getattr(body, name)
        if value is None and name != "description":
            raise ApiError.invalid(name, "missing", "tidak boleh kosong", "may not be null")
        changes[name] = value
    if "url" in changes:
        _require_https_in_production(request, changes["url"])
    if "secret" in changes:
        changes["secret_enc"] = _cipher(request).encrypt(
            changes.pop("secret"), context=secret_context(subscription_id)
        )
    async with pool.acquire() as conn, conn.transaction():
        await _lock_own(conn, subscription_id, owner)
        if changes:
            columns = list(changes)
            assignments = ", ".join(f"{c} = ${i}" for i, c in enumerate(columns, start=2))
            await conn.execute(
                f"UPDATE subscriptions SET {assignments}, updated_at = now() WHERE id = $1",
                subscription_id,
                *changes.values(),
            )
            detail: dict[str, Any] = {"changed": sorted(c.removesuffix("_enc") for c in columns)}
            if "url" in changes:
                detail["url"] = _for_audit(changes["url"])
            if "event_types" in changes:
                detail["event_types"] = changes["event_types"]
            await audit.record(
                conn,
                principal,
                action="subscription.updated",
                target_type="subscription",
                target_id=str(subscription_id),
                detail=detail,
            )
        return await _read(conn, subscription_id, owner)


@router.post(
    "/{subscription_id}/enable",
    response_model=SubscriptionPublic,
    summary="Enable again (opd_system): waiting deliveries go out at once",
)
async def enable_subscription(
    subscription_id: uuid.UUID, request: Request, pool: PoolDep, principal: Client
) -> Any:
    owner = _owner(principal)
    async with pool.acquire() as conn, conn.transaction():
        await _lock_own(conn, subscription_id, owner)
        await conn.execute(
            "UPDATE subscriptions SET status = 'active', consecutive_failures = 0, "
            "disabled_at = NULL, disabled_reason = NULL, updated_at = now() WHERE id = $1",
            subscription_id,
        )
        # Dead ones stay dead (a redelivery sends them again).
        waiting = await conn.execute(
            "UPDATE webhook_deliveries SET next_attempt_at = now(), updated_at = now() "
            "WHERE subscription_id = $1 AND status IN ('pending', 'retrying')",
            subscription_id,
        )
        await audit.record(
            conn,
            principal,
            action="subscription.enabled",
            target_type="subscription",
            target_id=str(subscription_id),
            detail={"deliveries_due_now": int(waiting.split()[-1])},
        )
        answer = await _read(conn, subscription_id, owner)
    _wake_dispatcher(request)
    return answer


@router.post(
    "/{subscription_id}/disable",
    response_model=SubscriptionPublic,
    summary="Disable (opd_system): deliveries wait until enabled again",
)
async def disable_subscription(subscription_id: uuid.UUID, pool: PoolDep, principal: Client) -> Any:
    owner = _owner(principal)
    async with pool.acquire() as conn, conn.transaction():
        await _lock_own(conn, subscription_id, owner)
        await conn.execute(
            "UPDATE subscriptions SET status = 'disabled', disabled_at = now(), "
            "disabled_reason = 'disabled by its client', updated_at = now() "
            "WHERE id = $1 AND status = 'active'",
            subscription_id,
        )
        await audit.record(
            conn,
            principal,
            action="subscription.disabled",
            target_type="subscription",
            target_id=str(subscription_id),
        )
        return await _read(conn, subscription_id, owner)


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
    owner = _owner(principal)
    async with pool.acquire() as conn, conn.transaction():
        await _lock_own(conn, subscription_id, owner)
        # Its deliveries go with it (ON DELETE CASCADE); their attempts too.
        await conn.execute(
            "DELETE FROM delivery_attempts a USING webhook_deliveries d "
            "WHERE a.delivery_kind = 'webhook' AND a.delivery_id = d.id AND d.subscription_id = $1",
            subscription_id,
        )
        await conn.execute("DELETE FROM subscriptions WHERE id = $1", subscription_id)
        await audit.record(
            conn,
            principal,
            action="subscription.deleted",
            target_type="subscription",
            target_id=str(subscription_id),
        )
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
    request: Request,
    pool: PoolDep,
    principal: Client,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    owner = _owner(principal)
    retention = int(request.app.state.settings.event_retention_days)
    if body.to - body.from_ > timedelta(days=retention):
        raise ApiError.invalid(
            "to",
            "time_range_too_long",
            f"rentang waktu maksimal {retention} hari",
            f"the time range may span at most {retention} days",
        )
    async with pool.acquire() as conn, conn.transaction():
        once = Idempotency(conn, f"subscriptions:{owner}:redeliveries", idempotency_key)
        payload = {"subscription_id": str(subscription_id), **body.model_dump(mode="json")}
        if (stored := await once.replay(payload)) is not None:
            return replayed(stored)
        subscribed: list[str] | None = await conn.fetchval(
            "SELECT event_types FROM subscriptions WHERE id = $1 AND owner = $2 FOR UPDATE",
            subscription_id,
            owner,
        )
        if subscribed is None:
            raise _NOT_FOUND
        wanted = body.event_types or subscribed
        for entry in wanted:
            if not fanout.covers(subscribed, entry):
                raise ApiError.invalid(
                    "event_types",
                    "event_type_not_subscribed",
                    f"{entry} tidak termasuk jenis peristiwa langganan ini",
                    f"{entry} is not among this subscription's event types",
                )
        exact, prefixes = fanout.matchers(wanted)
        queued = await conn.fetchval(
            "WITH queued AS ("
            " INSERT INTO webhook_deliveries (id, subscription_id, event_id, event_type, replay)"
            " SELECT gen_random_uuid(), $1, j.event_id, j.event_type, true FROM event_journal j"
            " WHERE j.occurred_at >= $2 AND j.occurred_at < $3"
            # Past the retention window an event may be being forgotten right now.
            "   AND j.occurred_at >= now() - $4::int * interval '1 day'"
            f"  AND {fanout.match_condition('j.event_type', 5, 6)}"
            " RETURNING 1) SELECT count(*) FROM queued",
            subscription_id,
            body.from_,
            body.to,
            retention,
            exact,
            prefixes,
        )
        answer = RedeliveryAccepted(
            subscription_id=subscription_id,
            from_=body.from_,
            to=body.to,
            event_types=wanted,
            queued=queued,
        )
        await audit.record(
            conn,
            principal,
            action="subscription.redelivery",
            target_type="subscription",
            target_id=str(subscription_id),
            detail=answer.model_dump(mode="json", exclude={"subscription_id"}),
        )
        await once.remember(answer, status_code=202)
    _wake_dispatcher(request)
    return answer


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
    await _read(pool, subscription_id, None if _sees_all(principal) else principal.subject)
    rows = await pool.fetch(
        "SELECT * FROM webhook_deliveries WHERE subscription_id = $1 "
        "AND ($2::text IS NULL OR status = $2) ORDER BY created_at DESC, id LIMIT $3",
        subscription_id,
        status,
        limit,
    )
    attempts: dict[uuid.UUID, list[DeliveryAttemptPublic]] = {r["id"]: [] for r in rows}
    for a in await pool.fetch(
        "SELECT * FROM delivery_attempts WHERE delivery_kind = 'webhook' "
        "AND delivery_id = ANY($1::uuid[]) ORDER BY delivery_id, attempt, id",
        list(attempts),
    ):
        attempts[a["delivery_id"]].append(
            DeliveryAttemptPublic(
                attempt=a["attempt"],
                started_at=a["started_at"],
                finished_at=a["finished_at"],
                outcome=a["outcome"],
                status_code=a["status_code"],
                error=a["error"],
            )
        )
    items = [
        DeliveryPublic(
            id=r["id"],
            event_id=r["event_id"],
            event_type=r["event_type"],
            replay=r["replay"],
            status=r["status"],
            attempts=r["attempts"],
            next_attempt_at=r["next_attempt_at"]
            if r["status"] in ("pending", "retrying")
            else None,
            last_status_code=r["last_status_code"],
            last_error=r["last_error"],
            delivered_at=r["delivered_at"],
            created_at=r["created_at"],
            attempt_log=attempts[r["id"]],
        )
        for r in rows
    ]
    return DeliveryList(items=items, count=len(items))
