"""A resident signed in with a one-time code (the online application):
the session, the code's rules, the wording of the sign-in. Pure: no I/O,
no clock (callers pass `now`)."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from mpp_shared.auth import Principal, Role

CitizenChannel = Literal["sms", "whatsapp"]
CitizenLanguage = Literal["id", "en"]

# The counter an online application is taken at (the principal's `counter`).
ONLINE_COUNTER = "ONLINE"
CODE_DIGITS = 6
MAX_WRONG_TRIES = 5


@dataclass(frozen=True)
class CitizenSession:
    """A signed-in resident: the NIK and phone the code was sent for. A
    session reaches only applications whose NIK AND phone match."""

    session_id: uuid.UUID
    nik: str
    nik_index: bytes
    phone: str
    phone_index: bytes
    channel: CitizenChannel
    language: CitizenLanguage
    expires_at: datetime
    # The NIK's and phone's blind index under every configured index key (the
    # active one first, which nik_index/phone_index are), so searches find
    # rows written under an older key while keys rotate.
    nik_indexes: tuple[bytes, ...] = ()
    phone_indexes: tuple[bytes, ...] = ()

    def nik_search(self) -> list[bytes]:
        return list(self.nik_indexes or (self.nik_index,))

    def phone_search(self) -> list[bytes]:
        return list(self.phone_indexes or (self.phone_index,))

    def principal(self) -> Principal:
        """Who acts in audit entries and use cases: `citizen:<session id>`."""
        return citizen_principal(self.session_id)


def citizen_principal(session_id: uuid.UUID) -> Principal:
    """Subject `citizen:<session id>`, role citizen, counter ONLINE."""
    return Principal(
        subject=f"citizen:{session_id}",
        roles=frozenset({Role.CITIZEN}),
        counter=ONLINE_COUNTER,
    )


def new_code() -> str:
    """A 6-digit one-time code from the system's secure random source."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def seconds_until(now: datetime, later: datetime) -> int:
    """Whole seconds (at least 1) from `now` until `later`: a Retry-After."""
    return max(1, int((later - now).total_seconds() + 0.999))
