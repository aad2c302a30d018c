"""Public pages of the documents service, server-rendered, without script:

- `/verify` (a form; `?code=` redirects to the code's page) and
  `/verify/{code}`: what a document's QR code opens; valid, revoked or
  unknown, in words and colour, the holder masked (the JSON twin is
  GET /v1/verify/{code}, and answers the same);
- `/board/{point_code}`: the waiting room's screen, the tracking codes ready
  at a pickup point, in large type, reloading itself (the JSON twin is
  GET /v1/pickup-points/{code}/ready). No name, no NIK, no masked holder.

An unknown or mistyped code gets a friendly page (404 / 422), never a stack
trace. The JSON twins are not rate limited, so neither are these pages.
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mpp_documents.api.deps import SettingsDep
from mpp_documents.api.routes.board import PUBLIC_BOARD_LIMIT
from mpp_documents.api.routes.verify import verification_answer
from mpp_documents.domain.handover import is_point_code
from mpp_documents.domain.register import is_valid_code, normalise_code, type_name
from mpp_documents.usecases import pickup_board, register
from mpp_shared.errors import NotFound
from mpp_shared.web import PoolDep
from mpp_shared.web.auth import PUBLIC
from mpp_shared.web.pages import PagesDep, page_language
from mpp_shared.wording import in_wib, long_date, time_words

router = APIRouter(include_in_schema=False, dependencies=[PUBLIC])

# Longer than any code anyone would type; what is longer is not looked at.
MAX_TYPED = 64
_PLAIN = re.compile(r"^[A-Z0-9]+$")
NO_STORE = {"Cache-Control": "no-store"}  # a revocation, a new ready code: shown at once


def _keeping_language(request: Request, path: str) -> str:
    """`path`, with the reader's `?lang=` when they chose one."""
    asked = request.query_params.get("lang", "").lower()
    return f"{path}?{urlencode({'lang': asked})}" if asked in ("id", "en") else path


@router.get("/verify", response_class=HTMLResponse)
async def verify_form(
    request: Request, pages: PagesDep, code: Annotated[str | None, Query()] = None
) -> Response:
    """The form; with `?code=`, off to that code's page (303)."""
    if code is None:
        return pages.render(request, "verify_form.html", error=False)
    typed = normalise_code(code) if len(code) <= MAX_TYPED else ""
    if not _PLAIN.match(typed):
        return pages.render(request, "verify_form.html", status_code=422, error=True)
    return RedirectResponse(
        _keeping_language(request, f"/verify/{quote(typed, safe='')}"), status_code=303
    )


@router.get("/verify/{code}", response_class=HTMLResponse)
async def verify_page(request: Request, code: str, pool: PoolDep, pages: PagesDep) -> Response:
    typed = normalise_code(code) if len(code) <= MAX_TYPED else ""
    if not is_valid_code(typed):
        return pages.render(
            request, "verify_problem.html", status_code=422, problem="malformed", code=None
        )
    try:
        document = await register.look_up_code(pool, typed)
    except NotFound:
        return pages.render(
            request,
            "verify_problem.html",
            status_code=404,
            headers=NO_STORE,
            problem="unknown",
            code=typed,
        )
    language = page_language(request)
    answer = verification_answer(document, language)
    return pages.render(
        request,
        "verify_result.html",
        headers=NO_STORE,
        document=answer,
        issued_on=long_date(answer.issued_on, language),
        revoked_on=long_date(answer.revoked_on, language) if answer.revoked_on else None,
    )


@router.get("/board/{point_code}", response_class=HTMLResponse)
async def board_page(
    request: Request, point_code: str, pool: PoolDep, pages: PagesDep, settings: SettingsDep
) -> Response:
    if not is_point_code(point_code):
        upper = point_code.strip().upper()
        if is_point_code(upper):  # typed in lower case: the board of that point
            return RedirectResponse(
                _keeping_language(request, f"/board/{quote(upper, safe='')}"), status_code=303
            )
        return pages.render(request, "board_problem.html", status_code=422)
    language = page_language(request)
    board = await pickup_board.read_public_board(pool, point_code, limit=PUBLIC_BOARD_LIMIT)
    return pages.render(
        request,
        "board.html",
        headers=NO_STORE,
        refresh_seconds=settings.board_refresh_seconds,
        point=board.pickup_point,
        as_of=board.as_of,
        # "09.05 WIB, 4 Maret 2026": read after "Keadaan pukul" / "As of".
        as_of_text=f"{time_words(board.as_of, language)}, "
        f"{long_date(in_wib(board.as_of).date(), language)}",
        count=board.count,
        items=[
            {"code": item.tracking_code, "service": type_name(item.service_code, language)}
            for item in board.items
        ],
        more=board.count - len(board.items),
    )
