from typing import Annotated

from fastapi import Depends, Request

from mpp_shared.auth import Principal, Role, require_roles
from mpp_shared.pii import FieldCipher


async def get_cipher(request: Request) -> FieldCipher:
    cipher: FieldCipher = request.app.state.cipher
    return cipher


CipherDep = Annotated[FieldCipher, Depends(get_cipher)]
FrontDesk = Annotated[Principal, Depends(require_roles(Role.FRONTDESK))]
Verifier = Annotated[Principal, Depends(require_roles(Role.VERIFIER))]
Officer = Annotated[
    Principal,
    Depends(require_roles(Role.FRONTDESK, Role.VERIFIER, Role.SUPERVISOR, Role.PICKUP)),
]
