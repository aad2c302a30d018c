"""Bearer tokens and the refusal of development secrets in production."""

from __future__ import annotations

import base64
import os
import secrets
import time
from typing import Any

import jwt
import pytest
from pydantic import ValidationError

from mpp_notify.settings import NotifySettings
from mpp_shared.auth import Principal, Role, decode_token, mint_token
from mpp_shared.pii import generate_seal_keypair
from mpp_shared.settings import (
    DEV_JWT_SECRET,
    DEV_PII_ENCRYPTION_KEY,
    DEV_PII_INDEX_KEY,
    DEV_SEAL_PRIVATE_KEY,
    DEV_SEAL_PUBLIC_KEY,
    ServiceSettings,
)

SECRET = "unit-test-secret-" + "x" * 32
SECRET_ENV = [
    "MPP_ENV",
    "JWT_SECRET",
    "JWT_ISSUER",
    "PII_ENCRYPTION_KEY",
    "PII_INDEX_KEY",
    "NOTIFY_SEAL_PUBLIC_KEY",
    "NOTIFY_SEAL_PRIVATE_KEY",
]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SECRET_ENV:
        monkeypatch.delenv(name, raising=False)


def _b64key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


# Any: the values are splatted into a settings class whose keyword parameters
# also include pydantic-settings' own typed options (`_case_sensitive`, ...).
def real_secrets() -> dict[str, Any]:
    _, public = generate_seal_keypair()
    return {
        "jwt_secret": secrets.token_urlsafe(48),
        "pii_encryption_key": _b64key(),
        "pii_index_key": _b64key(),
        "notify_seal_public_key": public,
    }


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
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        ServiceSettings(mpp_env="production")


def test_production_from_the_environment_refuses_placeholders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MPP_ENV", "production")
    with pytest.raises(ValidationError, match="JWT_SECRET must be set"):
        ServiceSettings()


@pytest.mark.parametrize(
    ("field", "placeholder"),
    [
        ("jwt_secret", "changeme"),
        ("jwt_secret", "change-me"),
        ("jwt_secret", ""),
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
    return NotifySettings(
        mpp_env="production",
        **{**real_secrets(), "notify_seal_public_key": public},
        notify_seal_private_key=private,
        **values,
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
