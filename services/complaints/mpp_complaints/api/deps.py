"""Who may call the complaints routes (role dependencies), and the caller of
the reporter's own routes, who may send a token or none."""

from __future__ import annotations

from typing import Annotated

import jwt
from fastapi import Depends, Request

from mpp_complaints.settings import ComplaintsSettings
from mpp_complaints.usecases.lifecycle import Caller
from mpp_shared.auth import Principal, Role, decode_token
from mpp_shared.web import ApiError
from mpp_shared.web.auth import require_roles

ComplaintOfficer = Annotated[
    Principal, Depends(require_roles(Role.COMPLAINT_OFFICER, Role.SUPERVISOR))
]
# Those who work on an assigned complaint: officers and the OPDs' systems.
OfficerOrOpd = Annotated[
    Principal,
    Depends(require_roles(Role.COMPLAINT_OFFICER, Role.SUPERVISOR, Role.OPD_SYSTEM)),
]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
Supervisor = Annotated[Principal, Depends(require_roles(Role.SUPERVISOR, Role.ADMIN))]


def settings_of(request: Request) -> ComplaintsSettings:
    settings: ComplaintsSettings = request.app.state.settings
    return settings


Settings = Annotated[ComplaintsSettings, Depends(settings_of)]


def optional_principal(request: Request) -> Principal | None:
    """The bearer's principal when a token is sent (401 when it is invalid)."""
    header = request.headers.get("authorization", "")
    if not header:
        return None
    scheme, _, credentials = header.partition(" ")
    settings = settings_of(request)
    try:
        if scheme.lower() != "bearer":
            raise jwt.InvalidTokenError("not a bearer token")
        return decode_token(credentials, settings.jwt_secret, settings.jwt_issuer)
    except jwt.PyJWTError as exc:
        raise ApiError(401, "unauthorized", "Token tidak sah", f"invalid token: {exc}") from exc


def caller_of(request: Request) -> Caller:
    """The caller, read from the token only when the use case asks."""
    return lambda: optional_principal(request)
