"""The HTTP transport of webhook deliveries: every connection goes through
the address guard (`webhooks.addresses`).

httpx hands the connection to httpcore, which asks its network backend to
connect to the URL's host. `GuardedBackend` resolves that name once, checks
every address it got, and opens the TCP connection to a checked address
itself; httpcore then starts TLS on that connection with the NAME as server
name (SNI and certificate check) and sends the name in the Host header, so a
receiver behind a shared TLS front still gets its own. Nothing resolves the
name a second time, so a resolver answering differently on the next lookup
(DNS rebinding) cannot slip a private address in between the check and the
connection. Redirects are never followed (`channels.http.new_client`), and
proxies from the environment are not used (an explicit transport has none).

A refused address raises `AddressRefused`, which httpx lets through as it is
(it is not one of httpcore's errors): the sender records it as a refused
attempt. A name that does not resolve is a connection error, retried like
any other.
"""

from __future__ import annotations

import typing

import httpcore
import httpx

from mpp_notify.webhooks.addresses import AddressGuard, Unresolvable


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to addresses the guard let through."""

    def __init__(
        self, guard: AddressGuard, inner: httpcore.AsyncNetworkBackend | None = None
    ) -> None:
        self.guard = guard
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await self.guard.resolve(host, port)
        except Unresolvable as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        options = list(socket_options or ())
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # resolve() never answers with no address
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks are never delivered over a Unix socket")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (request and answer mapping, its errors) on a
    connection pool whose network backend is a `GuardedBackend`."""

    def __init__(self, guard: AddressGuard) -> None:
        # One TLS context (httpx's defaults: certifi, or SSL_CERT_FILE /
        # SSL_CERT_DIR), for both pools: building one is not cheap.
        ssl_context = httpx.create_ssl_context()
        super().__init__(verify=ssl_context)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=GuardedBackend(guard),
        )
