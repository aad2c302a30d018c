"""Bearer JWT authentication with the roles of the architecture.

Routes state who may call them: `require_roles(...)` for officers and machine
clients, `PUBLIC` for the few endpoints open without a token. A test walks
every route and checks each has one of the two.

`python -m mpp_shared.auth --role verifier` mints a development token.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer


class Role(StrEnum):
    FRONTDESK = "frontdesk"
    VERIFIER = "verifier"
    PRODUCTION = "production"
    PICKUP = "pickup"
    COMPLAINT_OFFICER = "complaint_officer"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    OPD_SYSTEM = "opd_system"


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[Role]
    counter: str | None = None

    def has_any(self, roles: frozenset[Role]) -> bool:
        return bool(self.roles & roles)


def mint_token(
    secret: str,
    *,
    subject: str,
    roles: list[str],
    counter: str | None = None,
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
    return Principal(subject=str(claims["sub"]), roles=roles, counter=claims.get("counter"))


_bearer = HTTPBearer(auto_error=False)


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=message, headers={"WWW-Authenticate": "Bearer"}
    )


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise _unauthorized("Token diperlukan / a bearer token is required")
    settings = request.app.state.settings
    try:
        return decode_token(credentials.credentials, settings.jwt_secret, settings.jwt_issuer)
    except jwt.PyJWTError as exc:
        raise _unauthorized(f"Token tidak sah / invalid token: {exc}") from exc


def require_roles(*roles: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """Dependency that admits a principal holding any of `roles` (admin always)."""
    allowed = frozenset(roles) | {Role.ADMIN}

    async def dependency(
        principal: Annotated[Principal, Depends(current_principal)],
    ) -> Principal:
        if not principal.has_any(allowed):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail="Peran Anda tidak diizinkan / your role may not do this: needs "
                + " or ".join(sorted(allowed)),
            )
        return principal

    dependency.required_roles = allowed  # type: ignore[attr-defined]
    return dependency


def _public() -> None:
    """Marks a route as deliberately open without a token."""


PUBLIC = Depends(_public)
PUBLIC_MARKER = _public


def main(argv: list[str] | None = None) -> None:
    from mpp_shared.settings import ServiceSettings

    parser = argparse.ArgumentParser(description="Mint a bearer token for development")
    parser.add_argument("--role", required=True, action="append", choices=[r.value for r in Role])
    parser.add_argument("--sub", default=None, help="officer or client id")
    parser.add_argument("--counter", default=None, help="counter / desk id, e.g. MPP-01")
    parser.add_argument("--hours", type=float, default=12)
    args = parser.parse_args(argv)
    settings = ServiceSettings()
    print(
        mint_token(
            settings.jwt_secret,
            subject=args.sub or f"dev-{args.role[0]}",
            roles=args.role,
            counter=args.counter,
            issuer=settings.jwt_issuer,
            ttl_seconds=int(args.hours * 3600),
        )
    )


if __name__ == "__main__":
    main()
