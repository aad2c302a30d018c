"""Keys rotating under load (docs/ARCHITECTURE.md, "Keys that rotate"): the
services start on the single-key settings (key id 1) and serve journeys; they
move to a ring whose new key 2 writes; then each service's rotation command
runs while journeys keep flowing. Nothing is lost (the fault suite's
invariants), every resident stays searchable by NIK throughout, and at the
end every row is under key 2 and readable with key 2 alone.

Its own FaultStack (the services' keys change, which no other case should
see)."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import sys
import time
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest

from mpp_devstack.stack import SERVICES
from mpp_shared.pii import FieldCipher, field_key_id, index_key_id
from mpp_shared.settings import DEV_PII_ENCRYPTION_KEY, DEV_PII_INDEX_KEY
from tests.faults.harness import FaultStack
from tests.faults.invariants import check_invariants
from tests.faults.journeys import JourneyLoad
from tests.faults.scan import assert_no_clear_personal_data
from tests.support.auth import auth
from tests.support.http import LIVE

pytestmark = pytest.mark.faults

NEW_ENCRYPTION_KEY = base64.b64encode(os.urandom(32)).decode()
NEW_INDEX_KEY = base64.b64encode(os.urandom(32)).decode()
RING = {
    "PII_ENCRYPTION_KEYS": f"2:{NEW_ENCRYPTION_KEY},1:{DEV_PII_ENCRYPTION_KEY}",
    "PII_INDEX_KEYS": f"2:{NEW_INDEX_KEY},1:{DEV_PII_INDEX_KEY}",
}
AFTER = FieldCipher({2: NEW_ENCRYPTION_KEY}, {2: NEW_INDEX_KEY})


@pytest.fixture(scope="module")
def rotation_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    stack = FaultStack(tmp_path_factory.mktemp("rotation"))
    try:
        stack.start()
        yield stack
        assert_no_clear_personal_data(stack)
    finally:
        stack.stop()


@pytest.fixture
def figures_stack(rotation_stack: FaultStack) -> FaultStack:
    """The suite's `figures` are kept on this module's stack."""
    return rotation_stack


async def _found(client: httpx.AsyncClient, stack: FaultStack, nik: str) -> bool:
    answer = await client.post(
        f"{stack.url('intake')}/v1/applications/search",
        json={"nik": nik},
        headers=auth("verifier"),
    )
    return answer.status_code == 200 and answer.json()["total"] >= 1


async def _rotate(stack: FaultStack, name: str) -> tuple[int, str]:
    """The service's own command, in the service's environment."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        f"mpp_{name}.rotate_keys",
        "--batch-size",
        "5",
        env=dict(stack.services[name].env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_rotation_while_journeys_flow_loses_nothing_and_search_holds(
    rotation_stack: FaultStack, figures: dict[str, Any]
) -> None:
    stack = rotation_stack
    # Under key 1: a first load of journeys, finished.
    before = JourneyLoad(stack, rate=3.0)
    before.start()
    await asyncio.sleep(4.0)
    await before.drain(90)
    await check_invariants(stack, before)
    early = [j.nik for j in before.journeys if j.application_id][:12]
    assert len(early) >= 8

    # Every service moves to the ring, the new key writing.
    for name in SERVICES:
        stack.services[name].env.update(RING)
        await stack.restart(name)

    during = JourneyLoad(stack, rate=3.0)
    during.start()
    misses: list[str] = []
    searches = 0
    rotating = True

    async def keep_searching() -> None:
        nonlocal searches
        async with httpx.AsyncClient(timeout=20, limits=LIVE) as client:
            while rotating:
                for nik in early:
                    searches += 1
                    if not await _found(client, stack, nik):
                        misses.append(nik[:4])
                await asyncio.sleep(0.05)

    searcher = asyncio.create_task(keep_searching())
    await asyncio.sleep(1.0)
    started = time.monotonic()
    outputs = {}
    for name in SERVICES:
        code, printed = await _rotate(stack, name)
        assert code == 0, printed
        outputs[name] = printed
    figures["rotation_seconds"] = round(time.monotonic() - started, 1)
    rotating = False
    await searcher
    await during.drain(90)
    report = await check_invariants(stack, during)
    figures["journeys"] = before.completed + report.applications
    figures["searches_during_rotation"] = searches
    assert not during.unexpected, during.unexpected[:10]
    assert searches >= len(early)
    assert not misses, f"{len(misses)} of {searches} searches by NIK missed"
    moved = re.search(r"intake applications: (\d+) rows to move", outputs["intake"])
    assert moved and int(moved.group(1)) >= len(before.accepted), outputs["intake"]
    assert "rows/s" in outputs["intake"]
    assert "notify delivery_log: " in outputs["notify"]

    # Every row under key 2, readable with key 2 alone; every resident found.
    conn = await asyncpg.connect(stack.dsn("intake"))
    try:
        rows = await conn.fetch("SELECT nik_enc, nik_index, name_enc FROM applications")
    finally:
        await conn.close()
    assert len(rows) >= len(before.accepted) + len(during.accepted)
    for row in rows:
        assert field_key_id(row["nik_enc"]) == field_key_id(row["name_enc"]) == 2
        assert index_key_id(row["nik_index"]) == 2
        AFTER.decrypt(row["nik_enc"], context="nik")
    conn = await asyncpg.connect(stack.dsn("notify"))
    try:
        logged = await conn.fetch("SELECT recipient_enc, recipient_index FROM delivery_log")
    finally:
        await conn.close()
    assert logged
    for row in logged:
        if row["recipient_enc"] is not None:
            AFTER.decrypt(row["recipient_enc"], context="recipient-address")
            assert index_key_id(row["recipient_index"]) == 2
    async with httpx.AsyncClient(timeout=20, limits=LIVE) as client:
        for j in [*before.journeys, *during.journeys]:
            if j.application_id:
                assert await _found(client, stack, j.nik)
