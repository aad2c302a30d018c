"""The officers' work queue and the OPD's own queue, over HTTP on the running
stack (GET /v1/complaints, GET /v1/complaints/{id}).

One set of complaints is made for the module, assigned to two OPDs made up
for it (so the rest of the session's complaints never show in its filters):

    a   pungli, web            -> OPD A, then the clock passes its follow-up deadline (overdue)
    b1  pelayanan, mpp_desk    -> OPD A, anonymous, with a name, phone and e-mail
    b2  keterlambatan, web     -> OPD A, confidential, with a name, phone and e-mail;
                                  started and answered by OPD A's system (responded)
    c   pungli, whatsapp       -> OPD A, answered, closed by its reporter (closed)
    d   sikap_petugas, sms     -> OPD B
    e   lainnya, web           -> not assigned (received)
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from mpp_devstack.stack import Stack
from tests.support.auth import auth
from tests.support.clock import ServiceClock
from tests.support.http import expect
from tests.support.identities import Phone, email, phone

NAME = "Kartika Sari Dewi"
OFFICER = auth("complaint_officer")
DESCRIPTION = "Antrean di loket sangat lama dan tidak tertib"


def opd_auth(opd: str | None) -> dict[str, str]:
    return auth("opd_system", subject=f"opd-{(opd or 'none').lower()}", counter=None, opd=opd)


@dataclass
class World:
    url: str
    opd_a: str
    opd_b: str
    ids: dict[str, str]  # name in the docstring -> complaint id
    codes: dict[str, str]
    phone: Phone
    email: str
    opd_answers: list[str]  # OPD A's system's answers when it started and answered b2

    def names(self, items: list[dict[str, Any]]) -> list[str]:
        """The items as the docstring's names (others' complaints as '?')."""
        by_id = {v: k for k, v in self.ids.items()}
        return [by_id.get(i["id"], "?") for i in items]

    def identity(self) -> tuple[str, ...]:
        """Every form of the reporter's identity that was filed."""
        return (
            NAME,
            "Kartika",
            self.phone.typed,
            self.phone.e164,
            self.phone.international,
            self.email,
        )


async def _file(http: httpx.AsyncClient, url: str, **body: Any) -> dict[str, Any]:
    answer = await http.post(f"{url}/v1/complaints", json={"description": DESCRIPTION, **body})
    filed: dict[str, Any] = expect(answer, 201)
    return filed


async def _move(
    http: httpx.AsyncClient,
    url: str,
    cid: str,
    action: str,
    body: dict[str, Any],
    headers: dict[str, str] = OFFICER,
) -> dict[str, Any]:
    answer = await http.post(f"{url}/v1/complaints/{cid}/{action}", json=body, headers=headers)
    state: dict[str, Any] = expect(answer)
    return state


async def _assign(http: httpx.AsyncClient, url: str, cid: str, opd: str) -> dict[str, Any]:
    await _move(http, url, cid, "verification", {"decision": "verified"})
    return await _move(http, url, cid, "assignment", {"opd": opd})


@pytest.fixture(scope="module")
async def world(stack: Stack, http: httpx.AsyncClient, service_clock: ServiceClock) -> World:
    url = stack.services["complaints"].url
    tag = uuid.uuid4().hex[:8].upper()
    opd_a, opd_b = f"QA_{tag}", f"QB_{tag}"
    reporter_phone, reporter_email = phone(), email("pelapor")
    identity = {"reporter_name": NAME, "phone": reporter_phone.typed, "email": reporter_email}
    filed: dict[str, dict[str, Any]] = {}

    filed["a"] = await _file(http, url, category="pungli", channel="web")
    assigned = await _assign(http, url, filed["a"]["id"], opd_a)
    # The whole stack moves past a's follow-up deadline; what is filed from
    # now on has deadlines later than a's.
    service_clock.travel_to(datetime.fromisoformat(assigned["step_due_at"]) + timedelta(seconds=1))

    filed["b1"] = await _file(
        http, url, category="pelayanan", channel="mpp_desk", anonymous=True, **identity
    )
    await _assign(http, url, filed["b1"]["id"], opd_a)
    filed["b2"] = await _file(
        http, url, category="keterlambatan", channel="web", confidential=True, **identity
    )
    await _assign(http, url, filed["b2"]["id"], opd_a)
    opd_answers = [
        json.dumps(await _move(http, url, filed["b2"]["id"], action, body, opd_auth(opd_a)))
        for action, body in (("progress", {}), ("response", {"text": "Dokumen sudah dicetak."}))
    ]
    filed["c"] = await _file(http, url, category="pungli", channel="whatsapp")
    await _assign(http, url, filed["c"]["id"], opd_a)
    await _move(http, url, filed["c"]["id"], "progress", {})
    await _move(http, url, filed["c"]["id"], "response", {"text": "Sudah ditindak tegas."})
    closed = await _move(
        http,
        url,
        filed["c"]["id"],
        "closure",
        {"complaint_code": filed["c"]["complaint_code"], "rating": 5},
        {},
    )
    assert closed["status"] == "closed"
    filed["d"] = await _file(http, url, category="sikap_petugas", channel="sms")
    await _assign(http, url, filed["d"]["id"], opd_b)
    filed["e"] = await _file(http, url, category="lainnya", channel="web")
    return World(
        url=url,
        opd_a=opd_a,
        opd_b=opd_b,
        ids={k: v["id"] for k, v in filed.items()},
        codes={k: v["complaint_code"] for k, v in filed.items()},
        phone=reporter_phone,
        email=reporter_email,
        opd_answers=opd_answers,
    )


async def _queue(
    http: httpx.AsyncClient, world: World, params: Any, headers: dict[str, str] = OFFICER
) -> dict[str, Any]:
    answer: dict[str, Any] = expect(
        await http.get(f"{world.url}/v1/complaints", params=params, headers=headers)
    )
    return answer


async def test_the_queue_puts_the_overdue_first_then_by_deadline(
    world: World, http: httpx.AsyncClient
) -> None:
    queue = await _queue(http, world, {"opd": world.opd_a})
    assert world.names(queue["items"]) == ["a", "b1", "b2", "c"]
    assert queue["sort"] == "overdue_first" and queue["total"] == 4
    a, b1, b2, c = queue["items"]
    assert a["overdue"] is True and a["step"] == "follow_up"
    assert [i["overdue"] for i in (b1, b2, c)] == [False, False, False]
    # Deadlines soonest first: b1's follow-up before b2's auto-close; c has none.
    due = [datetime.fromisoformat(i["step_due_at"]) for i in (a, b1, b2)]
    assert due == sorted(due) and len(set(due)) == 3
    assert (b1["step"], b2["step"], c["step"], c["step_due_at"]) == (
        "follow_up",
        "auto_close",
        None,
        None,
    )
    assert [i["status"] for i in queue["items"]] == ["assigned", "assigned", "responded", "closed"]
    assert (b1["anonymous"], b2["confidential"]) == (True, True)
    assert b1["channel"] == "mpp_desk" and c["complaint_code"] == world.codes["c"]
    assert set(a) == {
        "id",
        "complaint_code",
        "kind",
        "category",
        "channel",
        "status",
        "opd",
        "step",
        "step_due_at",
        "overdue",
        "anonymous",
        "confidential",
        "tracking_code",
        "created_at",
    }
    assert queue["counts"]["overdue"] == 1
    by_status = queue["counts"]["by_status"]
    assert {k: v for k, v in by_status.items() if v} == {"assigned": 2, "responded": 1, "closed": 1}
    assert set(by_status) >= {"received", "verified", "rejected", "in_progress", "reopened"}

    newest = await _queue(http, world, {"opd": world.opd_a, "sort": "newest"})
    assert world.names(newest["items"]) == ["c", "b2", "b1", "a"]
    oldest = await _queue(http, world, {"opd": world.opd_a, "sort": "oldest"})
    assert world.names(oldest["items"]) == ["a", "b1", "b2", "c"]

    # Across every OPD, the overdue come before the rest.
    everything = await _queue(http, world, {"page_size": 200})
    flags = [i["overdue"] for i in everything["items"]]
    assert flags == sorted(flags, reverse=True) and True in flags
    assert everything["total"] >= 6 and everything["counts"]["overdue"] >= 1


async def test_the_queue_filters_by_status_category_opd_channel_and_overdue(
    world: World, http: httpx.AsyncClient
) -> None:
    a = {"opd": world.opd_a}
    comma = await _queue(http, world, {**a, "status": "assigned,responded"})
    assert world.names(comma["items"]) == ["a", "b1", "b2"] and comma["total"] == 3
    # The per-status counts leave the status filter out; the overdue count keeps it.
    assert comma["counts"]["by_status"]["closed"] == 1 and comma["counts"]["overdue"] == 1
    repeated = await _queue(
        http, world, [("opd", world.opd_a), ("status", "closed"), ("status", "responded")]
    )
    assert world.names(repeated["items"]) == ["b2", "c"] and repeated["counts"]["overdue"] == 0
    assert world.names((await _queue(http, world, {**a, "category": "pungli"}))["items"]) == [
        "a",
        "c",
    ]
    by_channel = await _queue(http, world, {**a, "channel": "mpp_desk"})
    assert world.names(by_channel["items"]) == ["b1"] and by_channel["total"] == 1
    assert by_channel["counts"]["by_status"]["assigned"] == 1
    overdue = await _queue(http, world, {**a, "overdue": "true"})
    assert world.names(overdue["items"]) == ["a"] and overdue["counts"]["overdue"] == 1
    on_time = await _queue(http, world, {**a, "overdue": "false"})
    assert world.names(on_time["items"]) == ["b1", "b2", "c"] and on_time["counts"]["overdue"] == 0
    b = await _queue(http, world, {"opd": world.opd_b})
    assert world.names(b["items"]) == ["d"] and b["items"][0]["opd"] == world.opd_b
    received = await _queue(
        http, world, {"status": "received", "category": "lainnya", "page_size": 200}
    )
    assert world.ids["e"] in {i["id"] for i in received["items"]}
    assert all(i["status"] == "received" and i["opd"] is None for i in received["items"])

    for params, field in (({"status": "waiting"}, "status"), ({"channel": "fax"}, "channel")):
        refused = await http.get(
            f"{world.url}/v1/complaints",
            params=params,
            headers={**OFFICER, "Accept-Language": "en"},
        )
        body = expect(refused, 422)
        assert [e["field"] for e in body["errors"]] == [field]
        assert body["errors"][0]["message"].startswith("must be one of:")


async def test_the_queue_pages(world: World, http: httpx.AsyncClient) -> None:
    pages = [
        await _queue(http, world, {"opd": world.opd_a, "page": n, "page_size": 2})
        for n in (1, 2, 3)
    ]
    assert [world.names(p["items"]) for p in pages] == [["a", "b1"], ["b2", "c"], []]
    assert {(p["total"], p["page_size"], p["counts"]["overdue"]) for p in pages} == {(4, 2, 1)}
    assert [p["page"] for p in pages] == [1, 2, 3]
    for params in ({"page": 0}, {"page_size": 0}, {"page_size": 201}, {"page": 10**9}):
        expect(await http.get(f"{world.url}/v1/complaints", params=params, headers=OFFICER), 422)


async def test_supervisors_and_admins_list_the_queue_too(
    world: World, http: httpx.AsyncClient
) -> None:
    for role in ("supervisor", "admin"):
        queue = await _queue(http, world, {"opd": world.opd_a}, auth(role))
        assert world.names(queue["items"]) == ["a", "b1", "b2", "c"]


async def test_an_opd_lists_and_reads_only_its_own_complaints(
    world: World, http: httpx.AsyncClient
) -> None:
    own = await _queue(http, world, {}, opd_auth(world.opd_a))
    assert world.names(own["items"]) == ["a", "b1", "b2", "c"] and own["total"] == 4
    assert {i["opd"] for i in own["items"]} == {world.opd_a}
    assert own["counts"]["by_status"]["assigned"] == 2 and own["counts"]["overdue"] == 1
    same = await _queue(http, world, {"opd": world.opd_a, "overdue": "true"}, opd_auth(world.opd_a))
    assert world.names(same["items"]) == ["a"]
    asked_other = await http.get(
        f"{world.url}/v1/complaints", params={"opd": world.opd_b}, headers=opd_auth(world.opd_a)
    )
    assert expect(asked_other, 403)["code"] == "other_opd"
    theirs = await _queue(http, world, {}, opd_auth(world.opd_b))
    assert world.names(theirs["items"]) == ["d"]

    read = expect(
        await http.get(f"{world.url}/v1/complaints/{world.ids['a']}", headers=opd_auth(world.opd_a))
    )
    assert read["id"] == world.ids["a"] and read["opd"] == world.opd_a
    assert read["description"] == DESCRIPTION and read["overdue"] is True

    # Another OPD's complaint, one not assigned yet and one that does not exist
    # answer the same 404: an OPD learns nothing of ids that are not its own.
    unknown = await http.get(
        f"{world.url}/v1/complaints/{uuid.uuid4()}", headers=opd_auth(world.opd_a)
    )
    for name in ("d", "e"):
        hidden = await http.get(
            f"{world.url}/v1/complaints/{world.ids[name]}", headers=opd_auth(world.opd_a)
        )
        assert hidden.status_code == 404 and hidden.json() == unknown.json(), name


async def test_an_opd_cannot_work_another_opds_complaint(
    world: World, http: httpx.AsyncClient
) -> None:
    d = world.ids["d"]
    before = expect(await http.get(f"{world.url}/v1/complaints/{d}", headers=OFFICER))
    for action, body in (("progress", {}), ("response", {"text": "Bukan urusan kami."})):
        refused = await http.post(
            f"{world.url}/v1/complaints/{d}/{action}", json=body, headers=opd_auth(world.opd_a)
        )
        assert expect(refused, 404)["code"] == "not_found", action
        assert "current_state" not in refused.json()
    after = expect(await http.get(f"{world.url}/v1/complaints/{d}", headers=OFFICER))
    assert (after["status"], after["version"]) == (before["status"], before["version"])
    # Its own OPD works it.
    started = await _move(http, world.url, d, "progress", {}, opd_auth(world.opd_b))
    assert started["status"] == "in_progress"


async def test_an_opd_token_naming_no_opd_is_refused_in_both_languages(
    world: World, http: httpx.AsyncClient
) -> None:
    calls = [
        ("GET", "/v1/complaints", None),
        ("GET", f"/v1/complaints/{world.ids['a']}", None),
        ("POST", f"/v1/complaints/{world.ids['b1']}/progress", {}),
        ("POST", f"/v1/complaints/{world.ids['b1']}/response", {"text": "Jawaban tanpa OPD"}),
    ]
    for method, path, body in calls:
        details = []
        for language in ("id", "en"):
            answer = await http.request(
                method,
                world.url + path,
                json=body,
                headers={**opd_auth(None), "Accept-Language": language},
            )
            refusal = expect(answer, 403)
            assert refusal["code"] == "opd_missing", path
            details.append(refusal["detail"])
        assert "klaim opd" in details[0] and "claim opd" in details[1], details
    state = expect(await http.get(f"{world.url}/v1/complaints/{world.ids['b1']}", headers=OFFICER))
    assert state["status"] == "assigned"


async def test_the_reporters_identity_never_reaches_the_opd_or_the_queue(
    world: World, http: httpx.AsyncClient
) -> None:
    texts = []
    for name in ("b1", "b2"):  # anonymous; confidential
        for headers in (opd_auth(world.opd_a), OFFICER):
            answer = await http.get(f"{world.url}/v1/complaints/{world.ids[name]}", headers=headers)
            expect(answer)
            texts.append(answer.text)
    for headers in (opd_auth(world.opd_a), OFFICER):
        listed = await http.get(
            f"{world.url}/v1/complaints", params={"opd": world.opd_a}, headers=headers
        )
        assert world.ids["b1"] in {i["id"] for i in expect(listed)["items"]}
        texts.append(listed.text)
    texts += world.opd_answers
    assert len(texts) == 8
    for text in texts:
        for value in world.identity():
            assert value not in text, value
        assert "reporter" not in json.dumps(json.loads(text))
