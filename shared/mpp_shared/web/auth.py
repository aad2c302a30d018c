"""Who may call a route: `require_roles(...)` for officers and machine
clients, `PUBLIC` for the few endpoints open without a token. A test walks
every route and checks each has one of the two."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mpp_shared.auth import Principal, Role
from mpp_shared.tokens import TokenVerifier

_bearer = HTTPBearer(auto_error=False)


def token_verifier(request: Request) -> TokenVerifier:
    """The app's verifier, built from its settings on first use and kept
    (with the identity provider's keys it caches) for the app's life."""
    state = request.app.state
    verifier: TokenVerifier | None = getattr(state, "token_verifier", None)
    if verifier is None:
        verifier = TokenVerifier.from_settings(state.settings)
        state.token_verifier = verifier
    return verifier


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
    try:
        return await token_verifier(request).principal(credentials.credentials)
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


async def _public() -> None:
    """Marks a route as deliberately open without a token."""


PUBLIC = Depends(_public)
PUBLIC_MARKER = _public
