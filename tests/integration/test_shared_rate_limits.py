"""Rate limits that hold across replicas, on the real PostgreSQL: the shared
limiter's buckets (two pools standing for two replicas), the complaints'
public routes limited across two app instances on one database, the client
address behind trusted and untrusted peers, and notify's provider rate kept
by two dispatchers together.

Time is passed explicitly where a bucket's arithmetic is checked; where real
sends are timed, only bounds that slowness cannot break are asserted (a slow
machine sends later, never sooner)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from mpp_complaints.main import create_app
from mpp_complaints.settings import ComplaintsSettings
from mpp_notify.channels.base import ChannelName, OutgoingMessage, Provider, SendResult
from mpp_notify.channels.registry import build_channels
from mpp_notify.delivery.dispatcher import MessageDispatcher
from mpp_notify.handlers import Notifier
from mpp_notify.settings import NotifySettings
from mpp_shared import migrate
from mpp_shared.db import create_pool
from mpp_shared.events import build_event
from mpp_shared.events.envelope import registered_types
from mpp_shared.events.examples import EXAMPLES
from mpp_shared.pii import cipher_from_settings, seal_for_notify
from mpp_shared.ratelimit import Rate, SharedRateLimit
from mpp_shared.settings import DEV_SEAL_PUBLIC_KEY

T0 = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)


@pytest.fixture
async def replicas(database: str) -> AsyncIterator[tuple[asyncpg.Pool, asyncpg.Pool]]:
    """Two pools on one database with the shared schema: two replicas' worth."""
    first = await create_pool(database)
    async with first.acquire() as conn:
        await migrate.apply_migrations(conn, {"shared": migrate.SHARED_MIGRATIONS})
    second = await create_pool(database)
    yield first, second
    await first.close()
    await second.close()


# --- the shared limiter -------------------------------------------------------------


async def test_two_replicas_share_one_limit_exactly(
    replicas: tuple[asyncpg.Pool, asyncpg.Pool],
) -> None:
    rate = Rate.per_minute(1, burst=10)  # ten at once, then one a minute
    limits = [SharedRateLimit(pool, "filing", rate) for pool in replicas]

    async def take(i: int, at: datetime) -> bool:
        return (await limits[i % 2].take("192.0.2.7", now=at)).granted

    granted = await asyncio.gather(*(take(i, T0) for i in range(40)))
    assert sum(granted) == 10  # not 10 per replica
    a_minute_on = T0 + timedelta(minutes=1)
    granted = await asyncio.gather(*(take(i, a_minute_on) for i in range(10)))
    assert sum(granted) == 1
    assert (await limits[0].take("192.0.2.8", now=T0)).granted  # another client


async def test_a_bucket_refills_at_its_rate_never_beyond_its_burst(
    replicas: tuple[asyncpg.Pool, asyncpg.Pool],
) -> None:
    one, other = (SharedRateLimit(pool, "lookup", Rate.per_minute(6)) for pool in replicas)
    takes = [await (one if i % 2 else other).take("a", now=T0) for i in range(6)]
    assert all(d.granted and d.wait == 0 for d in takes)
    refused = await one.take("a", now=T0)
    assert not refused.granted and refused.wait == pytest.approx(10.0)
    refused = await other.take("a", now=T0 + timedelta(seconds=4))
    assert refused.wait == pytest.approx(6.0)  # a refusal uses nothing up
    assert (await one.take("a", now=T0 + timedelta(seconds=10))).granted
    # Idle for an hour: the burst again, and no more.
    later = T0 + timedelta(hours=1)
    assert [(await other.take("a", now=later)).granted for _ in range(7)] == [True] * 6 + [False]
    off = SharedRateLimit(replicas[0], "off", Rate.per_minute(0))
    assert all([(await off.take("a")).granted for _ in range(50)])


async def test_reservations_queue_callers_on_one_bucket(
    replicas: tuple[asyncpg.Pool, asyncpg.Pool],
) -> None:
    rate = Rate(per_second=10.0, burst=2.0)
    one, other = (SharedRateLimit(pool, "provider", rate) for pool in replicas)
    slots = [await (one if i % 2 else other).take("sms", within=1.0, now=T0) for i in range(13)]
    assert all(d.granted for d in slots[:12])
    assert [round(d.wait, 3) for d in slots[:12]] == [0, 0, *[n / 10 for n in range(1, 11)]]
    assert not slots[12].granted  # the next slot is more than a second ahead
    assert slots[12].wait == pytest.approx(0.1)


async def test_keys_are_kept_hashed_and_full_buckets_purged(
    replicas: tuple[asyncpg.Pool, asyncpg.Pool],
) -> None:
    pool = replicas[0]
    limit = SharedRateLimit(pool, "filing", Rate.per_minute(60))
    for address in ("192.0.2.7", "192.0.2.8"):
        await limit.take(address, now=T0)
    rows = await pool.fetch("SELECT key_hash FROM rate_limit_buckets")
    assert len(rows) == 2
    assert all(len(r["key_hash"]) == 32 and b"192.0.2" not in r["key_hash"] for r in rows)
    assert await limit.purge(now=T0) == 0  # both still filling up
    assert await limit.purge(now=T0 + timedelta(seconds=2)) == 2  # full again: forgotten


# --- the complaints' public routes across two app instances -------------------------


def _complaints_app(pool: asyncpg.Pool, **settings: Any) -> FastAPI:
    app = create_app(ComplaintsSettings(**settings))
    app.state.runtime.pool = pool  # no lifespan: no broker, the outbox just fills
    return app


@pytest.fixture
async def complaints_replicas(
    database: str, complaints_pool: asyncpg.Pool
) -> AsyncIterator[tuple[asyncpg.Pool, asyncpg.Pool]]:
    second = await create_pool(database)
    yield complaints_pool, second
    await second.close()


def _client(app: FastAPI, peer: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(peer, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://complaints")


async def test_public_filing_is_limited_across_two_instances(
    complaints_replicas: tuple[asyncpg.Pool, asyncpg.Pool],
) -> None:
    limits = {"complaint_rate_per_minute": 3, "complaint_status_rate_per_minute": 4}
    apps = [_complaints_app(pool, **limits) for pool in complaints_replicas]
    # One citizen behind the development proxy (loopback, trusted by default).
    citizen = {"X-Forwarded-For": "198.51.100.23"}
    body = {"category": "pungli", "description": "Petugas meminta uang tambahan di loket"}
    async with _client(apps[0], "127.0.0.1") as one, _client(apps[1], "127.0.0.1") as other:
        answers = [
            await (one if i % 2 else other).post("/v1/complaints", json=body, headers=citizen)
            for i in range(5)
        ]
        assert [a.status_code for a in answers] == [201, 201, 201, 429, 429], answers[-1].text
        assert answers[3].json()["code"] == "rate_limited"
        assert 1 <= int(answers[3].headers["Retry-After"]) <= 20
        page = await one.post(
            "/complaints/new",
            data={"category": "pungli", "description": body["description"]},
            headers=citizen,
        )
        assert page.status_code == 429 and "Terlalu banyak pengaduan" in page.text
        # Open311 files through the same bucket (per api_key too).
        form = {"api_key": "dev-open311-key", "service_code": "pungli", "description": "x" * 20}
        assert (await other.post("/open311/v2/requests.json", data=form)).status_code == 201
        # Looking up has a bucket of its own, shared as well.
        code = answers[0].json()["complaint_code"]
        looked = [
            (await (one if i % 2 else other).get(f"/v1/complaint-status/{code}", headers=citizen))
            for i in range(5)
        ]
        assert [r.status_code for r in looked] == [200, 200, 200, 200, 429]
        # Another citizen is not held back by the first.
        elsewhere = {"X-Forwarded-For": "198.51.100.99"}
        assert (await one.post("/v1/complaints", json=body, headers=elsewhere)).status_code == 201
    filed = await complaints_replicas[0].fetchval("SELECT count(*) FROM complaints")
    assert filed == 5  # three, one by Open311, one from the other citizen


async def test_forwarded_for_counts_only_from_a_trusted_proxy(
    complaints_pool: asyncpg.Pool,
) -> None:
    app = _complaints_app(
        complaints_pool, trusted_proxies="10.244.0.0/16", complaint_status_rate_per_minute=2
    )
    code = "P" + "0" * 9
    async with _client(app, "203.0.113.9") as spoofer, _client(app, "10.244.3.7") as ingress:
        # Straight from the internet, a new X-Forwarded-For each time: one client.
        spoofed = [
            await spoofer.get(
                f"/v1/complaint-status/{code}", headers={"X-Forwarded-For": f"192.0.2.{i}"}
            )
            for i in range(3)
        ]
        assert [r.status_code for r in spoofed][-1] == 429
        # Through the ingress, each forwarded address is a client of its own.
        forwarded = [
            await ingress.get(
                f"/v1/complaint-status/{code}", headers={"X-Forwarded-For": f"192.0.2.{i}"}
            )
            for i in range(3)
        ]
        assert 429 not in [r.status_code for r in forwarded]
        # The ingress is not limited as one client either: a third address
        # repeated is the one limited.
        again = [
            await ingress.get(
                f"/v1/complaint-status/{code}",
                headers={"X-Forwarded-For": "1.2.3.4, 192.0.2.200"},
            )
            for _ in range(3)
        ]
        assert [r.status_code for r in again][-1] == 429


# --- notify's provider rate across two dispatchers ---------------------------------

PHONE = "+6281234567890"
MORNING = datetime(2026, 11, 23, 23, 0, 1, tzinfo=UTC)  # 06:00:01 WIB, after quiet hours


class Gateway:
    """A fake SMS provider both dispatchers send to: when each send arrived, and from whom."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, float]] = []


class GatewayClient:
    name: ChannelName = "sms"
    provider: Provider = "sms_gateway"

    def __init__(self, gateway: Gateway, who: str) -> None:
        self.gateway, self.who = gateway, who

    async def send(self, message: OutgoingMessage) -> SendResult:
        self.gateway.sent.append((self.who, time.time()))
        return SendResult("sms_gateway", f"gw-{message.id}", 200)

    async def aclose(self) -> None:
        return None


async def test_two_dispatchers_together_keep_the_provider_rate(
    notify_pool: asyncpg.Pool, database: str
) -> None:
    messages, rate = 30, 10.0  # bursts of 10, then 10 a second
    settings = NotifySettings(
        sms_gateway_url="http://127.0.0.1:9/send",
        sms_rate_per_second=rate,
        delivery_batch_size=5,
    )
    cipher = cipher_from_settings(settings)
    notifier = Notifier(settings, cipher, build_channels(settings), clock=lambda: MORNING)
    event_type = "mpp.application.submitted.v1"
    for _ in range(messages):
        application_id = uuid.uuid4()
        payload = {**EXAMPLES[event_type], "application_id": application_id}
        contact = {"phone": PHONE, "language": "id", "preferred_channel": "sms"}
        payload["contact_sealed"] = seal_for_notify(contact, DEV_SEAL_PUBLIC_KEY)
        data = registered_types()[event_type](**payload)
        event = build_event(data, source="/mpp/test", subject=str(application_id))
        async with notify_pool.acquire() as conn, conn.transaction():
            await notifier.handle(conn, event)

    gateway = Gateway()
    second_pool = await create_pool(database)
    dispatchers = [
        (
            MessageDispatcher(
                settings, cipher, {"sms": GatewayClient(gateway, who)}, clock=lambda: MORNING
            ),
            pool,
        )
        for who, pool in (("one", notify_pool), ("other", second_pool))
    ]

    async def drain(dispatcher: MessageDispatcher, pool: asyncpg.Pool) -> None:
        while len(gateway.sent) < messages:
            if await dispatcher.dispatch_once(pool) == 0:
                await asyncio.sleep(0.02)  # polling until the other has sent the rest

    started = time.time()
    try:
        await asyncio.wait_for(asyncio.gather(*(drain(d, p) for d, p in dispatchers)), 60)
    finally:
        await second_pool.close()
    times = sorted(at - started for _, at in gateway.sent)
    assert len(times) == messages
    assert {who for who, _ in gateway.sent} == {"one", "other"}  # both sent
    # One shared bucket: the burst, then one every 0.1 s, so the 30th send
    # cannot come before 2.0 s; two buckets of their own would be done by 0.5 s.
    assert times[-1] >= (messages - rate) / rate - 0.05
    # Nor more in the first second than the burst and a second's rate (two
    # buckets of their own would send all 30 in it).
    assert sum(1 for t in times if t < 1.0) <= 2 * rate + 1
