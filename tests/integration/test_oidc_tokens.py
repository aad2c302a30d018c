"""Tokens of the district's identity provider, checked against its JWKS
served by a real HTTP server on loopback (tests.support.oidc) with keys made
in the test, through the services' own route dependency (`require_roles`)
and a service's settings; and the tokens services mint themselves.

- a valid token of each algorithm (RS256, ES256, EdDSA) is accepted with its
  roles, counter and OPD, with no restart after the provider rotates a key;
- another audience, another issuer, an unknown `kid`, alg `none` or HS256,
  a token expired beyond the leeway: 401 with WWW-Authenticate: Bearer;
- the JWKS is fetched once for many requests, and a flood of unknown kids
  fetches it at most once per OIDC_JWKS_MIN_REFRESH_SECONDS;
- in production the development HS256 tokens are refused;
- intake's citizen sessions and notify's channel tokens carry their one
  role, for their one service, and cannot be minted with the shared secret.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import httpx
import jwt
import pytest
from fastapi import Depends, FastAPI

from mpp_complaints.settings import ComplaintsSettings
from mpp_intake.settings import IntakeSettings
from mpp_notify.settings import NotifySettings
from mpp_shared.auth import (
    CHANNEL_TOKEN,
    CITIZEN_SESSION,
    Principal,
    Role,
    generate_channel_keypair,
    mint_purpose_token,
    mint_token,
)
from mpp_shared.settings import DEV_JWT_SECRET, ServiceSettings
from mpp_shared.web.auth import require_roles
from tests.support.oidc import ALGORITHMS, Provider, SigningKey

AUDIENCE = "mpp-documents"


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    found = Provider.start()
    yield found
    found.stop()


def _settings(provider: Provider, **values: Any) -> ServiceSettings:
    return ServiceSettings(
        service_name="documents",
        oidc_issuer=provider.issuer,
        oidc_jwks_min_refresh_seconds=values.pop("min_refresh", 30.0),
        **values,
    )


def _app(settings: Any) -> FastAPI:
    app = FastAPI()
    app.state.settings = settings

    @app.get("/who")
    async def who(
        principal: Annotated[Principal, Depends(require_roles(Role.VERIFIER, Role.OPD_SYSTEM))],
    ) -> dict[str, Any]:
        return {
            "subject": principal.subject,
            "roles": sorted(principal.roles),
            "counter": principal.counter,
            "opd": principal.opd,
        }

    return app


async def _client(settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        yield client


@pytest.fixture
async def service(provider: Provider) -> AsyncIterator[httpx.AsyncClient]:
    """A fresh service (empty key cache) trusting the provider."""
    async for client in _client(_settings(provider)):
        yield client


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _refused(client: httpx.AsyncClient, token: str) -> str:
    answer = await client.get("/who", headers=_bearer(token))
    assert answer.status_code == 401, answer.text
    assert answer.headers["www-authenticate"] == "Bearer"
    detail: str = answer.json()["detail"]
    assert detail.startswith("Token tidak sah / invalid token"), detail
    return detail


# --- accepted ----------------------------------------------------------------


@pytest.mark.parametrize("alg", ALGORITHMS)
async def test_a_token_of_each_algorithm_is_accepted_with_its_claims(
    alg: str, provider: Provider, service: httpx.AsyncClient
) -> None:
    token = provider.token(
        "verifier", "uma_authorization", audience=AUDIENCE, alg=alg, counter="MPP-07"
    )
    answer = await service.get("/who", headers=_bearer(token))
    assert answer.status_code == 200, answer.text
    # Keycloak's own default roles are no roles of the architecture: ignored.
    assert answer.json() == {
        "subject": "officer-oidc",
        "roles": ["verifier"],
        "counter": "MPP-07",
        "opd": None,
    }

    opd = provider.token("opd_system", audience=AUDIENCE, alg=alg, opd="DISDUKCAPIL")
    answer = await service.get("/who", headers=_bearer(opd))
    assert answer.status_code == 200, answer.text
    assert answer.json()["opd"] == "DISDUKCAPIL"


async def test_a_valid_token_without_an_allowed_role_is_forbidden(
    provider: Provider, service: httpx.AsyncClient
) -> None:
    answer = await service.get("/who", headers=_bearer(provider.token("pickup", audience=AUDIENCE)))
    assert answer.status_code == 403, answer.text


async def test_roles_and_counter_from_configured_claims(provider: Provider) -> None:
    settings = _settings(
        provider,
        oidc_roles_claim="resource_access.mpp-documents.roles",
        oidc_counter_claim="mpp.loket",
    )
    token = provider.token(
        audience=AUDIENCE,
        resource_access={"mpp-documents": {"roles": ["verifier"]}},
        mpp={"loket": "KEC-PARE"},
    )
    async for client in _client(settings):
        answer = await client.get("/who", headers=_bearer(token))
    assert answer.status_code == 200, answer.text
    assert answer.json()["roles"] == ["verifier"]
    assert answer.json()["counter"] == "KEC-PARE"


async def test_the_jwks_is_not_fetched_per_request(
    provider: Provider, service: httpx.AsyncClient
) -> None:
    before = provider.jwks_requests, provider.discovery_requests
    tokens = [provider.token("verifier", audience=AUDIENCE, alg=alg) for alg in ALGORITHMS]
    answers = await asyncio.gather(
        *(service.get("/who", headers=_bearer(tokens[i % 3])) for i in range(60))
    )
    assert {a.status_code for a in answers} == {200}
    # Concurrent first requests share one discovery and one JWKS fetch.
    assert provider.jwks_requests - before[0] == 1
    assert provider.discovery_requests - before[1] == 1


async def test_a_rotated_key_is_picked_up_without_a_restart(provider: Provider) -> None:
    async for client in _client(_settings(provider, min_refresh=0.0)):
        old = provider.token("verifier", audience=AUDIENCE, alg="ES256")
        assert (await client.get("/who", headers=_bearer(old))).status_code == 200
        fetched = provider.jwks_requests

        provider.rotate("ES256")  # the provider publishes a new kid, drops the old
        new = provider.token("verifier", audience=AUDIENCE, alg="ES256")
        answer = await client.get("/who", headers=_bearer(new))
        assert answer.status_code == 200, answer.text
        assert provider.jwks_requests == fetched + 1
        # The new key is cached in turn: no fetch per request.
        for _ in range(5):
            assert (await client.get("/who", headers=_bearer(new))).status_code == 200
        assert provider.jwks_requests == fetched + 1


# --- refused -----------------------------------------------------------------


async def test_another_audience_is_refused(provider: Provider, service: httpx.AsyncClient) -> None:
    detail = await _refused(service, provider.token("admin", audience="mpp-intake"))
    assert "audience" in detail.lower()


async def test_another_issuer_is_refused(provider: Provider, service: httpx.AsyncClient) -> None:
    # Signed by the provider's own key, but naming another issuer.
    token = provider.token("admin", audience=AUDIENCE, issuer=provider.issuer + "-other")
    await _refused(service, token)


async def test_an_unknown_kid_is_refused_and_a_flood_costs_one_fetch(provider: Provider) -> None:
    async for client in _client(_settings(provider, min_refresh=60.0)):
        good = provider.token("verifier", audience=AUDIENCE)
        assert (await client.get("/who", headers=_bearer(good))).status_code == 200
        fetched = provider.jwks_requests
        stranger = Provider.unpublished_key("RS256")
        floods = [
            provider.token("admin", audience=AUDIENCE, key=Provider.unpublished_key("EdDSA"))
            for _ in range(3)
        ] + [provider.token("admin", audience=AUDIENCE, key=stranger)] * 20
        for token in floods:
            assert "unknown key id" in await _refused(client, token)
        # The first unknown kid may ask again (a minute after the first fetch
        # it may not): at most one fetch for the whole flood.
        assert provider.jwks_requests - fetched <= 1


async def test_a_token_signed_by_the_right_kid_with_another_key_is_refused(
    provider: Provider, service: httpx.AsyncClient
) -> None:
    impostor = Provider.unpublished_key("RS256").private
    key = SigningKey(provider.keys["RS256"].kid, "RS256", impostor)
    await _refused(service, provider.token("admin", audience=AUDIENCE, key=key))


async def test_an_expired_token_is_refused_beyond_the_leeway(
    provider: Provider, service: httpx.AsyncClient
) -> None:
    # Default leeway 30 s: 10 s late passes, 90 s late does not.
    within = provider.token("verifier", audience=AUDIENCE, ttl_seconds=-10)
    assert (await service.get("/who", headers=_bearer(within))).status_code == 200
    detail = await _refused(service, provider.token("verifier", audience=AUDIENCE, ttl_seconds=-90))
    assert "expired" in detail.lower()


async def test_alg_none_and_hs256_with_the_issuer_are_refused(
    provider: Provider, service: httpx.AsyncClient
) -> None:
    now = int(time.time())
    claims = {
        "iss": provider.issuer,
        "aud": AUDIENCE,
        "sub": "x",
        "exp": now + 60,
        "realm_access": {"roles": ["admin"]},
    }
    kid = provider.keys["RS256"].kid
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": kid})  # type: ignore[arg-type]
    await _refused(service, unsigned)
    # HS256 "signed" with the public key of the JWKS (the classic confusion).
    public_pem = provider.keys["RS256"].jwk()["n"]
    confused = jwt.encode(claims, public_pem, algorithm="HS256", headers={"kid": kid})
    await _refused(service, confused)
    await _refused(service, jwt.encode(claims, DEV_JWT_SECRET, algorithm="HS256"))


async def test_production_refuses_the_development_tokens(provider: Provider) -> None:
    # The secrets' refusal in production is the unit tests' (test_auth_settings).
    settings = _settings(provider).model_copy(update={"mpp_env": "production"})
    dev = mint_token(DEV_JWT_SECRET, subject="dev", roles=["admin"])
    async for client in _client(settings):
        detail = await _refused(client, dev)
        assert "issuer" in detail.lower()
        # The provider's tokens still work there.
        good = provider.token("verifier", audience=AUDIENCE, alg="EdDSA")
        assert (await client.get("/who", headers=_bearer(good))).status_code == 200
    # Outside production both kinds are accepted.
    async for client in _client(_settings(provider)):
        assert (await client.get("/who", headers=_bearer(dev))).status_code == 200


async def test_an_unreachable_provider_refuses_with_401(provider: Provider) -> None:
    settings = _settings(provider, oidc_jwks_url="http://127.0.0.1:9/jwks", oidc_http_timeout=1)
    async for client in _client(settings):
        detail = await _refused(client, provider.token("verifier", audience=AUDIENCE))
        assert "unavailable" in detail


# --- tokens the services mint themselves ------------------------------------


async def test_a_citizen_session_is_accepted_by_intake_only_and_as_citizen_only() -> None:
    intake = IntakeSettings()
    token = mint_purpose_token(
        CITIZEN_SESSION, intake.citizen_session_secret, subject="s-1", ttl_seconds=60
    )
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["aud"] == "mpp-intake" and claims["roles"] == ["citizen"]
    async for client in _client(intake):
        # Intake knows it: a citizen, not a verifier (403, not 401).
        assert (await client.get("/who", headers=_bearer(token))).status_code == 403
    for other in (
        ComplaintsSettings(),
        NotifySettings(),
        ServiceSettings(service_name="documents"),
    ):
        async for client in _client(other):
            await _refused(client, token)


async def test_a_citizen_session_forged_with_the_shared_secret_is_refused() -> None:
    forged = jwt.encode(
        {
            "iss": CITIZEN_SESSION.issuer,
            "aud": CITIZEN_SESSION.audience,
            "sub": "s",
            "exp": int(time.time()) + 60,
            "roles": ["admin"],
        },
        DEV_JWT_SECRET,
        algorithm="HS256",
    )
    async for client in _client(IntakeSettings()):
        await _refused(client, forged)


async def test_a_channel_token_is_accepted_by_complaints_only_with_notifys_key() -> None:
    notify = NotifySettings()
    token = mint_purpose_token(
        CHANNEL_TOKEN, notify.channel_token_private_key, subject="bot", ttl_seconds=120
    )
    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"
    verifier_app = FastAPI()
    verifier_app.state.settings = ComplaintsSettings()

    @verifier_app.get("/channel")
    async def channel(
        principal: Annotated[Principal, Depends(require_roles(Role.CHANNEL))],
    ) -> list[str]:
        return sorted(principal.roles)

    transport = httpx.ASGITransport(app=verifier_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        answer = await client.get("/channel", headers=_bearer(token))
        assert answer.status_code == 200 and answer.json() == ["channel"], answer.text
        # The channel role alone, whatever a forger writes: another key is refused.
        other_private, _ = generate_channel_keypair()
        forged = mint_purpose_token(CHANNEL_TOKEN, other_private, subject="bot", ttl_seconds=120)
        assert (await client.get("/channel", headers=_bearer(forged))).status_code == 401
    for other in (IntakeSettings(), NotifySettings()):
        async for client in _client(other):
            await _refused(client, token)
