"""Who may call the complaints routes (role dependencies), and the caller of
the reporter's own routes, who may send a token or none."""

from __future__ import annotations

from typing import Annotated

import jwt
from fastapi import Depends, Request

from mpp_complaints.settings import ComplaintsSettings
from mpp_complaints.usecases.lifecycle import Caller
from mpp_shared.auth import Principal, Role
from mpp_shared.web import ApiError
from mpp_shared.web.auth import require_roles, token_verifier

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


async def settings_of(request: Request) -> ComplaintsSettings:
    settings: ComplaintsSettings = request.app.state.settings
    return settings


Settings = Annotated[ComplaintsSettings, Depends(settings_of)]


async def caller_of(request: Request) -> Caller:
    """The caller, as the use case asks for it: nobody without a token; a
    token is verified here (fetching the provider's keys if need be), and an
    invalid one is refused (401) only when the use case asks who calls."""
    header = request.headers.get("authorization", "")
    if not header:
        return lambda: None
    scheme, _, credentials = header.partition(" ")
    try:
        if scheme.lower() != "bearer":
            raise jwt.InvalidTokenError("not a bearer token")
        principal = await token_verifier(request).principal(credentials)
    except jwt.PyJWTError as exc:
        refusal = ApiError(401, "unauthorized", "Token tidak sah", f"invalid token: {exc}")

        def refuse() -> Principal | None:
            raise refusal

        return refuse
    return lambda: principal
