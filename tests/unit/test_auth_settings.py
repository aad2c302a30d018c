"""Bearer tokens and the refusal of development secrets in production."""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any

import jwt
import pytest
from pydantic import ValidationError

from mpp_complaints.settings import ComplaintsSettings
from mpp_intake.settings import IntakeSettings
from mpp_notify.settings import NotifySettings
from mpp_shared.auth import (
    CHANNEL_TOKEN,
    CITIZEN_SESSION,
    Principal,
    Role,
    decode_token,
    generate_channel_keypair,
    mint_purpose_token,
    mint_token,
)
from mpp_shared.oidc import claim_at, roles_from
from mpp_shared.pii import generate_seal_keypair
from mpp_shared.settings import (
    DEV_CHANNEL_TOKEN_PRIVATE_KEY,
    DEV_CHANNEL_TOKEN_PUBLIC_KEY,
    DEV_CITIZEN_SESSION_SECRET,
    DEV_JWT_SECRET,
    DEV_PII_ENCRYPTION_KEY,
    DEV_PII_INDEX_KEY,
    DEV_SEAL_PRIVATE_KEY,
    DEV_SEAL_PUBLIC_KEY,
    ServiceSettings,
)
from mpp_shared.tokens import TokenVerifier
from tests.support.secrets import real_secrets

SECRET = "unit-test-secret-" + "x" * 32
SECRET_ENV = [
    "MPP_ENV",
    "JWT_SECRET",
    "JWT_ISSUER",
    "OIDC_ISSUER",
    "OIDC_AUDIENCE",
    "CITIZEN_SESSION_SECRET",
    "CHANNEL_TOKEN_PRIVATE_KEY",
    "CHANNEL_TOKEN_PUBLIC_KEY",
    "PII_ENCRYPTION_KEY",
    "PII_INDEX_KEY",
    "NOTIFY_SEAL_PUBLIC_KEY",
    "NOTIFY_SEAL_PRIVATE_KEY",
]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SECRET_ENV:
        monkeypatch.delenv(name, raising=False)


# --- tokens -------------------------------------------------------------------


def test_token_round_trip() -> None:
    token = mint_token(
        SECRET, subject="officer-12", roles=["verifier", "frontdesk"], counter="MPP-03"
    )
    principal = decode_token(token, SECRET)
    assert principal == Principal(
        subject="officer-12", roles=frozenset({Role.VERIFIER, Role.FRONTDESK}), counter="MPP-03"
    )
    assert principal.has_any(frozenset({Role.VERIFIER}))
    assert not principal.has_any(frozenset({Role.ADMIN, Role.PICKUP}))


def test_token_claims() -> None:
    before = int(time.time())
    token = mint_token(SECRET, subject="s", roles=["pickup"], ttl_seconds=600)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], issuer="mpp")
    assert claims["iss"] == "mpp"
    assert claims["sub"] == "s"
    assert claims["exp"] - claims["iat"] == 600
    assert before <= claims["iat"] <= int(time.time())
    assert "counter" not in claims
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_token_without_counter() -> None:
    principal = decode_token(mint_token(SECRET, subject="bot", roles=["opd_system"]), SECRET)
    assert principal.counter is None
    assert principal.roles == frozenset({Role.OPD_SYSTEM})


def test_unknown_roles_are_dropped() -> None:
    token = mint_token(SECRET, subject="s", roles=["wizard", "supervisor", "ADMIN", ""])
    assert decode_token(token, SECRET).roles == frozenset({Role.SUPERVISOR})


def test_token_with_no_known_role_has_none() -> None:
    token = mint_token(SECRET, subject="s", roles=["root"])
    principal = decode_token(token, SECRET)
    assert principal.roles == frozenset()
    assert not principal.has_any(frozenset(Role))


def test_wrong_secret_is_refused() -> None:
    token = mint_token(SECRET, subject="s", roles=["admin"])
    with pytest.raises(jwt.InvalidSignatureError):
        decode_token(token, "another-secret-" + "y" * 32)


def test_expired_token_is_refused() -> None:
    token = mint_token(SECRET, subject="s", roles=["admin"], ttl_seconds=-60)
    with pytest.raises(jwt.ExpiredSignatureError):
        decode_token(token, SECRET)


def test_wrong_issuer_is_refused() -> None:
    token = mint_token(SECRET, subject="s", roles=["admin"], issuer="someone-else")
    with pytest.raises(jwt.InvalidIssuerError):
        decode_token(token, SECRET)
    # the same token is fine for whoever expects that issuer
    assert decode_token(token, SECRET, issuer="someone-else").subject == "s"


def test_token_without_issuer_is_refused() -> None:
    token = jwt.encode(
        {"sub": "s", "roles": ["admin"], "exp": int(time.time()) + 60}, SECRET, algorithm="HS256"
    )
    with pytest.raises(jwt.MissingRequiredClaimError):
        decode_token(token, SECRET)


def test_unsigned_token_is_refused() -> None:
    token = jwt.encode(
        {"sub": "s", "roles": ["admin"], "iss": "mpp", "exp": int(time.time()) + 60},
        None,  # type: ignore[arg-type]  # the "none" algorithm signs with no key
        algorithm="none",
    )
    with pytest.raises(jwt.InvalidTokenError):
        decode_token(token, SECRET)


def test_tampered_payload_is_refused() -> None:
    token = mint_token(SECRET, subject="s", roles=["frontdesk"])
    header, _, signature = token.split(".")
    forged_claims = jwt.encode(
        {"sub": "s", "roles": ["admin"], "iss": "mpp", "exp": int(time.time()) + 60},
        "w" * 32,
        algorithm="HS256",
    ).split(".")[1]
    with pytest.raises(jwt.InvalidSignatureError):
        decode_token(f"{header}.{forged_claims}.{signature}", SECRET)


# --- settings -----------------------------------------------------------------


def test_development_accepts_the_defaults() -> None:
    settings = ServiceSettings()
    assert settings.mpp_env == "development"
    assert settings.jwt_secret == DEV_JWT_SECRET
    assert settings.pii_encryption_key == DEV_PII_ENCRYPTION_KEY
    assert settings.pii_index_key == DEV_PII_INDEX_KEY
    assert settings.notify_seal_public_key == DEV_SEAL_PUBLIC_KEY
    assert len(base64.b64decode(settings.pii_encryption_key)) == 32
    assert ServiceSettings(mpp_env="test").jwt_secret == DEV_JWT_SECRET


def test_development_defaults_are_distinct() -> None:
    defaults = {
        DEV_PII_ENCRYPTION_KEY,
        DEV_PII_INDEX_KEY,
        DEV_SEAL_PRIVATE_KEY,
        DEV_SEAL_PUBLIC_KEY,
    }
    assert len(defaults) == 4


def test_production_refuses_placeholder_secrets() -> None:
    with pytest.raises(ValidationError, match="PII_ENCRYPTION_KEY"):
        ServiceSettings(mpp_env="production")


def test_production_from_the_environment_refuses_placeholders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MPP_ENV", "production")
    with pytest.raises(ValidationError, match="PII_ENCRYPTION_KEY"):
        ServiceSettings()


def test_production_needs_the_identity_provider() -> None:
    values = {**real_secrets(), "oidc_issuer": None}
    with pytest.raises(ValidationError, match="OIDC_ISSUER must name"):
        ServiceSettings(mpp_env="production", **values)


def test_production_no_longer_needs_jwt_secret() -> None:
    """Production accepts no development token, so its secret is unused there."""
    settings = ServiceSettings(mpp_env="production", **{**real_secrets(), "jwt_secret": ""})
    assert TokenVerifier.from_settings(settings).dev_secret is None


@pytest.mark.parametrize(
    ("field", "placeholder"),
    [
        ("pii_encryption_key", DEV_PII_ENCRYPTION_KEY),
        ("pii_index_key", DEV_PII_INDEX_KEY),
        ("notify_seal_public_key", DEV_SEAL_PUBLIC_KEY),
        ("pii_index_key", DEV_JWT_SECRET),
    ],
)
def test_production_names_the_placeholder_secret(field: str, placeholder: str) -> None:
    values = {**real_secrets(), field: placeholder}
    with pytest.raises(ValidationError, match=field.upper()):
        ServiceSettings(mpp_env="production", **values)


def test_production_builds_with_real_secrets() -> None:
    values = real_secrets()
    settings = ServiceSettings(mpp_env="production", **values)
    assert settings.mpp_env == "production"
    assert settings.jwt_secret == values["jwt_secret"]


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(ValidationError):
        ServiceSettings(mpp_env="staging")


def test_notify_refuses_the_placeholder_private_key_in_production() -> None:
    with pytest.raises(ValidationError, match="NOTIFY_SEAL_PRIVATE_KEY"):
        NotifySettings(mpp_env="production", **real_secrets())


def _notify_in_production(**values: Any) -> NotifySettings:
    private, public = generate_seal_keypair()
    channel_private, _ = generate_channel_keypair()
    return NotifySettings(
        mpp_env="production",
        **{**real_secrets(), "notify_seal_public_key": public},
        notify_seal_private_key=private,
        **{"channel_token_private_key": channel_private, **values},
    )


def test_notify_builds_with_a_real_private_key_in_production() -> None:
    settings = _notify_in_production(smtp_host="smtp.kedirikab.go.id")
    assert settings.notify_seal_private_key != DEV_SEAL_PRIVATE_KEY
    assert settings.service_name == "notify"


def test_notify_in_production_refuses_to_tell_nobody_without_a_word() -> None:
    with pytest.raises(ValidationError, match="NOTIFY_RECORD_ONLY=true") as refused:
        _notify_in_production()
    assert "SMS_GATEWAY_URL, WHATSAPP_PHONE_NUMBER_ID and SMTP_HOST" in str(refused.value)


def test_notify_records_only_when_the_operator_says_so() -> None:
    settings = _notify_in_production(notify_record_only=True)
    assert settings.live_channels() == {}


@pytest.mark.parametrize(
    ("values", "live"),
    [
        ({"sms_gateway_url": "https://sms.example.go.id/send"}, {"sms": "sms_gateway"}),
        (
            {
                "whatsapp_phone_number_id": "1098765",
                "whatsapp_app_secret": "a-real-app-secret",
                "whatsapp_verify_token": "a-real-verify-token",
            },
            {"whatsapp": "whatsapp_cloud"},
        ),
        ({"smtp_host": "smtp.kedirikab.go.id"}, {"email": "smtp"}),
    ],
)
def test_one_real_provider_is_enough_in_production(
    values: dict[str, str], live: dict[str, str]
) -> None:
    assert _notify_in_production(**values).live_channels() == live


def test_development_needs_no_provider() -> None:
    assert NotifySettings().live_channels() == {}


def test_notify_development_default_private_key() -> None:
    assert NotifySettings().notify_seal_private_key == DEV_SEAL_PRIVATE_KEY


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"whatsapp_phone_number_id": "1098765"}, "WHATSAPP_APP_SECRET"),
        (
            {"whatsapp_phone_number_id": "1098765", "whatsapp_app_secret": "a-real-app-secret"},
            "WHATSAPP_VERIFY_TOKEN",
        ),
        (
            {"smtp_host": "smtp.kedirikab.go.id", "sms_delivery_reports": True},
            "SMS_REPORT_TOKEN",
        ),
    ],
)
def test_live_provider_webhooks_need_real_secrets_in_production(
    values: dict[str, Any], named: str
) -> None:
    """The development webhook secrets are public: a live WhatsApp channel (or
    SMS delivery reports) in production needs its own."""
    with pytest.raises(ValidationError, match=named):
        _notify_in_production(**values)


# --- identity provider: claim paths, audiences, the services' own tokens -----


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("realm_access.roles", ["verifier", "offline_access"]),
        ("resource_access.mpp-intake.roles", ["frontdesk"]),
        ("https://mpp.kedirikab.go.id/counter", "KEC-PARE"),
        ("counter", None),
        ("realm_access.missing", None),
        ("realm_access.roles.0", None),
        ("", None),
    ],
)
def test_claim_paths(path: str, expected: Any) -> None:
    claims = {
        "realm_access": {"roles": ["verifier", "offline_access"]},
        "resource_access": {"mpp-intake": {"roles": ["frontdesk"]}},
        "https://mpp.kedirikab.go.id/counter": "KEC-PARE",
    }
    assert claim_at(claims, path) == expected


@pytest.mark.parametrize(
    ("value", "roles"),
    [
        (["verifier", "uma_authorization", "ADMIN", 7], {Role.VERIFIER}),
        ("frontdesk pickup", {Role.FRONTDESK, Role.PICKUP}),
        ("supervisor,admin", {Role.SUPERVISOR, Role.ADMIN}),
        (None, set()),
        ({"admin": True}, set()),
    ],
)
def test_roles_from_a_claim_ignore_unknown_names(value: Any, roles: set[Role]) -> None:
    assert roles_from(value) == frozenset(roles)


def test_the_audience_is_per_service_unless_set() -> None:
    assert IntakeSettings().token_audience() == "mpp-intake"
    assert ComplaintsSettings().token_audience() == "mpp-complaints"
    assert IntakeSettings(oidc_audience="mpp").token_audience() == "mpp"


def test_identity_provider_defaults() -> None:
    settings = ServiceSettings()
    assert settings.oidc_issuer is None and settings.oidc_jwks_url is None
    assert settings.oidc_roles_claim == "realm_access.roles"
    assert settings.jwt_leeway_seconds == 30
    with pytest.raises(ValidationError, match="jwt_leeway_seconds"):
        ServiceSettings(jwt_leeway_seconds=3600)


def test_each_service_verifies_only_its_own_purpose_tokens() -> None:
    assert set(TokenVerifier.from_settings(IntakeSettings()).purposes) == {"mpp-intake"}
    assert set(TokenVerifier.from_settings(ComplaintsSettings()).purposes) == {"mpp-notify"}
    assert TokenVerifier.from_settings(NotifySettings()).purposes == {}
    assert TokenVerifier.from_settings(ServiceSettings()).purposes == {}


def test_a_purpose_token_grants_its_one_role_whatever_it_claims() -> None:
    token = jwt.encode(
        {
            "iss": "mpp-intake",
            "aud": "mpp-intake",
            "sub": "s",
            "exp": int(time.time()) + 60,
            "roles": ["admin", "citizen"],
        },
        DEV_CITIZEN_SESSION_SECRET,
        algorithm="HS256",
    )
    verifier = TokenVerifier.from_settings(IntakeSettings())
    assert asyncio.run(verifier.principal(token)).roles == frozenset({Role.CITIZEN})


def test_purpose_tokens_name_their_service() -> None:
    citizen = mint_purpose_token(
        CITIZEN_SESSION, DEV_CITIZEN_SESSION_SECRET, subject="s", counter="ONLINE", ttl_seconds=60
    )
    claims = jwt.decode(
        citizen, DEV_CITIZEN_SESSION_SECRET, algorithms=["HS256"], audience="mpp-intake"
    )
    assert claims["iss"] == "mpp-intake" and claims["counter"] == "ONLINE"
    channel = mint_purpose_token(
        CHANNEL_TOKEN, DEV_CHANNEL_TOKEN_PRIVATE_KEY, subject="b", ttl_seconds=9
    )
    principal = asyncio.run(TokenVerifier.from_settings(ComplaintsSettings()).principal(channel))
    assert principal.roles == frozenset({Role.CHANNEL}) and principal.counter is None
    assert DEV_CHANNEL_TOKEN_PUBLIC_KEY != DEV_CHANNEL_TOKEN_PRIVATE_KEY


@pytest.mark.parametrize(
    ("settings_class", "field"),
    [
        (IntakeSettings, "citizen_session_secret"),
        (ComplaintsSettings, "channel_token_public_key"),
    ],
)
def test_production_refuses_the_development_purpose_keys(
    settings_class: type[ServiceSettings], field: str
) -> None:
    with pytest.raises(ValidationError, match=field.upper()):
        settings_class(mpp_env="production", **real_secrets())


def test_notify_refuses_the_development_channel_key_in_production() -> None:
    with pytest.raises(ValidationError, match="CHANNEL_TOKEN_PRIVATE_KEY"):
        _notify_in_production(
            smtp_host="smtp.kedirikab.go.id",
            channel_token_private_key=DEV_CHANNEL_TOKEN_PRIVATE_KEY,
        )
