"""Server-rendered public pages: the one place pages are made.

Citizens read these pages on cheap phones and on a waiting-room screen, so
they work without JavaScript, in Bahasa Indonesia unless the reader asks for
English (`?lang=en`, or a browser that prefers English), with real headings,
labels and enough contrast. Each service keeps its own templates in
`mpp_<svc>/api/pages/templates/`; they extend `base.html` here, which holds
the header, the language switch, the footer links between the services' pages
and the style sheet.

In a template, `t("Indonesian", "English")` picks the reader's language and
`urls.intake` / `urls.documents` / `urls.complaints` are the public addresses
of the services' pages (settings `PUBLIC_INTAKE_URL` and the others).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

import jinja2
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from mpp_shared.errors import Language, Refusal
from mpp_shared.settings import ServiceSettings
from mpp_shared.web.errors import request_language

# No script, no frame, no outside resource: a page is its HTML, its inline
# style and its inline images (QR codes as data: URIs).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    # A tracking or complaint code in the address never travels to another site.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


@dataclass(frozen=True)
class PublicUrls:
    """Where each service's public pages are reached from outside."""

    intake: str
    documents: str
    complaints: str

    @classmethod
    def of(cls, settings: ServiceSettings) -> PublicUrls:
        return cls(
            intake=settings.public_intake_url.rstrip("/"),
            documents=settings.public_documents_url.rstrip("/"),
            complaints=settings.public_complaints_url.rstrip("/"),
        )


def page_language(request: Request) -> Language:
    """`?lang=en|id` first (the switch on every page), then the browser's."""
    asked = request.query_params.get("lang", "").lower()
    if asked in ("id", "en"):
        return "en" if asked == "en" else "id"
    return request_language(request)


class Pages:
    """The template environment of one service's pages."""

    def __init__(self, package: str, settings: ServiceSettings) -> None:
        self.urls = PublicUrls.of(settings)
        self.office_name = settings.office_name
        self.env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(
                [
                    jinja2.PackageLoader(package, "api/pages/templates"),
                    jinja2.PackageLoader("mpp_shared.web", "templates"),
                ]
            ),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def render(
        self,
        request: Request,
        template: str,
        *,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        language = page_language(request)
        html = self.env.get_template(template).render(
            lang=language,
            t=lambda id_text, en_text: en_text if language == "en" else id_text,
            urls=self.urls,
            office_name=self.office_name,
            switch_url=_switch_url(request, "id" if language == "en" else "en"),
            other_lang="id" if language == "en" else "en",
            **context,
        )
        return HTMLResponse(
            html, status_code=status_code, headers={**SECURITY_HEADERS, **(headers or {})}
        )

    def refusal(self, request: Request, refusal: Refusal, *, status_code: int) -> HTMLResponse:
        """A friendly page for a refusal (an unknown code, a mistyped one)."""
        language = page_language(request)
        return self.render(
            request,
            "message.html",
            status_code=status_code,
            title="Tidak ditemukan" if status_code == 404 else "Periksa kembali",
            title_en="Not found" if status_code == 404 else "Please check",
            message=refusal.message_en if language == "en" else refusal.message_id,
        )


def app_pages(request: Request) -> Pages:
    """The service's pages, made once with its app (`create_service_app(pages=...)`)."""
    pages: Pages = request.app.state.pages
    return pages


async def _pages_dependency(request: Request) -> Pages:
    return app_pages(request)


PagesDep = Annotated[Pages, Depends(_pages_dependency)]


def _switch_url(request: Request, language: Language) -> str:
    query = {k: v for k, v in request.query_params.items() if k != "lang"}
    query["lang"] = language
    return f"{request.url.path}?{urlencode(query)}"
