"""Fixtures of the fault-injection suite: one FaultStack per test module (its
own PostgreSQL, broker and services, never the session's servers), healed by
each case before it ends."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.faults.harness import FaultStack
from tests.faults.journeys import JourneyLoad
from tests.faults.scan import assert_no_clear_personal_data


@pytest.fixture(scope="module")
def fault_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    stack = FaultStack(tmp_path_factory.mktemp("faults"))
    try:
        stack.start()
        yield stack
        assert_no_clear_personal_data(stack)
    finally:
        stack.stop()


@pytest.fixture(autouse=True)
async def _no_load_outlives_its_case() -> AsyncIterator[None]:
    """A case that failed before draining its journey load: the load ends
    with the case instead of running on into the next ones."""
    yield
    await JourneyLoad.end_leftovers()


@pytest.fixture
async def healthy_stack(fault_stack: FaultStack) -> AsyncIterator[FaultStack]:
    """The module's FaultStack, healed after the case whatever it left broken."""
    await fault_stack.heal()
    yield fault_stack
    await JourneyLoad.end_leftovers()  # before healing: no load while it heals
    await fault_stack.heal()


@pytest.fixture
def figures_stack(fault_stack: FaultStack) -> FaultStack:
    """The stack whose workdir keeps a case's figures: a module running its
    own stack overrides this fixture."""
    return fault_stack


@pytest.fixture
def figures(request: pytest.FixtureRequest, figures_stack: FaultStack) -> Iterator[dict[str, Any]]:
    """What a case measured; printed and appended to <stack workdir>/figures.jsonl."""
    found: dict[str, Any] = {}
    yield found
    if found:
        line = json.dumps({"case": request.node.name, **found}, default=str)
        print(f"\nfigures: {line}")
        with (figures_stack.workdir / "figures.jsonl").open("a") as out:
            out.write(line + "\n")
