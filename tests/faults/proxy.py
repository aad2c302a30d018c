"""A small asyncio TCP proxy for cutting, stalling and slowing connections.

Put it between the services and the broker (and tell the broker to advertise
the proxy's port, so clients that bootstrap through it come back through it).

`TcpProxy` runs on the caller's event loop; `ThreadedTcpProxy` runs the same
proxy on an event loop of its own in a thread, so that a test loop busy with
its load generator does not slow the connections it carries.

Modes, switchable at any time with `set_mode`:
- "pass": bytes flow both ways, each chunk delayed by `latency` seconds;
- "blackhole": connections are accepted and read, but nothing is forwarded
  and nothing is answered, like a peer that vanished without a FIN. A
  connection that lost bytes this way never forwards again (its byte stream
  has a hole), so clients must time out and reconnect, as they would after a
  real partition;
- "reset": every open connection is closed with a TCP RST (SO_LINGER 0) and
  every new one is reset as soon as it is accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

log = logging.getLogger(__name__)

Mode = Literal["pass", "blackhole", "reset"]
MODES: tuple[Mode, ...] = ("pass", "blackhole", "reset")
_CHUNK = 65536
T = TypeVar("T")


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST instead of FIN: linger on, timeout 0, then abort."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


@dataclass
class ProxyStats:
    accepted: int = 0
    reset: int = 0
    forwarded_bytes: int = 0
    dropped_bytes: int = 0


@dataclass(eq=False)
class _Connection:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    broken: bool = False  # lost bytes in a blackhole: never forwards again
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def reset(self) -> None:
        _reset(self.client)
        if self.upstream is not None:
            _reset(self.upstream)
        for task in self.tasks:
            task.cancel()


class TcpProxy:
    def __init__(
        self,
        target_host: str,
        target_port: int,
        listen_port: int = 0,
        *,
        listen_host: str = "127.0.0.1",
    ) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.listen_host = listen_host
        self._listen_port = listen_port
        self.mode: Mode = "pass"
        self.latency = 0.0
        self.stats = ProxyStats()
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()

    @property
    def port(self) -> int:
        if self._server is None:
            return self._listen_port
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def address(self) -> str:
        return f"{self.listen_host}:{self.port}"

    @property
    def open_connections(self) -> int:
        return len(self._connections)

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._accept, self.listen_host, self._listen_port, reuse_address=True
        )
        self._listen_port = self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in list(self._connections):
            conn.reset()
        self._connections.clear()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    async def __aenter__(self) -> TcpProxy:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def set_mode(self, mode: Mode, *, latency: float | None = None) -> None:
        """Switch mode (and optionally latency); "reset" also kills every open connection."""
        if mode not in MODES:
            raise ValueError(f"unknown proxy mode {mode!r}; one of {MODES}")
        self.mode = mode
        if latency is not None:
            self.set_latency(latency)
        if mode == "reset":
            for conn in list(self._connections):
                self.stats.reset += 1
                conn.reset()
            self._connections.clear()
        log.info("proxy %s -> %s mode %s", self.port, self.target_port, mode)

    def set_latency(self, seconds: float) -> None:
        """Seconds added to every chunk, each way (ordering is kept)."""
        if seconds < 0:
            raise ValueError("latency cannot be negative")
        self.latency = seconds

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats.accepted += 1
        if self.mode == "reset":
            self.stats.reset += 1
            _reset(writer)
            return
        conn = _Connection(client=writer)
        self._connections.add(conn)
        try:
            if self.mode == "blackhole":
                conn.broken = True
                await self._pump(conn, reader, None)
                return
            try:
                up_reader, up_writer = await asyncio.open_connection(
                    self.target_host, self.target_port
                )
            except OSError:
                _reset(writer)
                return
            conn.upstream = up_writer
            if conn not in self._connections:  # reset while connecting
                conn.reset()
                return
            conn.tasks = [
                asyncio.create_task(self._pump(conn, reader, up_writer)),
                asyncio.create_task(self._pump(conn, up_reader, writer)),
            ]
            # Either direction ending ends the connection (Kafka never half-closes).
            await asyncio.wait(conn.tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in conn.tasks:
                task.cancel()
            await asyncio.gather(*conn.tasks, return_exceptions=True)
            self._connections.discard(conn)
            for w in (conn.client, conn.upstream):
                if w is not None and not w.transport.is_closing():
                    w.close()

    async def _pump(
        self,
        conn: _Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter | None,
    ) -> None:
        """Read chunks; forward each `latency` seconds after it arrived, or drop it."""
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
        sender = asyncio.create_task(self._send(queue, writer)) if writer is not None else None
        try:
            while True:
                try:
                    data = await reader.read(_CHUNK)
                except (ConnectionError, OSError):
                    break
                if not data:
                    break
                if self.mode != "pass" or conn.broken or writer is None:
                    conn.broken = True
                    self.stats.dropped_bytes += len(data)
                    continue
                queue.put_nowait((time.monotonic() + self.latency, data))
        except asyncio.CancelledError:
            if sender is not None:
                sender.cancel()
            raise
        queue.put_nowait(None)
        if sender is not None:
            await sender  # what is in flight still arrives, `latency` late

    async def _send(
        self, queue: asyncio.Queue[tuple[float, bytes] | None], writer: asyncio.StreamWriter | None
    ) -> None:
        assert writer is not None
        while (item := await queue.get()) is not None:
            due, data = item
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                writer.write(data)
                await writer.drain()
            except (ConnectionError, OSError):
                return
            self.stats.forwarded_bytes += len(data)


class ThreadedTcpProxy:
    """A `TcpProxy` on its own event loop in a daemon thread; same controls, sync."""

    def __init__(self, target_host: str, target_port: int, listen_port: int = 0) -> None:
        self.proxy = TcpProxy(target_host, target_port, listen_port)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.proxy.port

    @property
    def address(self) -> str:
        return self.proxy.address

    @property
    def stats(self) -> ProxyStats:
        return self.proxy.stats

    @property
    def mode(self) -> Mode:
        return self.proxy.mode

    @property
    def open_connections(self) -> int:
        return self._run(self._read(lambda: self.proxy.open_connections))

    def start(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="tcp-proxy", daemon=True)
        self._thread.start()
        self._run(self.proxy.start())

    def stop(self) -> None:
        if self._loop is None:
            return
        self._run(self.proxy.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        self._loop.close()
        self._loop = None

    def set_mode(self, mode: Mode, *, latency: float | None = None) -> None:
        self._run(self._read(lambda: self.proxy.set_mode(mode, latency=latency)))

    def set_latency(self, seconds: float) -> None:
        self._run(self._read(lambda: self.proxy.set_latency(seconds)))

    @staticmethod
    async def _read(fn: Callable[[], T]) -> T:
        return fn()

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` on the proxy's loop and wait for it (its errors are raised here)."""
        assert self._loop is not None, "proxy not started"
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)
