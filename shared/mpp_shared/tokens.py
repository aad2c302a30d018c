"""Every kind of token one service accepts, told apart by its issuer
(mpp_shared.auth's module docstring lists them): the identity provider's
(`mpp_shared.oidc`), the services' own for one purpose, and, outside
production only, the HS256 development tokens."""

from __future__ import annotations

from typing import Any

import jwt

from mpp_shared.auth import PURPOSES, Principal, Purpose, decode_token, verifying_key
from mpp_shared.oidc import OidcConfig, OidcVerifier


class TokenVerifier:
    """Every kind of token one service accepts (see the module), chosen by the
    token's issuer; whatever fails is a `jwt.PyJWTError` (401 at the edge)."""

    def __init__(
        self,
        *,
        oidc: OidcVerifier | None = None,
        purposes: dict[Purpose, str] | None = None,
        dev_secret: str | None = None,
        dev_issuer: str = "mpp",
        leeway_seconds: float = 0.0,
    ) -> None:
        self.oidc = oidc
        self.purposes = {p.issuer: (p, verifying_key(p, k)) for p, k in (purposes or {}).items()}
        self.dev_secret = dev_secret
        self.dev_issuer = dev_issuer
        self.leeway_seconds = leeway_seconds

    @classmethod
    def from_settings(cls, settings: Any) -> TokenVerifier:
        """The verifier of a service's settings (any object with the
        settings' attribute names; those absent take their defaults)."""
        oidc = None
        issuer = getattr(settings, "oidc_issuer", None)
        leeway = float(getattr(settings, "jwt_leeway_seconds", 30.0))
        if issuer:
            oidc = OidcVerifier(
                OidcConfig(
                    issuer=issuer,
                    audience=settings.token_audience(),
                    jwks_url=settings.oidc_jwks_url or None,
                    roles_claim=settings.oidc_roles_claim,
                    counter_claim=settings.oidc_counter_claim,
                    opd_claim=settings.oidc_opd_claim,
                    leeway_seconds=leeway,
                    min_refresh_seconds=settings.oidc_jwks_min_refresh_seconds,
                    max_age_seconds=settings.oidc_jwks_max_age_seconds,
                    http_timeout=settings.oidc_http_timeout,
                )
            )
        purposes = {
            p: getattr(settings, p.verifying_setting)
            for p in PURPOSES
            if getattr(settings, p.verifying_setting, None)
        }
        production = getattr(settings, "mpp_env", "development") == "production"
        return cls(
            oidc=oidc,
            purposes=purposes,
            dev_secret=None if production else settings.jwt_secret,
            dev_issuer=getattr(settings, "jwt_issuer", "mpp"),
            leeway_seconds=leeway,
        )

    async def principal(self, token: str) -> Principal:
        """Who `token` names; the provider's keys are fetched when needed."""
        issuer = _issuer(token)
        if self.oidc is not None and issuer == self.oidc.config.issuer:
            return await self.oidc.principal(token)
        return self._local(token, issuer)

    def _local(self, token: str, issuer: str | None) -> Principal:
        if issuer in self.purposes:
            purpose, key = self.purposes[issuer]
            claims = jwt.decode(
                token,
                key,
                algorithms=[purpose.algorithm],
                audience=purpose.audience,
                issuer=purpose.issuer,
                leeway=self.leeway_seconds,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
            counter = claims.get("counter")
            return Principal(
                subject=str(claims["sub"]),
                roles=frozenset({purpose.role}),
                counter=str(counter) if counter else None,
            )
        if self.dev_secret is None:
            raise jwt.InvalidIssuerError(f"tokens of issuer {issuer!r} are not accepted")
        return decode_token(token, self.dev_secret, self.dev_issuer)


def _issuer(token: str) -> str | None:
    issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
    return issuer if isinstance(issuer, str) else None
