"""The one place a service learns who its client is: an ASGI middleware,
installed by `mpp_shared.service` in every service, that replaces the
request's `client` (and `scheme`) by what the trusted proxies forwarded
(`mpp_shared.proxies`, TRUSTED_PROXIES). uvicorn's own proxy handling is off
(`serve`), so FORWARDED_ALLOW_IPS means nothing here.

Everything downstream (the rate limits, the sign-in's address limits) reads
`request.client` through `request_client_address`.
"""

from __future__ import annotations

from fastapi import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from mpp_shared.proxies import (
    ProxyHeader,
    TrustedProxies,
    client_address,
    forwarded_hops,
    forwarded_proto,
)


class ClientAddress:
    def __init__(self, app: ASGIApp, *, trusted: TrustedProxies, header: ProxyHeader) -> None:
        self.app = app
        self.trusted = trusted
        self.header = header.encode()
        self.proto_header = b"x-forwarded-proto" if header == "x-forwarded-for" else self.header

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        peer = scope.get("client")
        if scope["type"] in ("http", "websocket") and peer and self.trusted.trusts(peer[0]):
            headers = scope.get("headers") or []
            values = [v.decode("latin-1") for k, v in headers if k == self.header]
            kind: ProxyHeader = "forwarded" if self.header == b"forwarded" else "x-forwarded-for"
            client = client_address(peer[0], forwarded_hops(values, kind), self.trusted)
            scope = dict(scope)
            if client is not None and client != peer[0]:
                scope["client"] = (client, 0)
            protos = [v.decode("latin-1") for k, v in headers if k == self.proto_header]
            if (scheme := forwarded_proto(protos, kind)) is not None:
                scope["scheme"] = (
                    scheme if scope["type"] == "http" else scheme.replace("http", "ws")
                )
        await self.app(scope, receive, send)


def request_client_address(request: Request) -> str:
    """The client's address as the trusted proxies tell it ("unknown" without one)."""
    return request.client.host if request.client else "unknown"
