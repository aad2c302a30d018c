"""What intake's routes depend on: the field cipher, the settings, the
public pages, and who may call them (as `Annotated` aliases)."""

from typing import Annotated

from fastapi import Depends, Request

from mpp_intake.api.citizen_auth import current_citizen
from mpp_intake.domain.citizen import CitizenSession
from mpp_shared.auth import Principal, Role
from mpp_shared.pii import FieldCipher
from mpp_shared.settings import ServiceSettings
from mpp_shared.web.auth import require_roles


async def get_cipher(request: Request) -> FieldCipher:
    cipher: FieldCipher = request.app.state.cipher
    return cipher


async def get_settings(request: Request) -> ServiceSettings:
    settings: ServiceSettings = request.app.state.settings
    return settings


CipherDep = Annotated[FieldCipher, Depends(get_cipher)]
SettingsDep = Annotated[ServiceSettings, Depends(get_settings)]
FrontDesk = Annotated[Principal, Depends(require_roles(Role.FRONTDESK))]
Verifier = Annotated[Principal, Depends(require_roles(Role.VERIFIER))]
Officer = Annotated[
    Principal,
    Depends(require_roles(Role.FRONTDESK, Role.VERIFIER, Role.SUPERVISOR, Role.PICKUP)),
]
# Who prints an application's receipt: the counter, the verifier, a supervisor.
ReceiptPrinter = Annotated[
    Principal,
    Depends(require_roles(Role.FRONTDESK, Role.VERIFIER, Role.SUPERVISOR)),
]
Supervisor = Annotated[Principal, Depends(require_roles(Role.SUPERVISOR))]
DesaOrSupervisor = Annotated[Principal, Depends(require_roles(Role.FRONTDESK, Role.SUPERVISOR))]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
# A resident signed in with a one-time code (token as Bearer, or the pages'
# HttpOnly cookie `mpp_citizen`): reaches only its own applications.
CitizenDep = Annotated[CitizenSession, Depends(current_citizen)]
