"""`make run` keeps serving when a service dies: the launcher starts it again
after a backoff, says so on its console, the other services answer all along,
and nothing the dead service should have done is lost. Its development phone
(mpp_devstack.phone) shows the sign-in codes and WhatsApp replies notify sends
and talks to the WhatsApp assistant from a browser form."""

from __future__ import annotations

import html
import re
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_counter_day import submit_verified
from tests.support.auth import auth
from tests.support.citizen import client_address
from tests.support.http import LIVE, expect
from tests.support.identities import nik, phone
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


async def _shown_for(http: httpx.AsyncClient, phone_url: str, number: str) -> str:
    """What the development phone page shows for `number` (E.164)."""
    page = await http.get(phone_url)
    assert page.status_code == 200, page.text
    start = page.text.find(f'<section id="n{number.lstrip("+")}">')
    return page.text[start : page.text.index("</section>", start)] if start >= 0 else ""


async def _try_the_development_phone(
    http: httpx.AsyncClient, urls: dict[str, str], phone_url: str
) -> None:
    intake = urls["intake"]
    # A sign-in code asked for on intake shows on the phone page, and it works.
    resident, address = phone(), {"X-Forwarded-For": client_address()}
    asked = await http.post(
        f"{intake}/v1/citizen/signin-codes",
        json={"nik": nik(), "phone": resident.typed, "channel": "sms"},
        headers=address,
    )
    assert asked.status_code == 202, asked.text

    async def code() -> str | None:
        section = await _shown_for(http, phone_url, resident.e164)
        found = re.search(r"SMS received.*?Kode masuk MPP Anda: (\d{6})", section, re.S)
        return found.group(1) if found else None

    sent = await eventually(code, timeout=30, what="the sign-in code on the development phone")
    session = await http.post(
        f"{intake}/v1/citizen/sessions",
        json={"request_id": asked.json()["request_id"], "code": sent},
        headers=address,
    )
    assert session.status_code == 201, session.text

    # "halo" sent with the page's form: the assistant's menu shows on the page
    # (the form waits for it) and Meta's callback from the phone made it delivered.
    sender = phone()
    catalog = expect(await http.get(f"{intake}/v1/services"))["items"]
    sent_form = await http.post(
        f"{phone_url}/whatsapp",
        data={"number": sender.typed, "text": "halo"},
        follow_redirects=True,
    )
    assert sent_form.status_code == 200, sent_form.text

    async def menu() -> str | None:
        section = await _shown_for(http, phone_url, sender.e164)
        found = "WhatsApp received" in section and "notify answered 200" in section
        return section if found and f"1. {html.escape(catalog[0]['name'])}" in section else None

    section = await eventually(menu, timeout=30, what="the menu on the development phone")
    assert "Halo! Ini layanan WhatsApp MPP Kabupaten Kediri." in section
    assert section.index("WhatsApp received") < section.index("sent from this phone")

    async def delivered() -> bool:
        logged = await http.post(
            f"{urls['notify']}/v1/notifications/search",
            json={"recipient": sender.e164},
            headers=auth("frontdesk"),
        )
        return [m["status"] for m in expect(logged)["items"]] == ["delivered"]

    await eventually(delivered, timeout=30, what="the menu delivered")


async def test_a_killed_service_comes_back_and_nothing_is_lost(tmp_path: Path) -> None:
    with launched(tmp_path / "run") as run:
        urls = run.urls()
        assert set(urls) == {"intake", "documents", "complaints", "notify"}, run.console()
        phone_url = run.wait_for(r"^\s+(http://\S+)/\s+the development phone").group(1)
        async with httpx.AsyncClient(timeout=20, limits=LIVE) as http:
            await _try_the_development_phone(http, urls, phone_url)

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
