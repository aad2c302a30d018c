"""Citizen sign-in on a real PostgreSQL: the one-time code (kept only as a
keyed hash, sealed on its way to notify), its expiry and wrong tries, the
rate limits every replica shares, the session; and notify's side (the code
sent by the dispatcher, never readable in the delivery log)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import jwt
import pytest

from mpp_intake.settings import IntakeSettings
from mpp_intake.usecases import citizen_signin
from mpp_notify.handlers import Notifier
from mpp_notify.usecases.signin_codes import REDACTED
from mpp_shared import clock
from mpp_shared.db import create_pool
from mpp_shared.errors import Invalid, TooManyRequests
from mpp_shared.events import build_event
from mpp_shared.events.schemas import SignInCodeRequestedV1
from mpp_shared.pii import FieldCipher, open_sealed, seal_for_notify
from mpp_shared.settings import DEV_SEAL_PRIVATE_KEY, DEV_SEAL_PUBLIC_KEY
from tests.integration.test_notify_delivery import Gateway, gateway, parts
from tests.support.clock import HandClock
from tests.support.identities import nik, phone

__all__ = ["gateway"]  # the SMS gateway fixture, shared with the delivery tests

SETTINGS = IntakeSettings()
CIPHER = FieldCipher(SETTINGS.pii_encryption_key, SETTINGS.pii_index_key)


@pytest.fixture
def moved_clock(tmp_path: Path) -> Iterator[Path]:
    """This process's clock, to be moved forward with clock.write_offset."""
    path = tmp_path / "offset"
    clock.use_file(path)
    yield path
    clock.use_file(None)


async def _request(
    pool: asyncpg.Pool,
    *,
    resident: str,
    mobile: str,
    address: str = "203.0.113.7",
    settings: IntakeSettings = SETTINGS,
) -> citizen_signin.CodeRequested:
    return await citizen_signin.request_code(
        pool,
        settings=settings,
        cipher=CIPHER,
        nik=resident,
        phone=mobile,
        channel="sms",
        language="id",
        client_address=address,
    )


async def _sent_code(pool: asyncpg.Pool, request_id: uuid.UUID) -> tuple[str, dict[str, Any]]:
    """The code as notify opens it from the outbox event, and the event."""
    raw = await pool.fetchval(
        "SELECT convert_from(payload, 'UTF8') FROM outbox WHERE topic = 'mpp.citizen' "
        "AND convert_from(payload, 'UTF8')::jsonb->>'subject' = $1",
        str(request_id),
    )
    event = json.loads(raw)
    return str(open_sealed(event["data"]["code_sealed"], DEV_SEAL_PRIVATE_KEY)["code"]), event


async def _exchange(
    pool: asyncpg.Pool, request_id: uuid.UUID, code: str, address: str = "203.0.113.7"
) -> citizen_signin.SessionOpened:
    return await citizen_signin.open_session(
        pool,
        settings=SETTINGS,
        cipher=CIPHER,
        request_id=request_id,
        nik=None,
        phone=None,
        code=code,
        client_address=address,
    )


async def test_a_code_is_sealed_for_notify_kept_as_a_hash_and_opens_one_session(
    intake_pool: asyncpg.Pool,
) -> None:
    resident, mobile = nik(), phone().e164
    sent = await _request(intake_pool, resident=resident, mobile=mobile)
    code, event = await _sent_code(intake_pool, sent.request_id)
    assert len(code) == 6 and code.isdigit()
    assert open_sealed(event["data"]["contact_sealed"], DEV_SEAL_PRIVATE_KEY) == {"phone": mobile}
    # Nothing in clear: not on the topic, not in the row, not in the audit trail.
    row = await intake_pool.fetchrow(
        "SELECT * FROM citizen_signin_codes WHERE id = $1", sent.request_id
    )
    audit = await intake_pool.fetch("SELECT * FROM audit_log")
    for text in (json.dumps(event), repr(dict(row)), repr([dict(a) for a in audit])):
        for secret in (code, resident, mobile, mobile[1:]):
            assert secret not in text
    assert row["code_hash"] != code.encode() and len(row["code_hash"]) == 32
    assert sent.expires_at - row["created_at"] == timedelta(minutes=5)

    opened = await _exchange(intake_pool, sent.request_id, code)
    # Signed with intake's own secret, for intake alone (not the shared JWT_SECRET).
    claims = jwt.decode(
        opened.token,
        SETTINGS.citizen_session_secret,
        algorithms=["HS256"],
        issuer="mpp-intake",
        audience="mpp-intake",
    )
    assert claims["roles"] == ["citizen"] and claims["sub"] == str(opened.session_id)
    session = await citizen_signin.current_session(intake_pool, CIPHER, opened.session_id)
    assert session is not None
    assert (session.nik, session.phone) == (resident, mobile)
    assert session.nik_index == CIPHER.blind_index(resident, context="nik")
    assert session.principal().subject == f"citizen:{opened.session_id}"

    with pytest.raises(Invalid):  # used once
        await _exchange(intake_pool, sent.request_id, code)
    await citizen_signin.end_session(intake_pool, session)
    assert await citizen_signin.current_session(intake_pool, CIPHER, opened.session_id) is None
    actions = [
        a["action"] for a in await intake_pool.fetch("SELECT action FROM audit_log ORDER BY id")
    ]
    assert actions == [
        "citizen.signin_code.request",
        "citizen.signin",
        "citizen.signin.failed",
        "citizen.signout",
    ]


async def test_the_fifth_wrong_try_ends_the_code(intake_pool: asyncpg.Pool) -> None:
    sent = await _request(intake_pool, resident=nik(), mobile=phone().e164)
    code, _ = await _sent_code(intake_pool, sent.request_id)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(4):
        with pytest.raises(Invalid) as refused:
            await _exchange(intake_pool, sent.request_id, wrong)
        assert refused.value.extra["errors"][0]["field"] == "code"
    # Four wrong tries leave the code alive; the fifth ends it.
    second = await _request(intake_pool, resident=nik(), mobile=phone().e164)
    second_code, _ = await _sent_code(intake_pool, second.request_id)
    for _ in range(4):
        with pytest.raises(Invalid):
            await _exchange(intake_pool, second.request_id, f"{(int(second_code) + 1) % 10**6:06d}")
    assert await _exchange(intake_pool, second.request_id, second_code)
    with pytest.raises(Invalid):
        await _exchange(intake_pool, sent.request_id, wrong)
    with pytest.raises(Invalid):  # the right code comes too late
        await _exchange(intake_pool, sent.request_id, code)
    ended = await intake_pool.fetchrow(
        "SELECT wrong_tries, end_reason FROM citizen_signin_codes WHERE id = $1", sent.request_id
    )
    assert (ended["wrong_tries"], ended["end_reason"]) == (5, "wrong_tries")


async def test_a_code_expires_after_five_minutes_and_a_new_one_replaces_it(
    intake_pool: asyncpg.Pool, moved_clock: Path
) -> None:
    resident, mobile = nik(), phone().e164
    first = await _request(intake_pool, resident=resident, mobile=mobile)
    first_code, _ = await _sent_code(intake_pool, first.request_id)
    clock.write_offset(moved_clock, timedelta(minutes=5, seconds=1))
    with pytest.raises(Invalid):
        await _exchange(intake_pool, first.request_id, first_code)

    second = await _request(intake_pool, resident=resident, mobile=mobile)
    third = await _request(intake_pool, resident=resident, mobile=mobile)
    second_code, _ = await _sent_code(intake_pool, second.request_id)
    third_code, _ = await _sent_code(intake_pool, third.request_id)
    with pytest.raises(Invalid):  # replaced by the newer code
        await _exchange(intake_pool, second.request_id, second_code)
    # The latest code, found by NIK and phone as well as by its request.
    opened = await citizen_signin.open_session(
        intake_pool,
        settings=SETTINGS,
        cipher=CIPHER,
        request_id=None,
        nik=resident,
        phone=mobile,
        code=third_code,
        client_address="203.0.113.7",
    )
    clock.write_offset(moved_clock, timedelta(minutes=5, seconds=1) + timedelta(minutes=30))
    assert await citizen_signin.current_session(intake_pool, CIPHER, opened.session_id) is None
    # A day later the next code request purges them (they hold a NIK and a phone).
    assert await intake_pool.fetchval("SELECT count(*) FROM citizen_signin_codes") == 3
    clock.write_offset(moved_clock, timedelta(days=1, hours=1))
    later = await _request(intake_pool, resident=nik(), mobile=phone().e164)
    left = await intake_pool.fetch("SELECT id FROM citizen_signin_codes")
    assert [r["id"] for r in left] == [later.request_id]
    assert await intake_pool.fetchval("SELECT count(*) FROM citizen_sessions") == 0
    assert await intake_pool.fetchval("SELECT count(*) FROM citizen_rate_events") == 3


async def test_limits_per_nik_phone_and_address_hold_across_replicas(
    database: str, intake_pool: asyncpg.Pool
) -> None:
    # Two "replicas": two pools on the same database, racing.
    other = await create_pool(database)
    try:
        resident = nik()
        racing = [
            _request(pool, resident=resident, mobile=phone().e164, address=f"203.0.113.{i}")
            for i, pool in enumerate([intake_pool, other] * 4)
        ]
        answers = await asyncio.gather(*racing, return_exceptions=True)
        refused = [a for a in answers if isinstance(a, TooManyRequests)]
        assert len(refused) == 8 - SETTINGS.citizen_codes_per_nik, answers
        assert all(0 < r.extra["retry_after"] <= 900 for r in refused)

        mobile = phone().e164
        for _ in range(SETTINGS.citizen_codes_per_phone):
            await _request(other, resident=nik(), mobile=mobile, address="203.0.113.50")
        with pytest.raises(TooManyRequests):
            await _request(intake_pool, resident=nik(), mobile=mobile, address="203.0.113.51")

        strict = SETTINGS.model_copy(update={"citizen_codes_per_address": 2})
        for _ in range(2):
            await _request(
                intake_pool,
                resident=nik(),
                mobile=phone().e164,
                address="192.0.2.9",
                settings=strict,
            )
        with pytest.raises(TooManyRequests):
            await _request(
                other, resident=nik(), mobile=phone().e164, address="192.0.2.9", settings=strict
            )
        # Another address is not held back by that one.
        await _request(
            other, resident=nik(), mobile=phone().e164, address="192.0.2.10", settings=strict
        )
    finally:
        await other.close()
    limited = await intake_pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'citizen.signin_code.limited'"
    )
    assert limited == 8 - SETTINGS.citizen_codes_per_nik + 2


# --- notify's side ----------------------------------------------------------------


def _code_event(mobile: str, code: str, *, expires_in: timedelta, language: str = "id") -> Any:
    request_id = uuid.uuid4()
    data = SignInCodeRequestedV1(
        request_id=request_id,
        channel="sms",
        language=language,
        contact_sealed=seal_for_notify({"phone": mobile}, DEV_SEAL_PUBLIC_KEY),
        code_sealed=seal_for_notify({"code": code}, DEV_SEAL_PUBLIC_KEY),
        expires_at=datetime.now(UTC) + expires_in,
    )
    return build_event(data, source="/mpp/intake", subject=str(request_id))


async def _handle(pool: asyncpg.Pool, notifier: Notifier, event: Any) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await notifier.handlers[event.type](conn, event)


async def test_notify_sends_the_code_but_never_shows_it(
    notify_pool: asyncpg.Pool, gateway: Gateway
) -> None:
    notifier, dispatcher = parts(gateway, HandClock(datetime.now(UTC)))
    mobile = phone().e164
    event = _code_event(mobile, "482915", expires_in=timedelta(minutes=5))
    for _ in range(2):  # redelivered: one message
        await _handle(notify_pool, notifier, event)
    row = await notify_pool.fetchrow(
        "SELECT * FROM delivery_log WHERE source_event_id = $1", event.id
    )
    assert "482915" not in row["body"] and REDACTED in row["body"]
    assert row["body"].startswith("Kode masuk MPP Anda: ")
    assert row["secret_body_enc"] is not None and b"482915" not in row["secret_body_enc"]
    assert row["application_id"] is None and row["status"] == "queued"
    # Not journalled for the OPD webhooks.
    assert await notify_pool.fetchval("SELECT count(*) FROM event_journal") == 0

    assert await dispatcher.dispatch_once(notify_pool) == 1
    assert gateway.received[-1]["to"] == mobile
    assert gateway.received[-1]["text"] == (
        "Kode masuk MPP Anda: 482915. Berlaku 5 menit. "
        "Jangan berikan kode ini kepada siapa pun, termasuk petugas."
    )
    after = await notify_pool.fetchrow("SELECT * FROM delivery_log WHERE id = $1", row["id"])
    assert after["status"] == "delivered" and after["secret_body_enc"] is None
    assert "482915" not in repr(dict(after))

    english = _code_event(phone().e164, "000123", expires_in=timedelta(minutes=5), language="en")
    await _handle(notify_pool, notifier, english)
    gateway.statuses = [400]  # refused: dead, and the secret dropped as well
    assert await dispatcher.dispatch_once(notify_pool) == 1
    dead = await notify_pool.fetchrow(
        "SELECT * FROM delivery_log WHERE source_event_id = $1", english.id
    )
    assert dead["status"] == "dead" and dead["secret_body_enc"] is None
    assert dead["body"].startswith(f"Your MPP sign-in code: {REDACTED}. Valid for 5 minutes.")


async def test_notify_does_not_send_a_code_that_already_expired(
    notify_pool: asyncpg.Pool, gateway: Gateway
) -> None:
    notifier, dispatcher = parts(gateway, HandClock(datetime.now(UTC)))
    late = _code_event(phone().e164, "111111", expires_in=timedelta(seconds=-1))
    await _handle(notify_pool, notifier, late)
    assert await notify_pool.fetchval("SELECT count(*) FROM delivery_log") == 0
    assert await dispatcher.dispatch_once(notify_pool) == 0
