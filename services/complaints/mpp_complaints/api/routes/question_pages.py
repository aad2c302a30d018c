"""The public page of questions and answers, /tanya-jawab (server-rendered,
no script, Bahasa Indonesia unless `?lang=en` or the browser prefers
English): a search form and the published answers that match, which a
citizen reads before asking again. The JSON twin is GET /v1/public/questions.
Nothing on it names a report, its reporter or what the asker wrote."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from mpp_complaints.api.routes.pages import render_page
from mpp_complaints.api.routes.publication import PUBLISHABLE_KINDS
from mpp_complaints.domain.kinds import KIND_WORDS
from mpp_complaints.usecases import publication
from mpp_shared.web import MAX_PAGE, PoolDep
from mpp_shared.web.auth import PUBLIC

router = APIRouter(include_in_schema=False, dependencies=[PUBLIC])
PAGE_SIZE = 10


@router.get("/tanya-jawab", response_class=HTMLResponse)
async def questions_page(
    request: Request,
    pool: PoolDep,
    q: Annotated[str, Query(max_length=200)] = "",
    kind: Annotated[str, Query(max_length=40)] = "",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> HTMLResponse:
    wanted_kind = kind if kind in PUBLISHABLE_KINDS else None
    found = await publication.search(
        pool, q=q.strip() or None, kind=wanted_kind, page=page, page_size=PAGE_SIZE
    )
    kinds = [(k, KIND_WORDS[k]) for k in PUBLISHABLE_KINDS]
    return render_page(
        request,
        "questions.html",
        q=q.strip(),
        kind=wanted_kind or "",
        kinds=kinds,
        kind_words=KIND_WORDS,
        found=found,
        more=page * PAGE_SIZE < found.total,
    )
