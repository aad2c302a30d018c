"""The district's OpenID Connect provider as the services see it: its signing
keys (JWKS) and the officer a token it signed names.

- Keys are fetched from the JWKS (OIDC_JWKS_URL, else the `jwks_uri` of the
  issuer's /.well-known/openid-configuration) with an async HTTP client, so a
  fetch never blocks the event loop, and kept in memory: a request never
  fetches while its `kid` is cached and the set is younger than
  OIDC_JWKS_MAX_AGE_SECONDS.
- A `kid` not in the cache (the provider rotated its keys) fetches the set
  again, at most once per OIDC_JWKS_MIN_REFRESH_SECONDS: a flood of tokens
  naming unknown kids costs the provider one request per interval, and
  concurrent requests share one fetch.
- Only the asymmetric algorithms (RS256, ES256, EdDSA) are accepted, each only
  with a key of its own type; `iss`, `aud`, `exp` (and `nbf`) are checked with
  JWT_LEEWAY_SECONDS of clock skew.
- Roles come from a dotted claim path (Keycloak: `realm_access.roles`); names
  that are no role of the architecture are ignored.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from mpp_shared.auth import Principal, Role

ASYMMETRIC_ALGORITHMS = ("RS256", "ES256", "EdDSA")
DISCOVERY_PATH = "/.well-known/openid-configuration"


class UnknownKeyId(jwt.InvalidTokenError):
    """The token names a key the provider does not publish (or not yet fetched)."""


class JwksUnavailable(jwt.InvalidTokenError):
    """The provider's keys could not be fetched; the token cannot be checked."""


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    audience: str
    jwks_url: str | None = None  # None: discovered from the issuer
    roles_claim: str = "realm_access.roles"
    counter_claim: str = "counter"
    opd_claim: str = "opd"
    leeway_seconds: float = 30.0
    min_refresh_seconds: float = 30.0
    max_age_seconds: float = 3600.0
    http_timeout: float = 5.0


def claim_at(claims: dict[str, Any], path: str) -> Any:
    """The value at a dotted path (`realm_access.roles`), None when absent.
    A key holding a dot itself (`https://mpp.go.id/roles`) is found whole."""
    if not path:
        return None
    if path in claims:
        return claims[path]
    node: Any = claims
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def roles_from(value: Any) -> frozenset[Role]:
    """The architecture's roles among a claim's values (a list, or a
    space/comma separated string); anything else is ignored."""
    if isinstance(value, str):
        names: list[Any] = value.replace(",", " ").split()
    elif isinstance(value, list | tuple | set | frozenset):
        names = list(value)
    else:
        return frozenset()
    return frozenset(Role(n) for n in names if isinstance(n, str) and n in Role._value2member_map_)


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and str(value) else None


class JwksCache:
    """The provider's signing keys by `kid`, fetched as the module says."""

    def __init__(self, config: OidcConfig) -> None:
        self.config = config
        self._keys: dict[str, jwt.PyJWK] = {}
        self._jwks_url = config.jwks_url
        self._fetched_at: float | None = None  # monotonic, last successful fetch
        self._attempted_at: float | None = None  # monotonic, last attempt
        self._inflight: asyncio.Task[None] | None = None
        self.fetches = 0  # how many times the set was asked for (for tests and metrics)

    def cached(self, kid: str) -> jwt.PyJWK | None:
        """The key, only from memory (never fetches)."""
        return self._keys.get(kid) if not self._stale() else None

    async def key(self, kid: str) -> jwt.PyJWK:
        found = self.cached(kid)
        if found is not None:
            return found
        if self._may_fetch():
            await self._refresh()
        found = self._keys.get(kid)
        if found is None:
            raise UnknownKeyId(f"unknown key id {kid!r}")
        return found

    def _stale(self) -> bool:
        return (
            self._fetched_at is None
            or time.monotonic() - self._fetched_at > self.config.max_age_seconds
        )

    def _may_fetch(self) -> bool:
        if self._inflight is not None and not self._inflight.done():
            return True  # joining a fetch under way costs the provider nothing
        if self._attempted_at is None or self._stale():
            return True
        return time.monotonic() - self._attempted_at >= self.config.min_refresh_seconds

    def _start_refresh(self) -> asyncio.Task[None]:
        loop = asyncio.get_running_loop()
        task = self._inflight
        if task is None or task.done() or task.get_loop() is not loop:
            self._attempted_at = time.monotonic()
            task = loop.create_task(self._fetch())
            # A background fetch's failure is seen by the next caller, not logged as lost.
            task.add_done_callback(lambda done: done.cancelled() or done.exception())
            self._inflight = task
        return task

    async def _refresh(self) -> None:
        try:
            await asyncio.shield(self._start_refresh())
        except JwksUnavailable:
            if not self._keys:
                raise

    async def _fetch(self) -> None:
        self.fetches += 1
        try:
            async with httpx.AsyncClient(timeout=self.config.http_timeout) as client:
                if self._jwks_url is None:
                    self._jwks_url = await self._discover(client)
                answer = await client.get(self._jwks_url, headers={"Accept": "application/json"})
                answer.raise_for_status()
                document = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise JwksUnavailable(
                f"the identity provider's keys are unavailable: {type(exc).__name__}"
            ) from exc
        keys = {}
        for entry in document.get("keys", []) if isinstance(document, dict) else []:
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                continue
            kid = entry.get("kid")
            try:
                key = jwt.PyJWK(entry)
            except jwt.PyJWTError:
                continue  # a key type or algorithm this service does not speak
            if isinstance(kid, str) and key.algorithm_name in ASYMMETRIC_ALGORITHMS:
                keys[kid] = key
        self._keys = keys
        self._fetched_at = time.monotonic()

    async def _discover(self, client: httpx.AsyncClient) -> str:
        answer = await client.get(self.config.issuer.rstrip("/") + DISCOVERY_PATH)
        answer.raise_for_status()
        document = answer.json()
        if document.get("issuer") != self.config.issuer:
            raise ValueError("the discovery document names another issuer")
        return str(document["jwks_uri"])


class OidcVerifier:
    """Checks a token of the configured issuer and names its principal."""

    def __init__(self, config: OidcConfig, jwks: JwksCache | None = None) -> None:
        self.config = config
        self.jwks = jwks or JwksCache(config)

    async def principal(self, token: str) -> Principal:
        return self._check(token, await self.jwks.key(_kid(token)))

    def _check(self, token: str, key: jwt.PyJWK) -> Principal:
        claims = jwt.decode(
            token,
            key.key,
            algorithms=[key.algorithm_name],
            audience=self.config.audience,
            issuer=self.config.issuer,
            leeway=self.config.leeway_seconds,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
        config = self.config
        return Principal(
            subject=str(claims["sub"]),
            roles=roles_from(claim_at(claims, config.roles_claim)),
            counter=_text(claim_at(claims, config.counter_claim)),
            opd=_text(claim_at(claims, config.opd_claim)),
        )


def _kid(token: str) -> str:
    header = jwt.get_unverified_header(token)
    if header.get("alg") not in ASYMMETRIC_ALGORITHMS:
        raise jwt.InvalidAlgorithmError(f"algorithm {header.get('alg')!r} is not accepted")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise UnknownKeyId("the token names no key id (kid)")
    return kid
