"""Bearer JWTs with the roles of the architecture: who a token names
(`Principal`), minting and checking tokens. The route dependencies built on
them (`require_roles`, `PUBLIC`) are the HTTP edge's: `mpp_shared.web.auth`.

`python -m mpp_shared.auth --role verifier` mints a development token.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import jwt


class Role(StrEnum):
    FRONTDESK = "frontdesk"
    VERIFIER = "verifier"
    PRODUCTION = "production"
    PICKUP = "pickup"
    COMPLAINT_OFFICER = "complaint_officer"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    OPD_SYSTEM = "opd_system"
    # A resident signed in with a one-time code (intake's online application):
    # the token's subject is the citizen session, which holds the NIK.
    CITIZEN = "citizen"
    # A citizen channel relaying residents' own requests (notify's WhatsApp
    # assistant filing a complaint on the sender's behalf).
    CHANNEL = "channel"


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[Role]
    counter: str | None = None
    # The OPD an `opd_system` client speaks for (claim `opd`, e.g. DISDUKCAPIL):
    # it sees and answers only the complaints assigned to that OPD.
    opd: str | None = None

    def has_any(self, roles: frozenset[Role]) -> bool:
        return bool(self.roles & roles)


def mint_token(
    secret: str,
    *,
    subject: str,
    roles: list[str],
    counter: str | None = None,
    opd: str | None = None,
    issuer: str = "mpp",
    ttl_seconds: int = 12 * 3600,
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "roles": roles,
        "iss": issuer,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if counter:
        claims["counter"] = counter
    if opd:
        claims["opd"] = opd
    return jwt.encode(claims, secret, algorithm="HS256")


def decode_token(token: str, secret: str, issuer: str = "mpp") -> Principal:
    claims = jwt.decode(
        token,
        secret,
        algorithms=["HS256"],
        issuer=issuer,
        options={"require": ["exp", "sub", "iss"]},
    )
    roles = frozenset(Role(r) for r in claims.get("roles", []) if r in Role._value2member_map_)
    opd = claims.get("opd")
    return Principal(
        subject=str(claims["sub"]),
        roles=roles,
        counter=claims.get("counter"),
        opd=str(opd) if opd else None,
    )


def main(argv: list[str] | None = None) -> None:
    from mpp_shared.settings import ServiceSettings

    parser = argparse.ArgumentParser(description="Mint a bearer token for development")
    parser.add_argument("--role", required=True, action="append", choices=[r.value for r in Role])
    parser.add_argument("--sub", default=None, help="officer or client id")
    parser.add_argument("--counter", default=None, help="counter / desk id, e.g. MPP-01")
    parser.add_argument("--opd", default=None, help="the OPD an opd_system client speaks for")
    parser.add_argument("--hours", type=float, default=12)
    args = parser.parse_args(argv)
    settings = ServiceSettings()
    print(
        mint_token(
            settings.jwt_secret,
            subject=args.sub or f"dev-{args.role[0]}",
            roles=args.role,
            counter=args.counter,
            opd=args.opd,
            issuer=settings.jwt_issuer,
            ttl_seconds=int(args.hours * 3600),
        )
    )


if __name__ == "__main__":
    main()
