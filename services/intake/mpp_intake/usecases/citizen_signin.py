"""Citizen sign-in without an account: NIK + phone -> a one-time code sent
by notify (SMS or WhatsApp) -> a short-lived citizen session.

- The code (6 digits, `secrets`) is kept only as a keyed hash bound to its
  request; it travels to notify sealed (`SignInCodeRequestedV1` through the
  outbox), never in clear on the topic, in a log or a span.
- It expires after `CITIZEN_CODE_TTL_SECONDS`; 5 wrong tries end it; a new
  code for the same NIK and phone replaces the live one.
- Rate limits per NIK, per phone and per client address are counted in
  PostgreSQL (every replica sees the same counts) and answered with 429 +
  Retry-After.
- The answer to a code request is the same whether or not the NIK is known.
- Every request, sign-in, failure and sign-out is audited (no clear values).
"""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from mpp_intake.domain.citizen import (
    MAX_WRONG_TRIES,
    ONLINE_COUNTER,
    CitizenChannel,
    CitizenLanguage,
    CitizenSession,
    citizen_principal,
    new_code,
    seconds_until,
)
from mpp_intake.settings import IntakeSettings
from mpp_intake.store import citizen_signin as store
from mpp_intake.usecases.history import SOURCE
from mpp_shared import audit, clock
from mpp_shared.auth import CITIZEN_SESSION, Principal, mint_purpose_token
from mpp_shared.errors import Invalid, TooManyRequests
from mpp_shared.events import build_event
from mpp_shared.events.schemas import SignInCodeRequestedV1
from mpp_shared.messaging.outbox import enqueue
from mpp_shared.pii import FieldCipher, seal_for_notify

# Expired codes and sessions are kept a day, then purged.
KEPT_AFTER_END = timedelta(days=1)


@dataclass(frozen=True)
class CodeRequested:
    request_id: uuid.UUID
    channel: CitizenChannel
    expires_at: datetime


@dataclass(frozen=True)
class SessionOpened:
    token: str
    expires_at: datetime
    session_id: uuid.UUID


def _signin_actor(request_id: uuid.UUID) -> Principal:
    """Who the audit names before there is a session: the sign-in request."""
    return Principal(subject=f"citizen-signin:{request_id}", roles=frozenset(), counter=None)


def _too_many(wait: int) -> TooManyRequests:
    return TooManyRequests(
        "rate_limited",
        "Terlalu banyak permintaan kode; coba lagi sebentar lagi",
        "Too many code requests; try again shortly",
        retry_after=wait,
    )


def wrong_code() -> Invalid:
    """One answer for a wrong, expired, used or unknown code: nothing to tell them apart."""
    return Invalid.field(
        "code",
        "code_invalid",
        "kode salah atau sudah tidak berlaku; periksa pesan terakhir atau minta kode baru",
        "the code is wrong or no longer valid; check the latest message or ask for a new code",
    )


async def _over_limit(
    conn: asyncpg.Connection,
    limits: list[tuple[str, bytes, int]],
    *,
    window: timedelta,
    now: datetime,
) -> int | None:
    """Count this attempt on each (scope, key, limit); the seconds to wait if
    any is over its limit (then nothing is counted)."""
    since = now - window
    waits = []
    for scope, key, limit in limits:
        count, oldest = await store.attempts_in_window(conn, scope, key, since)
        if count >= limit:
            waits.append(seconds_until(now, (oldest or now) + window))
    if waits:
        return max(waits)
    for scope, key, _limit in limits:
        await store.count_attempt(conn, scope, key, now)
    return None


async def request_code(
    pool: asyncpg.Pool,
    *,
    settings: IntakeSettings,
    cipher: FieldCipher,
    nik: str,
    phone: str,
    channel: CitizenChannel,
    language: CitizenLanguage,
    client_address: str,
) -> CodeRequested:
    """Send a new code to `phone` (NIK and phone already checked). The same
    answer whether or not the NIK has ever applied; refuses (TooManyRequests)
    past a limit."""
    now = clock.now()
    request_id = uuid.uuid4()
    code = new_code()
    expires_at = now + timedelta(seconds=settings.citizen_code_ttl_seconds)
    actor = _signin_actor(request_id)
    async with pool.acquire() as conn, conn.transaction():
        await store.purge(
            conn,
            counts_before=now - timedelta(seconds=settings.citizen_code_window_seconds),
            ended_before=now - KEPT_AFTER_END,
        )
        wait = await _over_limit(
            conn,
            [
                (
                    "code_nik",
                    cipher.blind_index(nik, context="rate:nik"),
                    settings.citizen_codes_per_nik,
                ),
                (
                    "code_phone",
                    cipher.blind_index(phone, context="rate:phone"),
                    settings.citizen_codes_per_phone,
                ),
                (
                    "code_address",
                    cipher.blind_index(client_address, context="rate:address"),
                    settings.citizen_codes_per_address,
                ),
            ],
            window=timedelta(seconds=settings.citizen_code_window_seconds),
            now=now,
        )
        if wait is None:
            await store.insert_code(
                conn,
                store.NewCode(
                    id=request_id,
                    nik_enc=cipher.encrypt(nik, context="nik"),
                    nik_index=cipher.blind_index(nik, context="nik"),
                    phone_enc=cipher.encrypt(phone, context="phone"),
                    phone_index=cipher.blind_index(phone, context="phone"),
                    channel=channel,
                    language=language,
                    code_hash=_code_hash(cipher, request_id, code),
                    created_at=now,
                    expires_at=expires_at,
                ),
            )
            data = SignInCodeRequestedV1(
                request_id=request_id,
                channel=channel,
                language=language,
                contact_sealed=seal_for_notify(
                    {"phone": phone}, settings.notify_seal_public_key, settings.notify_seal_key_id
                ),
                code_sealed=seal_for_notify(
                    {"code": code}, settings.notify_seal_public_key, settings.notify_seal_key_id
                ),
                expires_at=expires_at,
            )
            event = build_event(data, source=SOURCE, subject=str(request_id))
            await enqueue(conn, event, topic=data.topic, key=str(request_id))
        await audit.record(
            conn,
            actor,
            action="citizen.signin_code.request" if wait is None else "citizen.signin_code.limited",
            target_type="citizen_signin",
            target_id=str(request_id),
            detail={"channel": channel},
        )
    if wait is not None:
        raise _too_many(wait)
    return CodeRequested(request_id=request_id, channel=channel, expires_at=expires_at)


def _code_hash(
    cipher: FieldCipher, request_id: uuid.UUID, code: str, stored: bytes | None = None
) -> bytes:
    """The code's keyed hash; under the index key of `stored` when comparing
    (a code made just before an index key rotated still opens)."""
    context = f"signin-code:{request_id}"
    if stored is None:
        return cipher.blind_index(code, context=context)
    return cipher.blind_index_like(stored, code, context=context)


async def open_session(
    pool: asyncpg.Pool,
    *,
    settings: IntakeSettings,
    cipher: FieldCipher,
    request_id: uuid.UUID | None,
    nik: str | None,
    phone: str | None,
    code: str,
    client_address: str,
) -> SessionOpened:
    """Exchange a code for a session token: by the request id, or by the NIK
    and phone it was sent for (the latest code). Refuses (Invalid, one
    answer for every failure) a wrong, expired, used or unknown code; the
    5th wrong try ends the code; (TooManyRequests) past the address limit."""
    now = clock.now()
    session_id = uuid.uuid4()
    expires_at = now + timedelta(seconds=settings.citizen_session_ttl_seconds)
    outcome = "wrong_code"
    async with pool.acquire() as conn, conn.transaction():
        wait = await _over_limit(
            conn,
            [
                (
                    "exchange_address",
                    cipher.blind_index(client_address, context="rate:address"),
                    settings.citizen_exchanges_per_address,
                )
            ],
            window=timedelta(seconds=settings.citizen_code_window_seconds),
            now=now,
        )
        row = None
        if wait is not None:
            outcome = "limited"
        elif request_id is not None:
            row = await store.code_by_id(conn, request_id)
        elif nik is not None and phone is not None:
            row = await store.latest_code(
                conn,
                cipher.blind_indexes(nik, context="nik"),
                cipher.blind_indexes(phone, context="phone"),
            )
        target = str(row["id"]) if row is not None else str(request_id or "unknown")
        if row is not None and (row["ended_at"] is not None or row["expires_at"] <= now):
            outcome = "code_ended"
        elif row is not None:
            if hmac.compare_digest(
                _code_hash(cipher, row["id"], code, row["code_hash"]), row["code_hash"]
            ):
                outcome = "signed_in"
                await store.open_session(
                    conn, session_id=session_id, code_id=row["id"], at=now, expires_at=expires_at
                )
            else:
                tries = await store.wrong_try(conn, row["id"], now, MAX_WRONG_TRIES)
                outcome = "code_ended_by_wrong_tries" if tries >= MAX_WRONG_TRIES else "wrong_code"
        signed_in = outcome == "signed_in"
        await audit.record(
            conn,
            citizen_principal(session_id)
            if signed_in
            else _signin_actor(row["id"] if row else uuid.UUID(int=0)),
            action="citizen.signin" if signed_in else "citizen.signin.failed",
            target_type="citizen_signin",
            target_id=target,
            detail={"outcome": outcome} if not signed_in else {"session_id": str(session_id)},
        )
    if wait is not None:
        raise _too_many(wait)
    if outcome != "signed_in":
        raise wrong_code()
    # Signed with intake's own secret: accepted by intake only, as `citizen` only.
    token = mint_purpose_token(
        CITIZEN_SESSION,
        settings.citizen_session_secret,
        subject=str(session_id),
        counter=ONLINE_COUNTER,
        ttl_seconds=settings.citizen_session_ttl_seconds,
    )
    return SessionOpened(token=token, expires_at=expires_at, session_id=session_id)


async def current_session(
    pool: asyncpg.Pool, cipher: FieldCipher, session_id: uuid.UUID
) -> CitizenSession | None:
    """The live session (not expired, not ended), its NIK and phone opened."""
    row = await store.live_session(pool, session_id, clock.now())
    if row is None:
        return None
    nik = cipher.decrypt(row["nik_enc"], context="nik")
    phone = cipher.decrypt(row["phone_enc"], context="phone")
    return CitizenSession(
        session_id=row["id"],
        nik=nik,
        nik_index=cipher.blind_index(nik, context="nik"),
        phone=phone,
        phone_index=cipher.blind_index(phone, context="phone"),
        nik_indexes=tuple(cipher.blind_indexes(nik, context="nik")),
        phone_indexes=tuple(cipher.blind_indexes(phone, context="phone")),
        channel=row["channel"],
        language=row["language"],
        expires_at=row["expires_at"],
    )


async def end_session(pool: asyncpg.Pool, session: CitizenSession) -> None:
    """Sign out: the session's token is refused from now on."""
    async with pool.acquire() as conn, conn.transaction():
        if await store.end_session(conn, session.session_id, clock.now()):
            await audit.record(
                conn,
                session.principal(),
                action="citizen.signout",
                target_type="citizen_session",
                target_id=str(session.session_id),
            )
