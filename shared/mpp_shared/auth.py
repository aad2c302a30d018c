"""Bearer JWTs with the roles of the architecture: who a token names
(`Principal`), minting and checking tokens. The route dependencies built on
them (`require_roles`, `PUBLIC`) are the HTTP edge's: `mpp_shared.web.auth`.

A service accepts three kinds of token (`mpp_shared.tokens.TokenVerifier`):
- the district's OpenID Connect provider's (OIDC_ISSUER; `mpp_shared.oidc`):
  officers and OPD systems, in production the only kind carrying their roles;
- a token minted by one service for one purpose (`Purpose`): intake's citizen
  sessions, notify's `channel` token for complaints. Each is accepted only by
  the service it names (`aud`), only with its one role, and signed with a key
  not shared by all services;
- outside production, the HS256 development tokens signed with JWT_SECRET
  (`python -m mpp_shared.auth --role verifier` mints one): refused when
  MPP_ENV=production.
"""

from __future__ import annotations

import argparse
import base64
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


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


@dataclass(frozen=True)
class Purpose:
    """A token one service mints for one use: who mints it (`iss`), the one
    service that accepts it (`aud`), the one role it grants, how it is signed,
    and the setting of the accepting service holding the key that verifies it
    (a service without that setting never accepts such a token)."""

    issuer: str
    audience: str
    role: Role
    algorithm: str
    verifying_setting: str


# Intake signs its citizen sessions with CITIZEN_SESSION_SECRET, which only intake holds.
CITIZEN_SESSION = Purpose(
    "mpp-intake", "mpp-intake", Role.CITIZEN, "HS256", "citizen_session_secret"
)
# Notify signs with CHANNEL_TOKEN_PRIVATE_KEY (Ed25519); complaints verifies
# with CHANNEL_TOKEN_PUBLIC_KEY and so can verify, never mint.
CHANNEL_TOKEN = Purpose(
    "mpp-notify", "mpp-complaints", Role.CHANNEL, "EdDSA", "channel_token_public_key"
)
PURPOSES = (CITIZEN_SESSION, CHANNEL_TOKEN)


def verifying_key(purpose: Purpose, key: str) -> Any:
    """The key of a `Purpose`'s verifying setting as the JWT library takes it."""
    if purpose.algorithm == "EdDSA":
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(key))
    return key


def _signing_key(purpose: Purpose, key: str) -> Any:
    if purpose.algorithm == "EdDSA":
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(key))
    return key


def generate_channel_keypair() -> tuple[str, str]:
    """A fresh (private, public) Ed25519 pair for channel tokens, base64 raw bytes."""
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes_raw()
    return base64.b64encode(raw).decode(), base64.b64encode(
        private.public_key().public_bytes_raw()
    ).decode()


def mint_purpose_token(
    purpose: Purpose,
    key: str,
    *,
    subject: str,
    counter: str | None = None,
    ttl_seconds: int,
) -> str:
    """A token for `purpose`, signed with `key` (the HS256 secret, or the
    base64 Ed25519 private key)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "roles": [purpose.role.value],
        "iss": purpose.issuer,
        "aud": purpose.audience,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if counter:
        claims["counter"] = counter
    return jwt.encode(claims, _signing_key(purpose, key), algorithm=purpose.algorithm)


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
