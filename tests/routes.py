"""Walking the services' routes, shared by the route-protection test, the
authorization matrix and the API fuzzer."""

from __future__ import annotations

from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute


def api_routes(routes: list[Any]) -> list[APIRoute]:
    """Every APIRoute, also inside included routers (kept nested by FastAPI)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif (inner := getattr(route, "original_router", None)) is not None:
            found.extend(api_routes(inner.routes))
    return found


def dependency_calls(dependant: Dependant) -> list[Any]:
    """Every dependency callable of a route, depth first."""
    found: list[Any] = []
    for sub in dependant.dependencies:
        found.append(sub.call)
        found.extend(dependency_calls(sub))
    return found
