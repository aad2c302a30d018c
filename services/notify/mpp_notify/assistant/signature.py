"""The Cloud API signs every webhook call: `X-Hub-Signature-256:
sha256=<hex HMAC-SHA256 of the raw body with the app secret>`. Checked over
the bytes as received (never a re-serialised body), in constant time."""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def sign(body: bytes, app_secret: str) -> str:
    """The header value Meta sends for `body` (tests and fakes use it too)."""
    return PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(body: bytes, header: str | None, app_secret: str) -> bool:
    if not header or not header.startswith(PREFIX) or not app_secret:
        return False
    return hmac.compare_digest(sign(body, app_secret).encode(), header.strip().lower().encode())
