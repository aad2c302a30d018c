"""Reading the services' answers in tests.

``expect(answer, status=200)`` returns the answer's JSON (None when it has
no body) when the answer has `status` (one status or a tuple of them), and
fails the test otherwise with the request, the status and the body the
service answered (its field and reason), never with a KeyError further on.

``LIVE`` are the connection limits of every test client of a running
service: idle connections are dropped well before uvicorn closes them (after
5 s). With httpx's default (also 5 s), a request now and then went out on a
connection the server was closing at that moment and failed with "Server
disconnected without sending a response".
"""

from __future__ import annotations

from typing import Any

import httpx

LIVE = httpx.Limits(keepalive_expiry=2.0)


def expect(answer: httpx.Response, status: int | tuple[int, ...] = 200) -> Any:
    wanted = (status,) if isinstance(status, int) else status
    if answer.status_code not in wanted:
        request = answer.request
        raise AssertionError(
            f"{request.method} {request.url.path} answered {answer.status_code}, "
            f"expected {' or '.join(map(str, wanted))}: {answer.text[:2000]}"
        )
    return answer.json() if answer.content else None
