"""Every dependency of every route is a coroutine function (or a class, or an
object with an async `__call__`, like FastAPI's security schemes): FastAPI
runs a plain `def` dependency in its thread pool, two thread hops on each
request for what is a lookup of the app's state."""

from __future__ import annotations

import importlib
import inspect

import pytest

from tests.routes import api_routes, dependency_calls
from tests.unit.test_route_protection import SERVICES


def _runs_on_the_loop(call: object) -> bool:
    return (
        inspect.isclass(call)
        or inspect.iscoroutinefunction(call)
        or inspect.iscoroutinefunction(type(call).__call__)
    )


@pytest.mark.parametrize("package", SERVICES)
def test_no_route_dependency_runs_in_the_thread_pool(package: str) -> None:
    app = importlib.import_module(f"{package}.main").create_app()
    routes = api_routes(app.routes)
    assert routes
    threaded = sorted(
        {
            f"{call.__module__}.{getattr(call, '__qualname__', call)}"
            for route in routes
            for call in dependency_calls(route.dependant)
            if not _runs_on_the_loop(call)
        }
    )
    assert threaded == [], f"plain `def` dependencies (make them `async def`): {threaded}"
