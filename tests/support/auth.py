"""Officers' bearer tokens for calling the services as the front desk, a
verifier, an OPD system and so on. Every suite mints them here, so a change
to the token's claims is made once."""

from __future__ import annotations

from mpp_shared.auth import mint_token
from mpp_shared.settings import DEV_JWT_SECRET

DEFAULT_COUNTER = "MPP-01"


def token(
    *roles: str,
    subject: str | None = None,
    counter: str | None = DEFAULT_COUNTER,
    opd: str | None = None,
    secret: str = DEV_JWT_SECRET,
    issuer: str = "mpp",
) -> str:
    """A token carrying `roles`, for `subject` (`officer-<first role>` unless
    given) at `counter` (none for systems such as an OPD's), speaking for
    `opd` (an `opd_system` client's OPD). `secret` and `issuer` are the
    services' development defaults unless given."""
    return mint_token(
        secret,
        subject=subject or f"officer-{roles[0]}",
        roles=list(roles),
        counter=counter,
        opd=opd,
        issuer=issuer,
    )


def auth(
    *roles: str,
    subject: str | None = None,
    counter: str | None = DEFAULT_COUNTER,
    opd: str | None = None,
) -> dict[str, str]:
    """The Authorization header of `token(*roles, subject=..., counter=..., opd=...)`."""
    return {"Authorization": f"Bearer {token(*roles, subject=subject, counter=counter, opd=opd)}"}
