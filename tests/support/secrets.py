"""Settings values that pass every production check, freshly generated:
tests that ask whether production refuses one thing start from these, so
that only the thing under test is wrong."""

from __future__ import annotations

import base64
import os
import secrets
from typing import Any

from mpp_shared.auth import generate_channel_keypair
from mpp_shared.pii import generate_seal_keypair


def _b64key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


# Any: the values are splatted into a settings class whose keyword parameters
# also include pydantic-settings' own typed options (`_case_sensitive`, ...).
def real_secrets() -> dict[str, Any]:
    """The secrets every service needs in production."""
    _, public = generate_seal_keypair()
    return {
        "jwt_secret": secrets.token_urlsafe(48),
        "pii_encryption_key": _b64key(),
        "pii_index_key": _b64key(),
        "notify_seal_public_key": public,
        "oidc_issuer": "https://sso.kedirikab.go.id/realms/mpp",
        # any fresh Ed25519 private key (base64 raw) signs the audit checkpoints
        "audit_signing_key": generate_channel_keypair()[0],
    }


def intake_secrets() -> dict[str, Any]:
    """real_secrets() and intake's own: the key of its citizen sessions."""
    return {**real_secrets(), "citizen_session_secret": secrets.token_urlsafe(48)}


def complaints_secrets() -> dict[str, Any]:
    """real_secrets() and complaints' own: notify's public channel-token key."""
    return {**real_secrets(), "channel_token_public_key": generate_channel_keypair()[1]}
