"""The benchmark's load generator honours 503 + Retry-After: a refused request
is counted as refused (neither an answer nor an error) and sent again, the
same body, after the seconds asked for."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from tests.bench.loadgen import LoadParams, retry_after_seconds, run_load


@pytest.fixture
async def refusing_once() -> AsyncIterator[tuple[str, Counter[str]]]:
    """A server refusing each body's first POST with 503 + Retry-After: 0 and
    creating it on the second; the URL and the POSTs per NIK."""
    seen: Counter[str] = Counter()

    async def applications(request: web.Request) -> web.Response:
        nik = json.loads(await request.read())["nik"]
        seen[nik] += 1
        if seen[nik] == 1:
            return web.json_response(
                {"code": "overloaded", "detail": "busy", "retry_after": 0},
                status=503,
                headers={"Retry-After": "0"},
            )
        return web.json_response({"id": f"app-{nik}"}, status=201)

    app = web.Application()
    app.router.add_post("/v1/applications", applications)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/v1/applications", seen
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("rate", [None, 40.0])
async def test_refused_requests_are_counted_apart_and_sent_again(
    refusing_once: tuple[str, Counter[str]], rate: float | None
) -> None:
    url, seen = refusing_once
    params = LoadParams(url=url, token="t", concurrency=2, warmup=0.0, duration=0.5, rate=rate)

    result = await run_load(params)

    assert result.errors == {}
    assert result.created_total > 0
    # Every created request was refused once, then sent again with its body.
    assert result.refused_total >= result.created_total
    assert sum(1 for n in seen.values() if n == 2) == result.created_total
    assert all(n <= 2 for n in seen.values())
    assert 0 < result.refused <= result.refused_total
    assert len(result.latencies) <= result.created_total


def test_retry_after_is_read_in_seconds() -> None:
    assert retry_after_seconds("2") == 2.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("Fri, 04 Dec 2026 20:00:00 GMT") is None
