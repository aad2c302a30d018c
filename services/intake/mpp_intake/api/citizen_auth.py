"""Who a citizen route serves: the live citizen session named by a token
with role `citizen` (as `Authorization: Bearer`, or the HttpOnly cookie
`mpp_citizen` the sign-in pages set).

- no / bad / expired token, or a session ended or expired: 401 (a browser
  on the pages, without a bearer token, is sent to the sign-in page instead);
- a valid token without the citizen role: 403, like `require_roles`.

`current_citizen.required_roles` lets the route-protection test and the
authorization matrix see it as role-protected."""

from __future__ import annotations

import uuid
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mpp_intake.domain.citizen import CitizenSession
from mpp_intake.usecases import citizen_signin
from mpp_shared.auth import Principal, Role
from mpp_shared.web.auth import token_verifier
from mpp_shared.web.pages import page_language

CITIZEN_COOKIE = "mpp_citizen"
SIGN_IN_PAGE = "/online/masuk"
CITIZEN_ROLES = frozenset({Role.CITIZEN})

_bearer = HTTPBearer(auto_error=False)


def _from_browser(request: Request, credentials: HTTPAuthorizationCredentials | None) -> bool:
    if credentials is not None:
        return False
    return CITIZEN_COOKIE in request.cookies or "text/html" in request.headers.get("accept", "")


def _refuse(request: Request, browser: bool, message: str) -> HTTPException:
    if browser:
        target = SIGN_IN_PAGE + ("?lang=en" if page_language(request) == "en" else "")
        return HTTPException(
            status.HTTP_303_SEE_OTHER, detail=message, headers={"Location": target}
        )
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=message, headers={"WWW-Authenticate": "Bearer"}
    )


async def _principal(request: Request, raw: str | None, browser: bool) -> Principal:
    if not raw:
        raise _refuse(request, browser, "Silakan masuk dengan kode / please sign in with a code")
    try:
        return await token_verifier(request).principal(raw)
    except jwt.PyJWTError as exc:
        raise _refuse(request, browser, f"Token tidak sah / invalid token: {exc}") from exc


async def current_citizen(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> CitizenSession:
    browser = _from_browser(request, credentials)
    raw = credentials.credentials if credentials else request.cookies.get(CITIZEN_COOKIE)
    principal = await _principal(request, raw, browser)
    if not principal.has_any(CITIZEN_ROLES):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="Peran Anda tidak diizinkan / your role may not do this: needs "
            + " or ".join(sorted(CITIZEN_ROLES)),
        )
    try:
        session_id = uuid.UUID(principal.subject)
    except ValueError:
        session_id = None
    session = (
        await citizen_signin.current_session(
            request.app.state.runtime.pool, request.app.state.cipher, session_id
        )
        if session_id is not None
        else None
    )
    if session is None:
        raise _refuse(
            request,
            browser,
            "Sesi sudah berakhir; silakan masuk lagi / the session has ended; please sign in again",
        )
    return session


current_citizen.required_roles = CITIZEN_ROLES  # type: ignore[attr-defined]
