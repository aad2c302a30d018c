"""`make run` keeps serving when a service dies: the launcher starts it again
after a backoff, says so on its console, the other services answer all along,
and nothing the dead service should have done is lost."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_counter_day import submit_verified
from tests.support.auth import auth
from tests.support.http import expect
from tests.support.identities import nik
from tests.support.launcher import launched
from tests.support.polling import eventually

pytestmark = pytest.mark.e2e


async def _job_of(http: httpx.AsyncClient, documents: str, app: dict[str, Any]) -> Any:
    async def job() -> dict[str, Any] | None:
        answer = await http.get(
            f"{documents}/v1/jobs",
            params={"application_id": app["id"]},
            headers=auth("production"),
        )
        items: list[dict[str, Any]] = expect(answer)["items"]
        return items[0] if items else None

    return await eventually(job, timeout=60, what=f"the job of {app['tracking_code']}")


async def test_a_killed_service_comes_back_and_nothing_is_lost(tmp_path: Path) -> None:
    with launched(tmp_path / "run") as run:
        urls = run.urls()
        assert set(urls) == {"intake", "documents", "complaints", "notify"}, run.console()
        async with httpx.AsyncClient(timeout=20) as http:
            before = await submit_verified(http, urls["intake"], nik())
            await _job_of(http, urls["documents"], before)

            seen = len(run.lines)
            documents = run.service_process("documents")
            documents.send_signal(signal.SIGKILL)
            run.wait_for(r"documents: exited \(killed by signal 9\)", timeout=30, after=seen)

            # The counters go on while documents is down.
            during = await submit_verified(http, urls["intake"], nik())
            for name in ("intake", "complaints", "notify"):
                expect(await http.get(f"{urls[name]}/health/ready"))

            run.wait_for(r"documents: started again \(restart 1\)", timeout=30, after=seen)
            run.wait_for(r"documents: back and ready", timeout=90, after=seen)
            assert run.service_process("documents").pid != documents.pid

            # What was verified while it was down reaches production now.
            job = await _job_of(http, urls["documents"], during)
            assert job["tracking_code"] == during["tracking_code"]
            assert (await _job_of(http, urls["documents"], before))["id"] != job["id"]
        assert "intake: exited" not in run.console()
    assert run.process.returncode == 0, run.console()[-3000:]
    assert "stopped." in run.console()
