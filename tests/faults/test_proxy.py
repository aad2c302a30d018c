"""The fault proxy against a tiny echo server: pass, latency, blackhole, reset."""

from __future__ import annotations

import asyncio
import socket
import socketserver
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from tests.faults.proxy import TcpProxy, ThreadedTcpProxy


@dataclass
class Echo:
    server: asyncio.Server
    received: bytearray = field(default_factory=bytearray)
    connections: int = 0

    @property
    def port(self) -> int:
        return int(self.server.sockets[0].getsockname()[1])


@pytest.fixture
async def echo() -> AsyncIterator[Echo]:
    holder: list[Echo] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        holder[0].connections += 1
        try:
            while data := await reader.read(4096):
                holder[0].received.extend(data)
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    holder.append(Echo(server))
    yield holder[0]
    server.close()


@pytest.fixture
async def proxy(echo: Echo) -> AsyncIterator[TcpProxy]:
    async with TcpProxy("127.0.0.1", echo.port) as p:
        yield p


async def _connect(proxy: TcpProxy) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", proxy.port)


async def _roundtrip(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, payload: bytes
) -> bytes:
    writer.write(payload)
    await writer.drain()
    return await asyncio.wait_for(reader.readexactly(len(payload)), 5)


async def test_pass_forwards_both_ways(proxy: TcpProxy, echo: Echo) -> None:
    assert proxy.port != echo.port and proxy.port > 0
    reader, writer = await _connect(proxy)
    payload = bytes(range(256)) * 1000  # several chunks
    assert await _roundtrip(reader, writer, payload) == payload
    assert bytes(echo.received) == payload
    writer.close()


async def test_latency_delays_each_way_and_keeps_order(proxy: TcpProxy) -> None:
    reader, writer = await _connect(proxy)
    assert await _roundtrip(reader, writer, b"warm") == b"warm"
    proxy.set_latency(0.2)
    started = time.monotonic()
    # Ten writes in a row: delayed, not serialised (about 2 x 0.2 s, not 10 x).
    for i in range(10):
        writer.write(f"{i:02d}".encode())
        await writer.drain()
        await asyncio.sleep(0.01)
    answer = await asyncio.wait_for(reader.readexactly(20), 5)
    elapsed = time.monotonic() - started
    assert answer == b"".join(f"{i:02d}".encode() for i in range(10))
    # At least the latency both ways; far less than ten writes one after
    # another would take (10 x 2 x 0.2 s), however busy the machine.
    assert 0.4 <= elapsed < 3.0, elapsed
    proxy.set_latency(0)
    started = time.monotonic()
    assert await _roundtrip(reader, writer, b"fast") == b"fast"
    assert time.monotonic() - started < 0.4 - 0.05  # under the latency it had before
    writer.close()


async def test_blackhole_accepts_reads_and_never_answers(proxy: TcpProxy, echo: Echo) -> None:
    old_reader, old_writer = await _connect(proxy)
    assert await _roundtrip(old_reader, old_writer, b"before") == b"before"

    proxy.set_mode("blackhole")
    old_writer.write(b"lost")
    await old_writer.drain()
    new_reader, new_writer = await _connect(proxy)  # the connect itself succeeds
    new_writer.write(b"also lost")
    await new_writer.drain()
    for reader in (old_reader, new_reader):
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(reader.read(1), 0.5)
    assert bytes(echo.received) == b"before"
    assert proxy.stats.dropped_bytes == len(b"lost") + len(b"also lost")

    # Healed: connections that lost bytes stay silent, new ones work.
    proxy.set_mode("pass")
    old_writer.write(b"after")
    await old_writer.drain()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(old_reader.read(1), 0.5)
    fresh_reader, fresh_writer = await _connect(proxy)
    assert await _roundtrip(fresh_reader, fresh_writer, b"healed") == b"healed"
    for w in (old_writer, new_writer, fresh_writer):
        w.close()


async def test_reset_kills_open_and_new_connections_with_rst(proxy: TcpProxy) -> None:
    reader, writer = await _connect(proxy)
    assert await _roundtrip(reader, writer, b"hello") == b"hello"
    assert proxy.open_connections == 1

    proxy.set_mode("reset")
    with pytest.raises(ConnectionResetError):  # an RST, not an orderly FIN
        await asyncio.wait_for(reader.read(1), 2)
    assert proxy.open_connections == 0

    new_reader, new_writer = await _connect(proxy)
    with pytest.raises(ConnectionResetError):
        await asyncio.wait_for(new_reader.read(1), 2)
    assert proxy.stats.reset == 2

    proxy.set_mode("pass")
    reader, writer = await _connect(proxy)
    assert await _roundtrip(reader, writer, b"again") == b"again"
    writer.close()
    new_writer.close()


async def test_stop_closes_connections_and_the_port(echo: Echo) -> None:
    proxy = TcpProxy("127.0.0.1", echo.port)
    await proxy.start()
    port = proxy.port
    reader, writer = await _connect(proxy)
    assert await _roundtrip(reader, writer, b"x") == b"x"
    await proxy.stop()
    with pytest.raises(ConnectionError):
        await asyncio.wait_for(reader.read(1), 2)
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)
    writer.close()


async def test_unreachable_target_resets_the_client() -> None:
    async with TcpProxy("127.0.0.1", 1) as proxy:  # nothing listens on port 1
        reader, writer = await _connect(proxy)
        with pytest.raises(ConnectionResetError):
            await asyncio.wait_for(reader.read(1), 2)
        writer.close()


def test_unknown_mode_is_refused() -> None:
    proxy = TcpProxy("127.0.0.1", 9)
    with pytest.raises(ValueError, match="unknown proxy mode"):
        proxy.set_mode("drop")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="negative"):
        proxy.set_latency(-1)


def test_threaded_proxy_keeps_forwarding_while_the_caller_blocks() -> None:
    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            while data := self.request.recv(4096):
                self.request.sendall(data)

    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler) as server:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        proxy = ThreadedTcpProxy("127.0.0.1", server.server_address[1])
        proxy.start()
        try:
            # Blocking calls on this thread: the proxy's own loop carries the bytes.
            with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as conn:
                conn.sendall(b"ping")
                assert conn.recv(4) == b"ping"
                assert proxy.open_connections == 1
                proxy.set_mode("reset")
                with pytest.raises(ConnectionResetError):
                    conn.recv(1)
            with pytest.raises(ValueError, match="unknown proxy mode"):
                proxy.set_mode("drop")  # type: ignore[arg-type]
            proxy.set_mode("pass", latency=0.2)
            with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as conn:
                started = time.monotonic()
                conn.sendall(b"pong")
                assert conn.recv(4) == b"pong"
                assert time.monotonic() - started >= 0.4
        finally:
            proxy.stop()
            server.shutdown()
