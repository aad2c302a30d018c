"""Where the complaints service's own refusals become HTTP answers: the
Open311 facade answers an `Open311Error` (and input FastAPI cannot read) as
an Open311 error list, `[{"code": 404, "description": "..."}]`, in JSON or
XML as the route's suffix says, with the code as HTTP status. Every other
refusal takes the services' shared shape (`mpp_shared.web`)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from mpp_complaints.api.routes.open311.format import to_xml, wants_xml
from mpp_complaints.domain.open311 import Open311Error, validation_description


def error_list(code: int, description: str) -> list[dict[str, Any]]:
    return [{"code": code, "description": description}]


def error_response(code: int, description: str, xml: bool = False) -> Response:
    if xml:
        return Response(
            to_xml("errors", "error", error_list(code, description)),
            status_code=code,
            media_type="text/xml",
        )
    return JSONResponse(status_code=code, content=error_list(code, description))


class Open311Route(APIRoute):
    """Answers every refusal of these routes as an Open311 error list."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except Open311Error as exc:
                return error_response(exc.code, exc.description, wants_xml(request))
            except RequestValidationError as exc:
                return error_response(400, validation_description(exc.errors()), wants_xml(request))

        return handler
