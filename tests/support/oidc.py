"""The district's OpenID Connect provider, faked on loopback: a real HTTP
server (pytest-httpserver) publishing a discovery document and a JWKS of keys
generated in the test, and minting tokens signed with them.

- `Provider.start()` serves `<issuer>/.well-known/openid-configuration` and
  `<issuer>/jwks`; `jwks_requests` and `discovery_requests` count the calls;
- keys are RSA (RS256), EC P-256 (ES256) and Ed25519 (EdDSA), each with its
  own `kid`; `rotate(alg)` publishes a new key (a new `kid`) in place of the
  old one, as a provider does when it rotates;
- `token(*roles, ...)` mints a token as Keycloak would (roles under
  `realm_access.roles`, the counter and OPD as claims), for any audience,
  issuer, algorithm or key; `unpublished_key(alg)` makes a key the server
  never publishes.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

ALGORITHMS = ("RS256", "ES256", "EdDSA")
REALM_PATH = "/realms/mpp"
_kids = itertools.count(1)

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


@dataclass(frozen=True)
class SigningKey:
    kid: str
    alg: str
    private: PrivateKey

    @classmethod
    def generate(cls, alg: str) -> SigningKey:
        private: PrivateKey
        if alg == "RS256":
            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif alg == "ES256":
            private = ec.generate_private_key(ec.SECP256R1())
        elif alg == "EdDSA":
            private = ed25519.Ed25519PrivateKey.generate()
        else:
            raise ValueError(alg)
        return cls(kid=f"{alg.lower()}-{next(_kids)}", alg=alg, private=private)

    def jwk(self) -> dict[str, Any]:
        public = self.private.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            found = RSAAlgorithm.to_jwk(public, as_dict=True)
        elif isinstance(public, ec.EllipticCurvePublicKey):
            found = ECAlgorithm.to_jwk(public, as_dict=True)
        else:
            found = OKPAlgorithm.to_jwk(public, as_dict=True)
        return {**found, "kid": self.kid, "use": "sig", "alg": self.alg}


class Provider:
    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.issuer = server.url_for(REALM_PATH).rstrip("/")
        self.jwks_url = f"{self.issuer}/jwks"
        self.keys: dict[str, SigningKey] = {alg: SigningKey.generate(alg) for alg in ALGORITHMS}
        self.extra_published: list[SigningKey] = []
        # An encryption key the services must skip, as Keycloak publishes one.
        self.encryption_jwk = {
            **SigningKey.generate("RS256").jwk(),
            "kid": "enc-1",
            "use": "enc",
            "alg": "RSA-OAEP",
        }
        self.jwks_requests = 0
        self.discovery_requests = 0
        self._lock = threading.Lock()
        server.expect_request(
            f"{REALM_PATH}/.well-known/openid-configuration"
        ).respond_with_handler(self._discovery)
        server.expect_request(f"{REALM_PATH}/jwks").respond_with_handler(self._jwks)

    @classmethod
    def start(cls) -> Provider:
        server = HTTPServer(host="127.0.0.1", port=0)
        server.start()
        return cls(server)

    def stop(self) -> None:
        self.server.clear()
        if self.server.is_running():
            self.server.stop()

    def _discovery(self, _request: Request) -> Response:
        with self._lock:
            self.discovery_requests += 1
        document = {"issuer": self.issuer, "jwks_uri": self.jwks_url}
        return Response(json.dumps(document), content_type="application/json")

    def _jwks(self, _request: Request) -> Response:
        with self._lock:
            self.jwks_requests += 1
            published = [*self.keys.values(), *self.extra_published]
        document = {"keys": [k.jwk() for k in published] + [self.encryption_jwk]}
        return Response(json.dumps(document), content_type="application/json")

    def rotate(self, alg: str) -> SigningKey:
        """A new key (new `kid`) for `alg` replaces the published one."""
        fresh = SigningKey.generate(alg)
        with self._lock:
            self.keys[alg] = fresh
        return fresh

    def settings_env(self, audience: str | None = None) -> dict[str, str]:
        env = {"OIDC_ISSUER": self.issuer}
        if audience:
            env["OIDC_AUDIENCE"] = audience
        return env

    def token(
        self,
        *roles: str,
        audience: str,
        subject: str = "officer-oidc",
        alg: str = "RS256",
        key: SigningKey | None = None,
        issuer: str | None = None,
        counter: str | None = None,
        opd: str | None = None,
        ttl_seconds: int = 600,
        **claims: Any,
    ) -> str:
        """A token as the provider mints it (Keycloak's claim layout)."""
        signing = key or self.keys[alg]
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": issuer or self.issuer,
            "aud": audience,
            "sub": subject,
            "iat": now,
            "exp": now + ttl_seconds,
            "realm_access": {"roles": list(roles)},
            "preferred_username": subject,
        }
        if counter:
            payload["counter"] = counter
        if opd:
            payload["opd"] = opd
        payload.update(claims)
        return jwt.encode(
            payload, signing.private, algorithm=signing.alg, headers={"kid": signing.kid}
        )

    @staticmethod
    def unpublished_key(alg: str = "RS256") -> SigningKey:
        return SigningKey.generate(alg)
